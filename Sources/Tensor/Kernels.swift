import CBLAS
import Foundation

#if arch(x86_64)
  import _Builtin_intrinsics.intel
#endif

// Elementwise and reduction kernels for the layers, the loss and the optimizers.
// They run on unsafe buffers so the hot loops have no bounds checks and vectorise.

// MARK: - Scaling and accumulation

/// `x *= s` (cblas_sscal).
public func scale(_ x: inout Tensor, by s: Float) {
  let n = x.count
  guard n > 0 else { return }
  OpenBLAS.pinToCallingThread()
  x.scalars.withUnsafeMutableBufferPointer { px in
    cblas_sscal(blasint(n), s, px.baseAddress, 1)
  }
}

/// `y += alpha * x` (cblas_saxpy); x and y have the same number of scalars.
public func axpy(_ alpha: Float, _ x: Tensor, _ y: inout Tensor) {
  precondition(x.count == y.count, "axpy: \(x.shape) vs \(y.shape)")
  let n = x.count
  guard n > 0 else { return }
  OpenBLAS.pinToCallingThread()
  x.scalars.withUnsafeBufferPointer { px in
    y.scalars.withUnsafeMutableBufferPointer { py in
      cblas_saxpy(blasint(n), alpha, px.baseAddress, 1, py.baseAddress, 1)
    }
  }
}

// MARK: - Bias

/// `y[i, j] += b[j]`: broadcasts a bias over the rows; with `relu`, then `y = max(y, 0)` in the
/// same pass (a dense layer followed by a ReLU, as `Sequential` runs it: the same values as
/// `relu` after the addition). `// y: (N, H), b: (H)`
public func addRowVector(_ b: Tensor, to y: inout Tensor, relu: Bool = false) {
  let (n, h) = (y.rows, y.columns)
  precondition(b.count == h, "addRowVector: bias has \(b.count) scalars, rows have \(h)")
  guard y.count > 0 else { return }  // empty arrays may have no base address
  b.scalars.withUnsafeBufferPointer { pb in
    y.scalars.withUnsafeMutableBufferPointer { py in
      // Disjoint rows per thread.
      nonisolated(unsafe) let (bias, y) = (pb.baseAddress!, py.baseAddress!)
      forEachPart(of: n, parts: n * h >= 1 << 15 ? elementwiseParts : 1) { _, rows in
        for i in rows {
          let row = y + i * h
          for j in 0..<h {
            let v = row[j] + bias[j]
            row[j] = relu ? rectified(v) : v
          }
        }
      }
    }
  }
}

/// `db[j] += Σ_i dy[i, j]`: the bias gradient. `// dy: (N, H), db: (H)`
///
/// Walks rows in memory order, summing into a float32 scratch row, then adds it to `db`
/// (so accumulation into an existing gradient rounds once per call).
public func accumulateColumnSums(of dy: Tensor, into db: inout Tensor) {
  let (n, h) = (dy.rows, dy.columns)
  precondition(db.count == h, "accumulateColumnSums: db has \(db.count) scalars, rows have \(h)")
  guard dy.count > 0 else { return }
  var sums = [Float](repeating: 0, count: h)
  dy.scalars.withUnsafeBufferPointer { pdy in
    sums.withUnsafeMutableBufferPointer { ps in
      let acc = ps.baseAddress!
      for i in 0..<n {
        let row = pdy.baseAddress! + i * h
        for j in 0..<h { acc[j] += row[j] }
      }
    }
  }
  sums.withUnsafeBufferPointer { ps in
    db.scalars.withUnsafeMutableBufferPointer { pdb in
      for j in 0..<h { pdb[j] += ps[j] }
    }
  }
}

// MARK: - ReLU

/// ReLU's value, `max(v, 0)`, the one definition every ReLU pass uses (the layer's, and the ones
/// fused into a convolution's or a dense layer's output), so fused and unfused give the same
/// bits, NaN included (it gives 0, where `Swift.max(v, 0)` gives NaN). Compiles to `maxps`.
@inline(__always)
func rectified(_ v: Float) -> Float { v > 0 ? v : 0 }

/// `y = max(x, 0)` elementwise (`rectified`).
public func relu(_ x: Tensor) -> Tensor {
  guard x.count > 0 else { return x }
  return x.scalars.withUnsafeBufferPointer { px in
    Tensor(uninitializedShape: x.shape) { py in
      // Disjoint ranges per thread: conv activations are millions of scalars per batch.
      nonisolated(unsafe) let (src, dst) = (px.baseAddress!, py.baseAddress!)
      forEachChunk(of: px.count) { range in
        for i in range { dst[i] = rectified(src[i]) }
      }
    }
  }
}

/// `dx = dy ⊙ 1[y > 0]`, from the forward *output* y (equivalently the input: y > 0 ⇔ x > 0).
public func reluBackward(_ dy: Tensor, output y: Tensor) -> Tensor {
  precondition(dy.count == y.count, "reluBackward: \(dy.shape) vs \(y.shape)")
  guard dy.count > 0 else { return dy }
  return dy.scalars.withUnsafeBufferPointer { pdy in
    y.scalars.withUnsafeBufferPointer { py in
      Tensor(uninitializedShape: dy.shape) { pdx in
        // SIMD8 select: the scalar ternary over three streams stayed a branchy scalar loop.
        // Disjoint ranges per thread (chunk starts are multiples of 8).
        nonisolated(unsafe) let (g, out, dst) = (UnsafeRawPointer(pdy.baseAddress!), UnsafeRawPointer(py.baseAddress!), UnsafeMutableRawPointer(pdx.baseAddress!))
        forEachChunk(of: pdy.count) { range in
          let vectorEnd = range.lowerBound + (range.count - range.count % 8)
          var offset = range.lowerBound * 4
          while offset < vectorEnd * 4 {
            let mask = out.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) .> 0
            let grad = g.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            dst.storeBytes(of: SIMD8<Float>(repeating: 0).replacing(with: grad, where: mask), toByteOffset: offset, as: SIMD8<Float>.self)
            offset += 32
          }
          for i in vectorEnd..<range.upperBound {
            let y = out.load(fromByteOffset: i * 4, as: Float.self)
            dst.storeBytes(of: y > 0 ? g.load(fromByteOffset: i * 4, as: Float.self) : 0, toByteOffset: i * 4, as: Float.self)
          }
        }
      }
    }
  }
}

// MARK: - Dropout

/// An inverted-dropout mask: each scalar is independently `0` with probability `rate`, else
/// `1/(1 − rate)`, so `x ⊙ mask` keeps the expected value of x. One 64-bit draw from `generator`
/// gives two 32-bit uniforms; a scalar is dropped when its uniform `u < rate·2³²`.
public func dropoutMask(shape: [Int], rate: Float, using generator: inout SeededGenerator) -> Tensor {
  precondition(rate >= 0 && rate < 1, "dropout rate must be in [0, 1), got \(rate)")
  let threshold = UInt32(min(Double(rate) * 4_294_967_296, 4_294_967_295))
  let keep = 1 / (1 - rate)
  return Tensor(uninitializedShape: shape) { pm in
    let count = pm.count
    var i = 0
    while i < count {
      let bits = generator.next()
      pm[i] = UInt32(truncatingIfNeeded: bits) < threshold ? 0 : keep
      if i + 1 < count { pm[i + 1] = UInt32(truncatingIfNeeded: bits >> 32) < threshold ? 0 : keep }
      i += 2
    }
  }
}

/// `a ⊙ b` elementwise (same number of scalars; the result has a's shape).
public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor {
  precondition(a.count == b.count, "multiply: \(a.shape) vs \(b.shape)")
  guard a.count > 0 else { return a }
  return a.scalars.withUnsafeBufferPointer { pa in
    b.scalars.withUnsafeBufferPointer { pb in
      Tensor(uninitializedShape: a.shape) { pc in
        nonisolated(unsafe) let (x, y, z) = (pa.baseAddress!, pb.baseAddress!, pc.baseAddress!)
        forEachChunk(of: pa.count) { range in
          for i in range { z[i] = x[i] * y[i] }
        }
      }
    }
  }
}

// MARK: - Softmax and cross-entropy

/// Row-wise softmax `p[i, j] = exp(z[i, j] - m_i) / Σ_k exp(z[i, k] - m_i)`, `m_i = max_k z[i, k]`
/// (subtracting the row max keeps exp from overflowing). `// z: (N, C) -> p: (N, C)`
public func softmaxRows(_ z: Tensor) -> Tensor {
  let (n, c) = (z.rows, z.columns)
  return z.scalars.withUnsafeBufferPointer { pz in
    Tensor(uninitializedShape: z.shape) { pp in
      for i in 0..<n {
        let zi = pz.baseAddress! + i * c
        let pi = pp.baseAddress! + i * c
        var m = -Float.infinity
        for j in 0..<c { m = max(m, zi[j]) }
        var s: Float = 0
        for j in 0..<c {
          let e = expf(zi[j] - m)
          pi[j] = e
          s += e
        }
        let inv = 1 / s
        for j in 0..<c { pi[j] *= inv }
      }
    }
  }
}

/// Fused, numerically stable softmax cross-entropy, averaged over the batch.
///
/// `L = -1/N Σ_i log softmax(z_i)[y_i]` with `log softmax(z)_j = z_j - m - log Σ_k exp(z_k - m)`,
/// and `dL/dz = (softmax(z) - onehot(y)) / N`. The loss is summed in Double.
/// `// z: (n, C), labels: n values in 0..<C`
///
/// `batchSize` is the N of the mean, the row count by default; pass the whole batch's size when
/// these rows are one chunk of it, so chunk losses and gradients add up to the batch's.
public func softmaxCrossEntropy(logits z: Tensor, labels: [UInt8], batchSize: Int? = nil) -> (loss: Double, gradient: Tensor) {
  softmaxCrossEntropy(logits: z, labels: labels, batchSize: batchSize, labelSmoothing: 0)
}

/// Softmax cross-entropy against label-smoothed targets (PyTorch's `label_smoothing = ε`):
/// the target is `q = (1 − ε)·onehot(y) + ε/C`, so
///
///     L = -1/N Σ_i [(1 − ε)·log softmax(z_i)[y_i] + ε/C · Σ_j log softmax(z_i)_j],
///     dL/dz = (softmax(z) − q) / N.
///
/// `ε = 0` is exactly `softmaxCrossEntropy(logits:labels:batchSize:)`.
public func softmaxCrossEntropy(
  logits z: Tensor, labels: [UInt8], batchSize: Int?, labelSmoothing epsilon: Float
) -> (loss: Double, gradient: Tensor) {
  precondition(epsilon >= 0 && epsilon <= 1, "label smoothing must be in [0, 1], got \(epsilon)")
  let (n, c) = (z.rows, z.columns)
  precondition(labels.count == n, "softmaxCrossEntropy: \(labels.count) labels for \(n) rows")
  let batch = batchSize ?? n
  precondition(batch >= n, "softmaxCrossEntropy: batch size \(batch) smaller than the \(n) rows")
  var total: Double = 0
  let invN = batch > 0 ? 1 / Float(batch) : 0
  let gradient = z.scalars.withUnsafeBufferPointer { pz in
    labels.withUnsafeBufferPointer { py in
      Tensor(uninitializedShape: z.shape) { pg in
        for i in 0..<n {
          let zi = pz.baseAddress! + i * c
          let gi = pg.baseAddress! + i * c
          let label = Int(py[i])
          precondition(label < c, "label \(label) out of range for \(c) classes")
          var m = -Float.infinity
          for j in 0..<c { m = max(m, zi[j]) }
          // The exponentials first, then their sum in the same order: with the running sum
          // carried across each `expf` call it was spilled to the stack and every call waited
          // on the last (digits-bench seed spent 8% here).
          for j in 0..<c { gi[j] = expf(zi[j] - m) }
          var s: Float = 0
          for j in 0..<c { s += gi[j] }
          let logSum = Double(logf(s))
          let scale = invN / s
          if epsilon == 0 {
            total -= Double(zi[label] - m) - logSum
            for j in 0..<c { gi[j] *= scale }
            gi[label] -= invN
          } else {
            // Σ_j log p_j = Σ_j (z_j − m) − C·log s
            var sumShifted = 0.0
            for j in 0..<c { sumShifted += Double(zi[j] - m) }
            let eps = Double(epsilon)
            total -= (1 - eps) * (Double(zi[label] - m) - logSum) + eps / Double(c) * (sumShifted - Double(c) * logSum)
            let uniform = epsilon / Float(c) * invN
            for j in 0..<c { gi[j] = gi[j] * scale - uniform }
            gi[label] -= (1 - epsilon) * invN
          }
        }
      }
    }
  }
  return (batch > 0 ? total / Double(batch) : 0, gradient)
}

/// Index of the largest value in each row (the first on ties). `// z: (N, C) -> N indices`
public func argmaxRows(_ z: Tensor) -> [Int] { argmaxRows(z.scalars, columns: z.columns) }

/// Index of the largest value in each row of a row-major array with `columns` columns (the
/// first on ties): the one argmax, for tensors and for arrays read back from `.npy` files.
public func argmaxRows(_ scalars: [Float], columns c: Int) -> [Int] {
  precondition(c > 0 && scalars.count % c == 0, "argmaxRows: \(scalars.count) values are not rows of \(c)")
  return scalars.withUnsafeBufferPointer { pz in
    (0..<(scalars.count / c)).map { i in argmax(pz.baseAddress! + i * c, count: c) }
  }
}

/// How many rows' largest value (the first on ties, as `argmaxRows`) is at the row's label.
/// Without the index array `argmaxRows` builds: the full-batch trainer counts every iteration.
public func countArgmaxMatches(_ z: Tensor, labels: [UInt8]) -> Int {
  let (n, c) = (z.rows, z.columns)
  precondition(labels.count == n, "countArgmaxMatches: \(labels.count) labels for \(n) rows")
  return z.scalars.withUnsafeBufferPointer { pz in
    guard c > 0 else { return 0 }
    var matches = 0
    for i in 0..<n { matches += argmax(pz.baseAddress! + i * c, count: c) == Int(labels[i]) ? 1 : 0 }
    return matches
  }
}

/// The index of the largest of `count` values (the first on ties; a NaN first stays).
@inline(__always)
private func argmax(_ row: UnsafePointer<Float>, count: Int) -> Int {
  // Selects rather than branches: which logit is largest is a coin toss for the branch
  // predictor, and the mispredictions cost 4% of a full-batch run.
  var (best, bestValue) = (0, row[0])
  for j in 1..<count {
    let isLarger = row[j] > bestValue
    best = isLarger ? j : best
    bestValue = isLarger ? row[j] : bestValue
  }
  return best
}

// MARK: - Optimizer updates

/// Splits `0..<count` into contiguous chunks (multiples of 8) and runs them on up to
/// `Workers.count` threads. Only for elementwise work: each index is visited by exactly one
/// chunk, so the result does not depend on the split. Small buffers stay on the calling thread.
func forEachChunk(of count: Int, minimumPerThread: Int = 1 << 15, _ body: @Sendable (Range<Int>) -> Void) {
  let threads = max(1, min(workerCount, count / minimumPerThread))
  if threads == 1 {
    body(0..<count)
    return
  }
  let chunk = ((count + threads - 1) / threads + 7) / 8 * 8
  Workers.concurrentPerform(iterations: threads) { t in
    let start = min(count, t * chunk)
    body(start..<min(count, start + chunk))
  }
}

/// Heavy-ball SGD, PyTorch's `torch.optim.SGD` (dampening 0, not Nesterov):
/// `g ← ∇ + λ·p;  v ← μ·v + g;  p ← p − η·v`.
/// With `μ = 0` this is plain SGD, `p ← p − η·(∇ + λ·p)`.
public func momentumUpdate(
  parameter p: inout Tensor, gradient g: Tensor, velocity v: inout Tensor,
  learningRate lr: Float, momentum mu: Float, weightDecay wd: Float
) {
  precondition(p.count == g.count && p.count == v.count, "momentumUpdate: mismatched buffers")
  guard p.count > 0 else { return }
  g.scalars.withUnsafeBufferPointer { pg in
    p.scalars.withUnsafeMutableBufferPointer { pp in
      v.scalars.withUnsafeMutableBufferPointer { pv in
        // The chunks write disjoint ranges, so sharing the pointers across threads is safe.
        nonisolated(unsafe) let (param, grad, vel) = (pp.baseAddress!, pg.baseAddress!, pv.baseAddress!)
        forEachChunk(of: pp.count) { range in
          for i in range {
            let gi = grad[i] + wd * param[i]  // exact g when wd == 0; branch-free to vectorise
            let vi = mu * vel[i] + gi
            vel[i] = vi
            param[i] -= lr * vi
          }
        }
      }
    }
  }
}

/// Adam / AdamW, step `t` (1-based), in the exact order of PyTorch's single-tensor
/// `torch.optim.Adam` / `AdamW` (no amsgrad):
///
///     Adam:  g ← ∇ + λ·p              AdamW:  p ← p·(1 − η·λ),  g ← ∇
///     m ← m + (1 − β₁)·(g − m)        (torch's lerp)
///     v ← β₂·v + (1 − β₂)·g²
///     p ← p − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// The bias corrections are computed in Double, as Python does.
public func adamUpdate(
  parameter p: inout Tensor, gradient g: Tensor,
  firstMoment m: inout Tensor, secondMoment v: inout Tensor,
  learningRate lr: Float, beta1: Float, beta2: Float, epsilon: Float,
  weightDecay wd: Float, decoupledWeightDecay: Bool, step t: Int
) {
  precondition(
    p.count == g.count && p.count == m.count && p.count == v.count,
    "adamUpdate: mismatched buffers")
  precondition(t >= 1, "adam step counts from 1")
  guard p.count > 0 else { return }
  let bc1 = 1 - pow(Double(beta1), Double(t))
  let bc2 = 1 - pow(Double(beta2), Double(t))
  let stepSize = Float(Double(lr) / bc1)
  let bc2Sqrt = Float(bc2.squareRoot())
  let decay = Float(decoupledWeightDecay ? 1 - Double(lr) * Double(wd) : 1)
  let l2: Float = decoupledWeightDecay ? 0 : wd
  let (oneMinusBeta1, oneMinusBeta2) = (1 - beta1, 1 - beta2)
  g.scalars.withUnsafeBufferPointer { pg in
    p.scalars.withUnsafeMutableBufferPointer { pp in
      m.scalars.withUnsafeMutableBufferPointer { pm in
        v.scalars.withUnsafeMutableBufferPointer { pv in
          // Every parameter, every step: the loop is the optimizer's whole cost. `floatLanes` at a
          // time with a vector square root (see `vectorSquareRoot`), split over threads.
          // Branch-free: decay is 1 for Adam and l2 is 0 for AdamW, which leave p and g
          // bit-for-bit unchanged.
          // The chunks write disjoint ranges, so sharing the pointers across threads is safe.
          nonisolated(unsafe) let (rp, rg, rm, rv) = (
            UnsafeMutableRawPointer(pp.baseAddress!), UnsafeRawPointer(pg.baseAddress!),
            UnsafeMutableRawPointer(pm.baseAddress!), UnsafeMutableRawPointer(pv.baseAddress!))
          @Sendable @inline(__always) func step(_ pi: FloatLanes, _ gi: FloatLanes, _ m0: FloatLanes, _ v0: FloatLanes)
            -> (p: FloatLanes, m: FloatLanes, v: FloatLanes)
          {
            let pi = pi * decay
            let gi = gi + l2 * pi
            let mi = m0 + oneMinusBeta1 * (gi - m0)
            let vi = beta2 * v0 + oneMinusBeta2 * gi * gi
            let denom = vectorSquareRoot(vi) / bc2Sqrt + epsilon
            return (pi - stepSize * (mi / denom), mi, vi)
          }
          forEachChunk(of: pp.count) { range in
            let vectorEnd = range.lowerBound + (range.count - range.count % floatLanes)
            var offset = range.lowerBound * 4
            while offset < vectorEnd * 4 {
              let (pi, mi, vi) = step(
                rp.loadUnaligned(fromByteOffset: offset, as: FloatLanes.self),
                rg.loadUnaligned(fromByteOffset: offset, as: FloatLanes.self),
                rm.loadUnaligned(fromByteOffset: offset, as: FloatLanes.self),
                rv.loadUnaligned(fromByteOffset: offset, as: FloatLanes.self))
              rp.storeBytes(of: pi, toByteOffset: offset, as: FloatLanes.self)
              rm.storeBytes(of: mi, toByteOffset: offset, as: FloatLanes.self)
              rv.storeBytes(of: vi, toByteOffset: offset, as: FloatLanes.self)
              offset += 4 * floatLanes
            }
            for i in vectorEnd..<range.upperBound {
              // The tail in lane 0 of a vector: the same arithmetic, so the same rounding.
              let offset = i * 4
              let (pi, mi, vi) = step(
                FloatLanes(repeating: rp.load(fromByteOffset: offset, as: Float.self)),
                FloatLanes(repeating: rg.load(fromByteOffset: offset, as: Float.self)),
                FloatLanes(repeating: rm.load(fromByteOffset: offset, as: Float.self)),
                FloatLanes(repeating: rv.load(fromByteOffset: offset, as: Float.self)))
              rp.storeBytes(of: pi[0], toByteOffset: offset, as: Float.self)
              rm.storeBytes(of: mi[0], toByteOffset: offset, as: Float.self)
              rv.storeBytes(of: vi[0], toByteOffset: offset, as: Float.self)
            }
          }
        }
      }
    }
  }
}
