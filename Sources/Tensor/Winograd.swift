import CBLAS

// 3×3 convolutions with stride 1 and padding 1 ("same"), the shape of every convolution but the
// first in the shipped networks, by Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray,
// "Fast Algorithms for Convolutional Neural Networks", 2015). Each 2×2 block of outputs is
// computed from a 4×4 tile of inputs through 16 products instead of 36 multiply-adds:
//
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A,   summed over input channels,
//
// with g a 3×3 filter, d a 4×4 input tile (tiles overlap by two rows and columns) and
//
//   Bᵀ = | 1  0 −1  0 |    G = | 1    0    0  |    Aᵀ = | 1  1  1  0 |
//        | 0  1  1  0 |        | 1/2  1/2  1/2 |         | 0  1 −1 −1 |
//        | 0 −1  1  0 |        | 1/2 −1/2  1/2 |
//        | 0  1  0 −1 |        | 0    0    1  |
//
// The sum over channels makes the element-wise products 16 matrix products, one per position ξ
// of the 4×4 transformed tile: M[ξ] (F × tiles) = U[ξ] (F × C) · V[ξ] (C × tiles), through
// `cblas_sgemm`. The multiply-adds of a 32- or 64-channel layer fall by 2.25×; the transforms
// are additions. The backward passes are the adjoints of the same linear maps:
//
//   dM = A dY Aᵀ,   dU[ξ] = dM[ξ] · V[ξ]ᵀ,   dW = Gᵀ dU G,   dV[ξ] = U[ξ]ᵀ · dM[ξ],   dX = B dV Bᵀ
//
// (the last scattered back onto the overlapping tiles). Rounding differs from im2col's: the
// products are summed in another order. Transforms run `laneCount` tiles at a time, lanes along a
// row of tiles; images are processed in runs (as in Convolution.swift) and, inside a run, in
// chunks of `winogradImages` images, so results depend on the batch size and the layer's shape only.

/// How many images one set of 16 products covers: as many as keep the chunk's transformed tiles
/// (16 × C × tiles per image, and the products' 16 × F) within `winogradChunkBytes`, and at least
/// one. Two 28×28 images of 32 channels, four 14×14 of 64.
func winogradImages(channels c: Int, filters f: Int, tilesPerImage tiles: Int) -> Int {
  max(1, winogradChunkBytes / (16 * max(c, f) * tiles * MemoryLayout<Float>.size))
}

/// The most bytes of transformed tiles, or of products, one chunk of images fills: under a core's
/// L2 cache (1 MB a core on the AMD EPYC of family 25 model 17, where `digits-bench conv` chose
/// it; README, "Where the time goes"), so the products read back from L2 what the transforms
/// wrote.
private let winogradChunkBytes = 800 << 10

/// Whether `conv2d` takes the Winograd path for this geometry: 3×3, stride 1, padding 1, and
/// enough input channels that the 16 products (each C deep) run near OpenBLAS's peak; a first
/// layer over one channel stays with im2col, whose products are 9 deep instead of 1.
func winogradApplies(_ g: WindowGeometry) -> Bool {
  g.kernel == 3 && g.stride == 1 && g.padding == 1 && g.channels >= winogradMinimumChannels
}

/// Below this many input channels `conv2d` uses im2col: products of depth 16 and more run near
/// OpenBLAS's 1024³ rate (README, "Where the time goes").
let winogradMinimumChannels = 16

/// The tiling of one `(C, H, W)` image into 2×2 output blocks.
private struct Tiling {
  let height: Int
  let width: Int
  /// Tile rows and columns: ⌈H/2⌉ and ⌈W/2⌉ (a last, partial block is computed and cut).
  let rows: Int
  let columns: Int
  /// Runs of `laneCount` tile columns (SIMD lanes).
  let chunks: Int
  /// A padded image row: column −1 at index 0, then the row, then zeros, long enough for the
  /// vector loads of every chunk.
  let paddedRow: Int

  init(height: Int, width: Int) {
    self.height = height
    self.width = width
    rows = (height + 1) / 2
    columns = (width + 1) / 2
    chunks = (columns + laneCount - 1) / laneCount
    paddedRow = 2 * laneCount * chunks + 4
  }

  var tiles: Int { rows * columns }
  /// Lanes of chunk `k` that are real tiles.
  func lanes(_ k: Int) -> Int { min(laneCount, columns - laneCount * k) }
}

/// Tiles transformed at once, one per vector lane (see `floatLanes`: four with SSE, where sixteen
/// lanes spilled to the stack and ran four times slower than im2col; eight with AVX2 and wider).
private let laneCount = floatLanes
private typealias Lanes = FloatLanes
private typealias LanePairs = FloatLanePairs

@inline(__always)
private func loadPairs(_ p: UnsafePointer<Float>) -> LanePairs { UnsafeRawPointer(p).loadUnaligned(as: LanePairs.self) }
@inline(__always)
private func loadLanes(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
@inline(__always)
private func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self) }
@inline(__always)
private func store(_ v: LanePairs, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: LanePairs.self) }

@inline(__always)
private func interleave(_ even: Lanes, _ odd: Lanes) -> LanePairs {
  var v = LanePairs()
  v.evenHalf = even
  v.oddHalf = odd
  return v
}

/// 1 in lanes `..<count`, 0 past them: a multiplier that drops the lanes past a row of tiles
/// (their values are other tiles', always finite). A multiply, because a comparison mask
/// compiled to a loop over the lanes here.
private func laneMask(_ count: Int) -> Lanes {
  var mask = Lanes(repeating: 0)
  for lane in 0..<min(laneCount, count) { mask[lane] = 1 }
  return mask
}

// MARK: - Filter transform and its adjoint

/// `U[ξ][f][c] = (G g_fc Gᵀ)[ξ]` for `w: (F, C, 3, 3)`; `u: (16, F, C)`.
private func transformFilters(_ w: UnsafePointer<Float>, filters f: Int, channels c: Int, into u: UnsafeMutablePointer<Float>) {
  let plane = f * c
  var t = [Float](repeating: 0, count: 12)
  for fc in 0..<plane {
    let g = w + fc * 9
    // Rows: t = G g (4×3).
    for j in 0..<3 {
      let (g0, g1, g2) = (g[j], g[3 + j], g[6 + j])
      t[j] = g0
      t[3 + j] = 0.5 * (g0 + g1 + g2)
      t[6 + j] = 0.5 * (g0 - g1 + g2)
      t[9 + j] = g2
    }
    // Columns: (G g) Gᵀ (4×4).
    for i in 0..<4 {
      let (a, b, d) = (t[3 * i], t[3 * i + 1], t[3 * i + 2])
      u[(4 * i) * plane + fc] = a
      u[(4 * i + 1) * plane + fc] = 0.5 * (a + b + d)
      u[(4 * i + 2) * plane + fc] = 0.5 * (a - b + d)
      u[(4 * i + 3) * plane + fc] = d
    }
  }
}

/// The adjoint of `transformFilters`: `dW[f][c] += Gᵀ dU[·][f][c] G` for `du: (16, F, C)`.
/// `laneCount` (f, c) pairs at a time, lane by lane (dU's positions are contiguous across pairs);
/// the pairs past the last full run in lane 0, with the same arithmetic, so the same rounding.
private func accumulateFilterGradients(
  _ du: UnsafePointer<Float>, filters f: Int, channels c: Int, into dw: UnsafeMutablePointer<Float>
) {
  let plane = f * c
  let vectorEnd = plane - plane % laneCount
  withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 9) { sums in
    let g = sums.baseAddress!
    /// `g[0..<9] = Gᵀ dU G` for the pairs whose `dU[ξ]` is `load(ξ)`.
    @inline(__always) func transform(_ load: (Int) -> Lanes) {
      // Columns first: t (4×3) = dU G.
      @inline(__always) func columns(_ i: Int) -> (Lanes, Lanes, Lanes) {
        let (d0, d1, d2, d3) = (load(4 * i), load(4 * i + 1), load(4 * i + 2), load(4 * i + 3))
        return (d0 + 0.5 * (d1 + d2), 0.5 * (d1 - d2), 0.5 * (d1 + d2) + d3)
      }
      let t = (columns(0), columns(1), columns(2), columns(3))
      // Rows: Gᵀ t (3×3), column j from t's column j.
      @inline(__always) func rows(_ t0: Lanes, _ t1: Lanes, _ t2: Lanes, _ t3: Lanes, column j: Int) {
        (g + j).initialize(to: t0 + 0.5 * (t1 + t2))
        (g + 3 + j).initialize(to: 0.5 * (t1 - t2))
        (g + 6 + j).initialize(to: 0.5 * (t1 + t2) + t3)
      }
      rows(t.0.0, t.1.0, t.2.0, t.3.0, column: 0)
      rows(t.0.1, t.1.1, t.2.1, t.3.1, column: 1)
      rows(t.0.2, t.1.2, t.2.2, t.3.2, column: 2)
    }
    for fc in stride(from: 0, to: vectorEnd, by: laneCount) {
      transform { loadLanes(du + $0 * plane + fc) }
      // The run's 3×3s are 9·laneCount consecutive floats of dW.
      for lane in 0..<laneCount {
        for q in 0..<9 { dw[(fc + lane) * 9 + q] += g[q][lane] }
      }
    }
    for fc in vectorEnd..<plane {
      transform { Lanes(repeating: du[$0 * plane + fc]) }
      for q in 0..<9 { dw[fc * 9 + q] += g[q][0] }
    }
  }
}

// MARK: - Input transform and its adjoint

/// `V[ξ][c][column + tile] = (Bᵀ d B)[ξ]` for the tiles of one image `x: (C, H, W)`; V's rows
/// are `ld` long. Lanes past a row of tiles spill into the next row's (or the slack at the end),
/// which later writes overwrite.
private func transformInputs(
  _ x: UnsafePointer<Float>, channels: Int, _ t: Tiling, column: Int, ld: Int, into v: UnsafeMutablePointer<Float>,
  scratch: UnsafeMutablePointer<Float>
) {
  let planeStride = channels * ld
  // scratch: one padded row, then the column-transformed rows −1...2·rows (4 vectors per chunk).
  let row = scratch
  let columnTransformed = scratch + t.paddedRow
  let transformedRows = 2 * t.rows + 2
  let rowVectors = 4 * laneCount * t.chunks
  for c in 0..<channels {
    let plane = x + c * t.height * t.width
    for r in 0..<transformedRows {
      let ih = r - 1
      row.update(repeating: 0, count: t.paddedRow)
      if ih >= 0 && ih < t.height { (row + 1).update(from: plane + ih * t.width, count: t.width) }
      for k in 0..<t.chunks {
        let (a, b) = (loadPairs(row + 2 * laneCount * k), loadPairs(row + 2 * laneCount * k + 2))
        let (e0, o0, e1, o1) = (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
        let out = columnTransformed + r * rowVectors + 4 * laneCount * k
        store(e0 - e1, out)
        store(o0 + e1, out + laneCount)
        store(e1 - o0, out + 2 * laneCount)
        store(o0 - o1, out + 3 * laneCount)
      }
    }
    for ti in 0..<t.rows {
      for k in 0..<t.chunks {
        let at = column + ti * t.columns + laneCount * k
        let base = columnTransformed + 4 * laneCount * k
        for j in 0..<4 {
          let p0 = loadLanes(base + (2 * ti) * rowVectors + laneCount * j)
          let p1 = loadLanes(base + (2 * ti + 1) * rowVectors + laneCount * j)
          let p2 = loadLanes(base + (2 * ti + 2) * rowVectors + laneCount * j)
          let p3 = loadLanes(base + (2 * ti + 3) * rowVectors + laneCount * j)
          let out = v + c * ld + at
          store(p0 - p2, out + j * planeStride)
          store(p1 + p2, out + (4 + j) * planeStride)
          store(p2 - p1, out + (8 + j) * planeStride)
          store(p1 - p3, out + (12 + j) * planeStride)
        }
      }
    }
  }
}

/// The adjoint of `transformInputs`: `dx (C, H, W) = B dV Bᵀ`, each tile's 4×4 added back onto
/// the pixels it was read from (dx is overwritten). Lanes past a row of tiles are dropped.
private func scatterInputGradients(
  _ dv: UnsafePointer<Float>, channels: Int, _ t: Tiling, column: Int, ld: Int, into dx: UnsafeMutablePointer<Float>,
  scratch: UnsafeMutablePointer<Float>
) {
  let planeStride = channels * ld
  let transformedRows = 2 * t.rows + 2
  let rowVectors = 4 * laneCount * t.chunks
  // scratch: one padded row, then the gradients of the column-transformed rows −1...2·rows.
  let row = scratch
  let columnGradients = scratch + t.paddedRow
  let masks = (0..<t.chunks).map { laneMask(t.lanes($0)) }
  for c in 0..<channels {
    columnGradients.update(repeating: 0, count: transformedRows * rowVectors)
    for ti in 0..<t.rows {
      for k in 0..<t.chunks {
        let mask = masks[k]
        let at = dv + c * ld + column + ti * t.columns + laneCount * k
        let base = columnGradients + 4 * laneCount * k
        for j in 0..<4 {
          let v0 = loadLanes(at + j * planeStride) * mask
          let v1 = loadLanes(at + (4 + j) * planeStride) * mask
          let v2 = loadLanes(at + (8 + j) * planeStride) * mask
          let v3 = loadLanes(at + (12 + j) * planeStride) * mask
          // The adjoint of the row step (p0 − p2, p1 + p2, p2 − p1, p1 − p3).
          let gradients = (v0, v1 - v2 + v3, v1 + v2 - v0, -v3)
          let p = base + (2 * ti) * rowVectors + laneCount * j
          store(loadLanes(p) + gradients.0, p)
          store(loadLanes(p + rowVectors) + gradients.1, p + rowVectors)
          store(loadLanes(p + 2 * rowVectors) + gradients.2, p + 2 * rowVectors)
          store(loadLanes(p + 3 * rowVectors) + gradients.3, p + 3 * rowVectors)
        }
      }
    }
    let plane = dx + c * t.height * t.width
    for r in 0..<transformedRows {
      let ih = r - 1
      guard ih >= 0 && ih < t.height else { continue }
      row.update(repeating: 0, count: t.paddedRow)
      for k in 0..<t.chunks {
        let g = columnGradients + r * rowVectors + 4 * laneCount * k
        let (c0, c1, c2, c3) = (loadLanes(g), loadLanes(g + laneCount), loadLanes(g + 2 * laneCount), loadLanes(g + 3 * laneCount))
        // The adjoint of the column step (e0 − e1, o0 + e1, e1 − o0, o0 − o1).
        let here = row + 2 * laneCount * k
        store(loadPairs(here) + interleave(c0, c1 - c2 + c3), here)
        let next = row + 2 * laneCount * k + 2
        store(loadPairs(next) + interleave(c1 + c2 - c0, -c3), next)
      }
      (plane + ih * t.width).update(from: row + 1, count: t.width)
    }
  }
}

// MARK: - Output transform and its adjoint

/// `y (F, H, W) = Aᵀ M A + b` for one image's tiles (`max(·, 0)` with `relu`), M's rows `ld` long.
private func transformOutputs(
  _ m: UnsafePointer<Float>, filters f: Int, _ t: Tiling, column: Int, ld: Int, bias: UnsafePointer<Float>,
  relu: Bool, into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
) {
  let planeStride = f * ld
  for channel in 0..<f {
    let plane = y + channel * t.height * t.width
    let b = LanePairs(repeating: bias[channel])
    for ti in 0..<t.rows {
      for k in 0..<t.chunks {
        let at = m + channel * ld + column + ti * t.columns + laneCount * k
        // Rows first: s_r (over columns j) = (m_0j + m_1j + m_2j, m_1j − m_2j − m_3j).
        @inline(__always) func rows(_ j: Int) -> (Lanes, Lanes) {
          let (m0, m1, m2, m3) = (
            loadLanes(at + j * planeStride), loadLanes(at + (4 + j) * planeStride),
            loadLanes(at + (8 + j) * planeStride), loadLanes(at + (12 + j) * planeStride))
          return (m0 + m1 + m2, m1 - m2 - m3)
        }
        let (r0, r1, r2, r3) = (rows(0), rows(1), rows(2), rows(3))
        // Then columns: the 2×2 block, output rows 2·ti and 2·ti + 1, columns 2·tj and 2·tj + 1.
        let top = interleave(r0.0 + r1.0 + r2.0, r1.0 - r2.0 - r3.0) + b
        let bottom = interleave(r0.1 + r1.1 + r2.1, r1.1 - r2.1 - r3.1) + b
        let count = min(2 * laneCount, t.width - 2 * laneCount * k)
        @inline(__always) func write(_ values: LanePairs, row r: Int) {
          guard r < t.height else { return }
          store(values, scratch)
          let out = plane + r * t.width + 2 * laneCount * k
          if relu {
            // A scalar loop: it compiles to vector maxima (a lane mask on SIMD32 would not).
            for q in 0..<count { out[q] = rectified(scratch[q]) }
          } else {
            out.update(from: scratch, count: count)
          }
        }
        write(top, row: 2 * ti)
        write(bottom, row: 2 * ti + 1)
      }
    }
  }
}

/// The adjoint of `transformOutputs` (bias and ReLU aside): `dM = A dY Aᵀ` for one image's
/// `dy: (F, H, W)`, written to M's layout (rows `ld` long).
private func transformOutputGradients(
  _ dy: UnsafePointer<Float>, filters f: Int, _ t: Tiling, column: Int, ld: Int, into dm: UnsafeMutablePointer<Float>,
  scratch: UnsafeMutablePointer<Float>
) {
  let planeStride = f * ld
  for channel in 0..<f {
    let plane = dy + channel * t.height * t.width
    for ti in 0..<t.rows {
      for k in 0..<t.chunks {
        // Output rows 2·ti and 2·ti + 1 of the chunk's columns, zero past the image.
        let count = min(2 * laneCount, t.width - 2 * laneCount * k)
        scratch.update(repeating: 0, count: 4 * laneCount)
        scratch.update(from: plane + 2 * ti * t.width + 2 * laneCount * k, count: count)
        if 2 * ti + 1 < t.height { (scratch + 2 * laneCount).update(from: plane + (2 * ti + 1) * t.width + 2 * laneCount * k, count: count) }
        let (top, bottom) = (loadPairs(scratch), loadPairs(scratch + 2 * laneCount))
        // Columns: the adjoint of (s_0 + s_1 + s_2, s_1 − s_2 − s_3), per output row.
        let (a0, a1) = (top.evenHalf, top.oddHalf)
        let (b0, b1) = (bottom.evenHalf, bottom.oddHalf)
        // Rows: the adjoint of (m_0 + m_1 + m_2, m_1 − m_2 − m_3), column j from (s0, s1).
        let at = dm + channel * ld + column + ti * t.columns + laneCount * k
        @inline(__always) func put(_ j: Int, _ s0: Lanes, _ s1: Lanes) {
          store(s0, at + j * planeStride)
          store(s0 + s1, at + (4 + j) * planeStride)
          store(s0 - s1, at + (8 + j) * planeStride)
          store(-s1, at + (12 + j) * planeStride)
        }
        put(0, a0, b0)
        put(1, a0 + a1, b0 + b1)
        put(2, a0 - a1, b0 - b1)
        put(3, -a1, -b1)
      }
    }
  }
}

// MARK: - The convolution and its backward pass

/// One worker's buffers for a chunk of `images` images: the transformed tiles V (16 × C × ld),
/// the products M (16 × F × ld), and the transforms' scratch. Rows are `ld` long: the chunk's
/// tiles and 16 columns of slack that the last lanes of a row of tiles spill into.
private struct Workspace {
  /// Images per chunk: `winogradImages` for the layer.
  let images: Int
  let ld: Int
  let v: UnsafeMutablePointer<Float>
  let m: UnsafeMutablePointer<Float>
  let scratch: UnsafeMutablePointer<Float>

  init(channels c: Int, filters f: Int, _ t: Tiling) {
    images = winogradImages(channels: c, filters: f, tilesPerImage: t.tiles)
    ld = images * t.tiles + 16
    v = .allocate(capacity: 16 * c * ld)
    m = .allocate(capacity: 16 * f * ld)
    scratch = .allocate(capacity: t.paddedRow + (2 * t.rows + 2) * 4 * laneCount * t.chunks)
  }

  func deallocate() {
    v.deallocate()
    m.deallocate()
    scratch.deallocate()
  }
}

/// `conv2d` for `winogradApplies` geometries: same shapes and meaning, other rounding.
func winogradConv2d(
  _ x: Tensor, weight: Tensor, bias: Tensor, _ g: WindowGeometry, fusedReLU: Bool, runs: Int
) -> Tensor {
  let (n, f, c) = (x.shape[0], weight.shape[0], g.channels)
  let t = Tiling(height: g.height, width: g.width)
  let inPlane = c * g.height * g.width
  let outPlane = f * g.height * g.width
  nonisolated(unsafe) let u = weight.scalars.withUnsafeBufferPointer {
    winogradFilterTransform($0.baseAddress!, filters: f, channels: c)
  }
  defer { u.deallocate() }
  OpenBLAS.pinToCallingThread()
  return x.scalars.withUnsafeBufferPointer { px in
    bias.scalars.withUnsafeBufferPointer { pb in
      Tensor(uninitializedShape: [n, f, g.height, g.width]) { py in
        // Runs write disjoint images of y.
        nonisolated(unsafe) let (x, b, y) = (px.baseAddress!, pb.baseAddress!, py.baseAddress!)
        forEachPart(of: n, parts: runs) { _, images in
          let work = Workspace(channels: c, filters: f, t)
          defer { work.deallocate() }
          let (ld, v, m, scratch) = (work.ld, work.v, work.m, work.scratch)
          for first in stride(from: images.lowerBound, to: images.upperBound, by: work.images) {
            let count = min(work.images, images.upperBound - first)
            for i in 0..<count {
              transformInputs(x + (first + i) * inPlane, channels: c, t, column: i * t.tiles, ld: ld, into: v, scratch: scratch)
            }
            // M[ξ] (F × tiles) = U[ξ] (F × C) · V[ξ] (C × tiles).
            for xi in 0..<16 {
              cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(f), blasint(count * t.tiles), blasint(c),
                1, u + xi * f * c, blasint(c), v + xi * c * ld, blasint(ld), 0, m + xi * f * ld, blasint(ld))
            }
            for i in 0..<count {
              transformOutputs(
                m, filters: f, t, column: i * t.tiles, ld: ld, bias: b, relu: fusedReLU, into: y + (first + i) * outPlane,
                scratch: scratch)
            }
          }
        }
      }
    }
  }
}

/// `U = G W Gᵀ` for `w: (F, C, 3, 3)`, in a new `(16, F, C)` buffer the caller deallocates.
func winogradFilterTransform(_ w: UnsafePointer<Float>, filters f: Int, channels c: Int) -> UnsafeMutablePointer<Float> {
  let u = UnsafeMutablePointer<Float>.allocate(capacity: 16 * f * c)
  transformFilters(w, filters: f, channels: c, into: u)
  return u
}

/// `conv2dBackward` for `winogradApplies` geometries, one run of images: adds `dW` and `db` into
/// the run's partial sums and writes `dx` (when given), in chunks of images as the forward pass.
/// `u` is `winogradFilterTransform` of the weight, needed (and given) only with `dx`; `dy` is
/// masked by the ReLU here when `reluY` (the forward's output) is given.
func winogradConv2dBackward(
  _ dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, filters u: UnsafePointer<Float>?, _ g: WindowGeometry,
  filterCount f: Int, images: Range<Int>, partialW: UnsafeMutablePointer<Float>, partialB: UnsafeMutablePointer<Float>,
  dx: UnsafeMutablePointer<Float>?, maskedBy reluY: UnsafePointer<Float>?
) {
  let c = g.channels
  let t = Tiling(height: g.height, width: g.width)
  let (inPlane, outPlane) = (c * g.height * g.width, f * g.height * g.width)
  let work = Workspace(channels: c, filters: f, t)
  let (ld, v, m, scratch) = (work.ld, work.v, work.m, work.scratch)
  let du = UnsafeMutablePointer<Float>.allocate(capacity: 16 * f * c)
  let masked = reluY == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: work.images * outPlane)
  defer {
    work.deallocate()
    du.deallocate()
    masked?.deallocate()
  }
  du.update(repeating: 0, count: 16 * f * c)
  for first in stride(from: images.lowerBound, to: images.upperBound, by: work.images) {
    let count = min(work.images, images.upperBound - first)
    var gradient = dy + first * outPlane
    if let masked, let reluY {
      maskByPositive(gradient, reluY + first * outPlane, masked, count * outPlane)
      gradient = UnsafePointer(masked)
    }
    for i in 0..<count {
      for channel in 0..<f { partialB[channel] += vectorSum(gradient + i * outPlane + channel * g.height * g.width, g.height * g.width) }
      transformOutputGradients(gradient + i * outPlane, filters: f, t, column: i * t.tiles, ld: ld, into: m, scratch: scratch)
      transformInputs(x + (first + i) * inPlane, channels: c, t, column: i * t.tiles, ld: ld, into: v, scratch: scratch)
    }
    let columns = count * t.tiles
    for xi in 0..<16 {
      // dU[ξ] (F × C) += dM[ξ] (F × tiles) · V[ξ]ᵀ (tiles × C).
      cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasTrans, blasint(f), blasint(c), blasint(columns),
        1, m + xi * f * ld, blasint(ld), v + xi * c * ld, blasint(ld), 1, du + xi * f * c, blasint(c))
    }
    guard let dx, let u else { continue }
    for xi in 0..<16 {
      // dV[ξ] (C × tiles) = U[ξ]ᵀ (C × F) · dM[ξ] (F × tiles), into V's buffer.
      cblas_sgemm(
        CblasRowMajor, CblasTrans, CblasNoTrans, blasint(c), blasint(columns), blasint(f),
        1, u + xi * f * c, blasint(c), m + xi * f * ld, blasint(ld), 0, v + xi * c * ld, blasint(ld))
    }
    // The columns past the last tile are read (and dropped) with it: make them finite.
    for row in 0..<(16 * c) { (v + row * ld + columns).update(repeating: 0, count: 16) }
    for i in 0..<count {
      scatterInputGradients(v, channels: c, t, column: i * t.tiles, ld: ld, into: dx + (first + i) * inPlane, scratch: scratch)
    }
  }
  accumulateFilterGradients(du, filters: f, channels: c, into: partialW)
}
