import CBLAS

// 2-D convolution and max pooling over NCHW batches. 3×3 convolutions with stride 1 and padding 1
// go through Winograd's F(2×2, 3×3) (Winograd.swift); every other convolution is im2col + SGEMM
// one image at a time: the batch is cut into up to 16 runs of images, handed out to the workers as they come
// free (so a core shared with another process does not hold everyone up), and each run calls
// single-threaded GEMM with its own patch buffer (about 1 MB for 32 channels at 28×28, so it
// stays in L2). Weight gradients are summed per run and the runs' partial sums added in run
// order; the runs depend only on the batch size, so results do not depend on the thread count.

// MARK: - Geometry

/// The shape arithmetic of a square window sliding over `(C, H, W)` images (PyTorch's
/// floor convention): `Ho = ⌊(H + 2·padding − kernel) / stride⌋ + 1`, likewise `Wo`.
public struct WindowGeometry: Sendable, Hashable {
  public var channels: Int
  public var height: Int
  public var width: Int
  public var kernel: Int
  public var padding: Int
  public var stride: Int

  public init(channels: Int, height: Int, width: Int, kernel: Int, padding: Int, stride: Int) {
    precondition(channels > 0 && height > 0 && width > 0, "window over an empty image (\(channels), \(height), \(width))")
    precondition(kernel > 0 && stride > 0 && padding >= 0, "kernel and stride must be positive, padding non-negative")
    self.channels = channels
    self.height = height
    self.width = width
    self.kernel = kernel
    self.padding = padding
    self.stride = stride
  }

  public var outputHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
  public var outputWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
  /// Whether at least one window fits.
  public var isValid: Bool { height + 2 * padding >= kernel && width + 2 * padding >= kernel }
  /// The output columns `ow` whose input column `ow·s − p + j` lies inside `[0, W)`.
  func insideColumns(_ j: Int) -> (first: Int, end: Int) {
    let first = j >= padding ? 0 : (padding - j + stride - 1) / stride
    let last = width - 1 + padding - j  // ow·s ≤ last
    let end = last < 0 ? 0 : min(outputWidth, last / stride + 1)
    return (first, max(first, end))
  }

  /// Rows of the patch matrix: `C·k·k`.
  var patchSize: Int { channels * kernel * kernel }
  /// Columns of the patch matrix: `Ho·Wo`.
  var outputPlane: Int { outputHeight * outputWidth }
}

// MARK: - im2col / col2im

/// Writes one image's patch matrix: `cols[(c·k + i)·k + j, oh·Wo + ow] = x[c, oh·s − p + i, ow·s − p + j]`,
/// zero outside the image. `// x: (C, H, W) -> cols: (C·k·k, Ho·Wo)`
private func im2col(_ x: UnsafePointer<Float>, _ g: WindowGeometry, _ cols: UnsafeMutablePointer<Float>) {
  let (h, w, k, p, s) = (g.height, g.width, g.kernel, g.padding, g.stride)
  let (ho, wo) = (g.outputHeight, g.outputWidth)
  var row = cols
  // Stride 1 with as many output columns as input columns ("same" padding): a patch row is the
  // whole plane shifted by (i − p)·W + (j − p), so one block copy, then zeros where the shift
  // wrapped around a row edge or left the image.
  let shifted = s == 1 && wo == w
  for c in 0..<g.channels {
    let plane = x + c * h * w
    for i in 0..<k {
      for j in 0..<k {
        // Output columns whose input column ow·s − p + j lies inside [0, w).
        let (owFirst, owEnd) = g.insideColumns(j)
        if shifted && owFirst < owEnd {
          let ohFirst = min(ho, max(0, p - i))
          let ohEnd = max(ohFirst, min(ho, h + p - i))
          let delta = (i - p) * w + (j - p)
          // Output indices q in the valid rows whose source q + delta lies inside the plane.
          let first = max(ohFirst * wo, -delta)
          let end = max(first, min(ohEnd * wo, h * w - delta))
          row.update(repeating: 0, count: first)
          (row + first).update(from: plane + first + delta, count: end - first)
          (row + end).update(repeating: 0, count: ho * wo - end)
          zeroEdgeColumns(row, rows: ohFirst..<ohEnd, width: wo, first: owFirst, end: owEnd)
          row += ho * wo
          continue
        }
        for oh in 0..<ho {
          let out = row + oh * wo
          let ih = oh * s - p + i
          if ih < 0 || ih >= h || owFirst >= owEnd {
            out.update(repeating: 0, count: wo)
            continue
          }
          let src = plane + ih * w - p + j
          out.update(repeating: 0, count: owFirst)
          if s == 1 {
            (out + owFirst).update(from: src + owFirst, count: owEnd - owFirst)
          } else {
            for ow in owFirst..<owEnd { out[ow] = src[ow * s] }
          }
          (out + owEnd).update(repeating: 0, count: wo - owEnd)
        }
        row += ho * wo
      }
    }
  }
}

/// The adjoint of `im2col`: adds every patch entry back onto the pixel it was read from.
/// `dx` must be zeroed first. `// cols: (C·k·k, Ho·Wo) -> dx: (C, H, W)`
/// Clobbers `cols` (entries that fall outside the image are zeroed on the way).
private func col2im(_ cols: UnsafeMutablePointer<Float>, _ g: WindowGeometry, _ dx: UnsafeMutablePointer<Float>) {
  let (h, w, k, p, s) = (g.height, g.width, g.kernel, g.padding, g.stride)
  let (ho, wo) = (g.outputHeight, g.outputWidth)
  // The adjoint of im2col's one-copy case: zero the patch entries that wrapped around a row
  // edge (they belong to no pixel), then add the valid block onto the shifted plane in one loop.
  let shifted = s == 1 && wo == w
  var row = cols
  for c in 0..<g.channels {
    let plane = dx + c * h * w
    for i in 0..<k {
      for j in 0..<k {
        let (owFirst, owEnd) = g.insideColumns(j)
        if shifted && owFirst < owEnd {
          let ohFirst = min(ho, max(0, p - i))
          let ohEnd = max(ohFirst, min(ho, h + p - i))
          let delta = (i - p) * w + (j - p)
          zeroEdgeColumns(row, rows: ohFirst..<ohEnd, width: wo, first: owFirst, end: owEnd)
          let first = max(ohFirst * wo, -delta)
          let end = max(first, min(ohEnd * wo, h * w - delta))
          addInPlace(plane + delta + first, row + first, end - first)
          row += ho * wo
          continue
        }
        if owFirst < owEnd {
          for oh in 0..<ho {
            let ih = oh * s - p + i
            if ih < 0 || ih >= h { continue }
            let src = row + oh * wo
            let dst = plane + ih * w - p + j
            if s == 1 {
              addInPlace(dst + owFirst, src + owFirst, owEnd - owFirst)
            } else {
              for ow in owFirst..<owEnd { dst[ow * s] += src[ow] }
            }
          }
        }
        row += ho * wo
      }
    }
  }
}

/// `dst[i] += src[i]` for `i < count`, sixteen lanes at a time (the scalar loop stays scalar:
/// LLVM cannot prove the two pointers do not overlap).
@inline(__always)
private func addInPlace(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
  let (d, s) = (UnsafeMutableRawPointer(dst), UnsafeRawPointer(src))
  var i = 0
  while i + 16 <= count {
    let sum = d.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) + s.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
    d.storeBytes(of: sum, toByteOffset: i * 4, as: SIMD16<Float>.self)
    i += 16
  }
  while i < count {
    dst[i] += src[i]
    i += 1
  }
}

/// `out[i] = y[i] > 0 ? g[i] : 0` (ReLU's backward), eight lanes at a time (a sixteen-lane mask
/// compiles to a loop over its lanes on baseline x86-64; eight lanes are two SSE compares).
@inline(__always)
func maskByPositive(_ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
  let (rg, ry, ro) = (UnsafeRawPointer(g), UnsafeRawPointer(y), UnsafeMutableRawPointer(out))
  var i = 0
  while i + 8 <= count {
    let mask = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) .> 0
    let v = SIMD8<Float>(repeating: 0).replacing(with: rg.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), where: mask)
    ro.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
    i += 8
  }
  while i < count {
    out[i] = y[i] > 0 ? g[i] : 0
    i += 1
  }
}

/// Zeroes columns `..<first` and `end..<width` of each of `rows` in a row-major block. The edges
/// are one or two scalars wide for small kernels: plain stores, because a loop here becomes a
/// `memset` call per row (LLVM's idiom recognition), 16k calls per image for a 32-channel 3×3 layer.
@inline(__always)
private func zeroEdgeColumns(_ block: UnsafeMutablePointer<Float>, rows: Range<Int>, width: Int, first: Int, end: Int) {
  guard first > 0 || end < width else { return }
  for r in rows {
    let out = block + r * width
    if first == 1 {
      out[0] = 0
    } else if first > 1 {
      out.update(repeating: 0, count: first)
    }
    if end == width - 1 {
      out[end] = 0
    } else if end < width - 1 {
      (out + end).update(repeating: 0, count: width - end)
    }
  }
}

/// How many runs a batch of `n` images is cut into: a function of `n` alone (see the top).
private func imageRuns(_ n: Int) -> Int { min(n, 16) }

/// `k = 1, p = 0, s = 1`: the image already is its patch matrix.
private func isPointwise(_ g: WindowGeometry) -> Bool { g.kernel == 1 && g.padding == 0 && g.stride == 1 }

// MARK: - Convolution

/// 2-D cross-correlation (PyTorch's `conv2d`) plus bias:
/// `y[n, f, oh, ow] = b[f] + Σ_{c,i,j} W[f, c, i, j] · x[n, c, oh·s − p + i, ow·s − p + j]` (zero padding).
/// `// x: (N, C, H, W), W: (F, C, k, k), b: (F) -> y: (N, F, Ho, Wo)`
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor, padding: Int, stride: Int) -> Tensor {
  conv2d(x, weight: weight, bias: bias, padding: padding, stride: stride, fusedReLU: false)
}

/// `conv2d`, then, with `fusedReLU`, `y = max(y, 0)` in the same pass, while each image's output
/// is still in cache (a convolution followed by a ReLU layer, as `Sequential` runs it).
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor, padding: Int, stride: Int, fusedReLU: Bool) -> Tensor {
  let g = convolutionGeometry(x, weight, padding: padding, stride: stride)
  let (n, f) = (x.shape[0], weight.shape[0])
  let (inPlane, rows, cols) = (g.channels * g.height * g.width, g.patchSize, g.outputPlane)
  precondition(bias.shape == [f], "conv2d bias must be (\(f)), got \(bias.shape)")
  let outShape = [n, f, g.outputHeight, g.outputWidth]
  guard n > 0 else { return Tensor(zeros: outShape) }
  let runs = imageRuns(n)
  if winogradApplies(g) { return winogradConv2d(x, weight: weight, bias: bias, g, fusedReLU: fusedReLU, runs: runs) }
  return x.scalars.withUnsafeBufferPointer { px in
    weight.scalars.withUnsafeBufferPointer { pw in
      bias.scalars.withUnsafeBufferPointer { pb in
        Tensor(uninitializedShape: outShape) { py in
          // Runs write disjoint images of y.
          nonisolated(unsafe) let (x, w, b, y) = (px.baseAddress!, pw.baseAddress!, pb.baseAddress!, py.baseAddress!)
          OpenBLAS.pinToCallingThread()
          forEachPart(of: n, parts: runs) { _, images in
            let patches = isPointwise(g) ? nil : UnsafeMutablePointer<Float>.allocate(capacity: rows * cols)
            defer { patches?.deallocate() }
            for image in images {
              let xi = x + image * inPlane
              let yi = y + image * f * cols
              if let patches { im2col(xi, g, patches) }
              // (F, C·k·k)·(C·k·k, Ho·Wo) → the image's output planes, in place.
              cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(f), blasint(cols), blasint(rows),
                1, w, blasint(rows), patches.map { UnsafePointer($0) } ?? xi, blasint(cols), 0, yi, blasint(cols))
              for channel in 0..<f {
                let plane = yi + channel * cols
                let bc = b[channel]
                if fusedReLU {
                  for q in 0..<cols { plane[q] = rectified(plane[q] + bc) }
                } else {
                  for q in 0..<cols { plane[q] += bc }
                }
              }
            }
          }
        }
      }
    }
  }
}

/// The backward pass of `conv2d`: accumulates `dW += Σ_n dy_n·colsₙᵀ` and `db += Σ_{n,oh,ow} dy`,
/// and returns `dx = col2im(Wᵀ·dy_n)` per image, or nil when `inputGradient` is false (a first
/// layer). `// dy: (N, F, Ho, Wo), x: (N, C, H, W) -> dx: (N, C, H, W)`
public func conv2dBackward(
  _ dy: Tensor, input x: Tensor, weight: Tensor, padding: Int, stride: Int,
  weightGradient dW: inout Tensor, biasGradient db: inout Tensor, inputGradient: Bool
) -> Tensor? {
  conv2dBackward(
    dy, input: x, weight: weight, padding: padding, stride: stride, reluOutput: nil,
    weightGradient: &dW, biasGradient: &db, inputGradient: inputGradient)
}

/// `conv2dBackward` for `conv2d(..., fusedReLU: true)`: `reluOutput` is that forward's output y,
/// and the gradient used is `dy ⊙ 1[y > 0]` (masked per image, in cache). nil = no ReLU.
public func conv2dBackward(
  _ dy: Tensor, input x: Tensor, weight: Tensor, padding: Int, stride: Int, reluOutput: Tensor?,
  weightGradient dW: inout Tensor, biasGradient db: inout Tensor, inputGradient: Bool
) -> Tensor? {
  let g = convolutionGeometry(x, weight, padding: padding, stride: stride)
  let (n, f) = (x.shape[0], weight.shape[0])
  let (inPlane, rows, cols) = (g.channels * g.height * g.width, g.patchSize, g.outputPlane)
  precondition(dy.shape == [n, f, g.outputHeight, g.outputWidth], "conv2d dy has shape \(dy.shape)")
  precondition(dW.shape == weight.shape && db.shape == [f], "conv2d gradient buffers have the wrong shapes")
  precondition(reluOutput.map { $0.shape == dy.shape } ?? true, "conv2d ReLU output must be shaped like dy")
  let y = reluOutput ?? Tensor(zeros: [0])
  guard n > 0 else { return inputGradient ? Tensor(zeros: x.shape) : nil }
  let runs = imageRuns(n)
  // One partial dW (F, C·k·k) and db (F) per run of images, added in run order afterwards.
  var partialW = [Float](repeating: 0, count: runs * f * rows)
  var partialB = [Float](repeating: 0, count: runs * f)
  var dx = inputGradient ? Tensor(zeros: x.shape) : Tensor(zeros: [0])
  let winograd = winogradApplies(g)
  // Winograd's transformed filters, once for every run; only dx needs them.
  nonisolated(unsafe) let winogradFilters: UnsafeMutablePointer<Float>? = winograd && inputGradient
    ? weight.scalars.withUnsafeBufferPointer { winogradFilterTransform($0.baseAddress!, filters: f, channels: g.channels) }
    : nil
  defer { winogradFilters?.deallocate() }
  x.scalars.withUnsafeBufferPointer { px in
    weight.scalars.withUnsafeBufferPointer { pw in
      dy.scalars.withUnsafeBufferPointer { pdy in
        partialW.withUnsafeMutableBufferPointer { ppw in
          partialB.withUnsafeMutableBufferPointer { ppb in
            dx.scalars.withUnsafeMutableBufferPointer { pdx in
              y.scalars.withUnsafeBufferPointer { pyo in
                // Runs write disjoint images of dx and their own partial sums.
                nonisolated(unsafe) let (x, w, dy, sumW, sumB) = (
                  px.baseAddress!, pw.baseAddress!, pdy.baseAddress!, ppw.baseAddress!, ppb.baseAddress!)
                nonisolated(unsafe) let dx = inputGradient ? pdx.baseAddress : nil
                nonisolated(unsafe) let reluY = reluOutput == nil ? nil : pyo.baseAddress
                OpenBLAS.pinToCallingThread()
                forEachPart(of: n, parts: runs) { part, images in
                  if winograd {
                    winogradConv2dBackward(
                      dy, input: x, filters: winogradFilters, g, filterCount: f, images: images,
                      partialW: sumW + part * f * rows, partialB: sumB + part * f, dx: dx, maskedBy: reluY)
                    return
                  }
                  let pointwise = isPointwise(g)
                  let patches = pointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: rows * cols)
                  let patchGradient = inputGradient && !pointwise ? UnsafeMutablePointer<Float>.allocate(capacity: rows * cols) : nil
                  let masked = reluY == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: f * cols)
                  defer {
                    patches?.deallocate()
                    patchGradient?.deallocate()
                    masked?.deallocate()
                  }
                  let (myW, myB) = (sumW + part * f * rows, sumB + part * f)
                  for image in images {
                    let xi = x + image * inPlane
                    var dyi = dy + image * f * cols
                    if let masked, let reluY {
                      maskByPositive(dyi, reluY + image * f * cols, masked, f * cols)
                      dyi = UnsafePointer(masked)
                    }
                    if let patches { im2col(xi, g, patches) }
                    // (F, Ho·Wo)·(Ho·Wo, C·k·k), accumulated.
                    cblas_sgemm(
                      CblasRowMajor, CblasNoTrans, CblasTrans, blasint(f), blasint(rows), blasint(cols),
                      1, dyi, blasint(cols), patches.map { UnsafePointer($0) } ?? xi, blasint(cols), 1, myW, blasint(rows))
                    for channel in 0..<f { myB[channel] += vectorSum(dyi + channel * cols, cols) }
                    guard let dx else { continue }
                    let dxi = dx + image * inPlane
                    // (C·k·k, F)·(F, Ho·Wo): the patch gradients, folded back onto the image.
                    cblas_sgemm(
                      CblasRowMajor, CblasTrans, CblasNoTrans, blasint(rows), blasint(cols), blasint(f),
                      1, w, blasint(rows), dyi, blasint(cols), 0, patchGradient ?? dxi, blasint(cols))
                    if let patchGradient { col2im(patchGradient, g, dxi) }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  partialW.withUnsafeBufferPointer { ppw in
    partialB.withUnsafeBufferPointer { ppb in
      dW.scalars.withUnsafeMutableBufferPointer { pdw in
        db.scalars.withUnsafeMutableBufferPointer { pdb in
          for part in 0..<runs {
            let (ws, bs) = (ppw.baseAddress! + part * f * rows, ppb.baseAddress! + part * f)
            for q in 0..<(f * rows) { pdw[q] += ws[q] }
            for q in 0..<f { pdb[q] += bs[q] }
          }
        }
      }
    }
  }
  return inputGradient ? dx : nil
}

private func convolutionGeometry(_ x: Tensor, _ weight: Tensor, padding: Int, stride: Int) -> WindowGeometry {
  precondition(x.shape.count == 4, "conv2d input must be (N, C, H, W), got \(x.shape)")
  precondition(weight.shape.count == 4 && weight.shape[2] == weight.shape[3], "conv2d weight must be (F, C, k, k), got \(weight.shape)")
  precondition(weight.shape[1] == x.shape[1], "conv2d weight has \(weight.shape[1]) input channels, input has \(x.shape[1])")
  let g = WindowGeometry(
    channels: x.shape[1], height: x.shape[2], width: x.shape[3], kernel: weight.shape[2], padding: padding, stride: stride)
  precondition(g.isValid, "conv2d kernel \(g.kernel) with padding \(padding) does not fit a \(g.height)×\(g.width) image")
  return g
}

// MARK: - Max pooling

/// Max pooling with window = stride = `size` (floor mode: trailing rows/columns that do not fill
/// a window are dropped): `y[n, c, oh, ow] = max_{i,j < size} x[n, c, oh·size + i, ow·size + j]`.
/// Also returns, per output, the index within its input plane of the (first) maximum, for backward.
/// `// x: (N, C, H, W) -> y: (N, C, H/size, W/size)`
public func maxPool2d(_ x: Tensor, size: Int) -> (output: Tensor, argmax: [Int32]) {
  precondition(x.shape.count == 4, "maxpool2d input must be (N, C, H, W), got \(x.shape)")
  let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
  precondition(size > 0 && h >= size && w >= size, "maxpool2d window \(size) does not fit \(h)×\(w)")
  precondition(h * w <= Int(Int32.max), "maxpool2d plane too large")
  let (ho, wo) = (h / size, w / size)
  let outShape = [x.shape[0], x.shape[1], ho, wo]
  guard planes > 0 else { return (Tensor(zeros: outShape), []) }
  var argmax = [Int32](repeating: 0, count: planes * ho * wo)
  let y = x.scalars.withUnsafeBufferPointer { px in
    argmax.withUnsafeMutableBufferPointer { pa in
      Tensor(uninitializedShape: outShape) { py in
        nonisolated(unsafe) let (x, y, a) = (px.baseAddress!, py.baseAddress!, pa.baseAddress!)
        forEachPart(of: planes, parts: planes * h * w >= 1 << 15 ? elementwiseParts : 1) { _, range in
          for plane in range {
            let (src, dst, idx) = (x + plane * h * w, y + plane * ho * wo, a + plane * ho * wo)
            for oh in 0..<ho {
              // 2×2 windows `floatLanes` at a time when a row has that many (the last run moved
              // back to end with the row, recomputing a few windows); otherwise one by one.
              if size == 2 && wo >= floatLanes {
                for first in stride(from: 0, to: wo, by: floatLanes) {
                  let ow = min(first, wo - floatLanes)
                  maxPool2x2(src, width: w, row: oh, column: ow, into: dst + oh * wo + ow, argmax: idx + oh * wo + ow)
                }
                continue
              }
              for ow in 0..<wo {
                var best = oh * size * w + ow * size
                var value = src[best]
                for i in 0..<size {
                  let rowStart = (oh * size + i) * w + ow * size
                  for j in 0..<size {
                    // Selects, not a branch (see `maxPool2x2`).
                    let candidate = src[rowStart + j]
                    let wins = candidate > value
                    value = wins ? candidate : value
                    best = wins ? rowStart + j : best
                  }
                }
                dst[oh * wo + ow] = value
                idx[oh * wo + ow] = Int32(best)
              }
            }
          }
        }
      }
    }
  }
  return (y, argmax)
}

/// `floatLanes` adjacent 2×2 windows of output row `row`, from output column `column`: the same
/// scan as `maxPool2d`'s loop (row by row, a later element wins only when strictly greater, so
/// ties and NaNs keep the earlier one), as lane-wise selects instead of branches, whose outcome
/// is a coin toss on image data.
@inline(__always)
private func maxPool2x2(
  _ src: UnsafePointer<Float>, width w: Int, row: Int, column: Int, into dst: UnsafeMutablePointer<Float>,
  argmax idx: UnsafeMutablePointer<Int32>
) {
  typealias Indices = FloatLanes.MaskStorage
  let top = 2 * row * w + 2 * column
  let upper = UnsafeRawPointer(src + top).loadUnaligned(as: FloatLanePairs.self)
  let lower = UnsafeRawPointer(src + top + w).loadUnaligned(as: FloatLanePairs.self)
  var topLeft = Indices()
  for lane in 0..<floatLanes { topLeft[lane] = Int32(top + 2 * lane) }
  var (value, best) = (upper.evenHalf, topLeft)
  @inline(__always) func consider(_ candidate: FloatLanes, at index: Indices) {
    let wins = candidate .> value
    value.replace(with: candidate, where: wins)
    best.replace(with: index, where: wins)
  }
  consider(upper.oddHalf, at: topLeft &+ 1)
  consider(lower.evenHalf, at: topLeft &+ Int32(w))
  consider(lower.oddHalf, at: topLeft &+ Int32(w + 1))
  UnsafeMutableRawPointer(dst).storeBytes(of: value, as: FloatLanes.self)
  UnsafeMutableRawPointer(idx).storeBytes(of: best, as: Indices.self)
}

/// The backward pass of `maxPool2d`: each output's gradient goes to the input that was its
/// maximum; every other input gets 0. `// dy: (N, C, Ho, Wo) -> dx: inputShape (N, C, H, W)`
public func maxPool2dBackward(_ dy: Tensor, argmax: [Int32], inputShape: [Int]) -> Tensor {
  precondition(inputShape.count == 4 && dy.shape.count == 4, "maxpool2d backward needs NCHW shapes")
  precondition(argmax.count == dy.count, "maxpool2d backward: \(argmax.count) indices for \(dy.count) gradients")
  let (planes, plane) = (inputShape[0] * inputShape[1], inputShape[2] * inputShape[3])
  let outPlane = dy.shape[2] * dy.shape[3]
  var dx = Tensor(zeros: inputShape)
  guard planes > 0 else { return dx }
  dy.scalars.withUnsafeBufferPointer { pdy in
    argmax.withUnsafeBufferPointer { pa in
      dx.scalars.withUnsafeMutableBufferPointer { pdx in
        // Windows do not overlap (stride = size), so planes are independent and no two outputs
        // of a plane share an input: plain stores, no accumulation races.
        nonisolated(unsafe) let (dy, a, dx) = (pdy.baseAddress!, pa.baseAddress!, pdx.baseAddress!)
        forEachPart(of: planes, parts: planes * plane >= 1 << 15 ? elementwiseParts : 1) { _, range in
          for p in range {
            let (g, idx, dst) = (dy + p * outPlane, a + p * outPlane, dx + p * plane)
            for q in 0..<outPlane { dst[Int(idx[q])] += g[q] }
          }
        }
      }
    }
  }
  return dx
}
