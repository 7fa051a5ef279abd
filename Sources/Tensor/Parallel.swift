import CBLAS
import Foundation

// MARK: - Work splitting for the layer kernels

/// Splits `0..<count` into `parts` contiguous ranges (sizes differ by at most one) and runs
/// `body(part, range)` for each, concurrently when `parts > 1` and more than one worker is
/// configured (Dispatch hands parts to threads as they come free). The split depends only on
/// `count` and `parts`, so a kernel that reduces per part and then adds the parts in part order
/// is bit-for-bit repeatable for a fixed `parts`.
func forEachPart(of count: Int, parts: Int, _ body: @Sendable (_ part: Int, _ range: Range<Int>) -> Void) {
  let parts = max(1, min(parts, count))
  @Sendable func range(_ p: Int) -> Range<Int> {
    let (base, extra) = count.quotientAndRemainder(dividingBy: parts)
    let start = p * base + min(p, extra)
    return start..<(start + base + (p < extra ? 1 : 0))
  }
  if parts == 1 {
    body(0, 0..<count)
    return
  }
  if workerCount == 1 {
    for p in 0..<parts { body(p, range(p)) }
    return
  }
  DispatchQueue.concurrentPerform(iterations: parts) { p in body(p, range(p)) }
}

/// How many workers the layer kernels use: the thread count last given to `BLAS.setThreadCount`
/// (OpenBLAS's own default before that), the project's one knob for parallelism. Read from
/// Swift-side state, not from OpenBLAS, which `withSingleThreadedBLAS` lowers to 1 for a while:
/// a kernel's work split (and so its float summation order) must not depend on what another
/// thread happens to be doing.
var workerCount: Int { BLAS.configuredThreadCount }

/// How many parts kernels whose result does not depend on the split (elementwise work, or
/// reductions that keep each output on one thread) cut their work into: a few per worker, so
/// Dispatch can balance them when a core is shared with another process.
var elementwiseParts: Int { workerCount == 1 ? 1 : 4 * workerCount }

/// Runs `body` with OpenBLAS on one thread. For regions where every worker calls GEMM on its own
/// slice (one image each): per-image products are too small for OpenBLAS to split well, but run
/// close to single-core peak, and the workers scale instead. Regions may overlap (concurrent
/// callers): OpenBLAS goes back to the configured count when the last one ends.
func withSingleThreadedBLAS<R>(_ body: () -> R) -> R {
  BLAS.enterSingleThreadedRegion()
  defer { BLAS.leaveSingleThreadedRegion() }
  return body()
}

// MARK: - Vectorised reductions

// LLVM keeps a float `s += p[i]` loop as one serial add chain (it may not reassociate float
// addition), four cycles an element. These sum in sixteen lanes instead: a fixed order, so still
// deterministic, and close to memory speed.

/// `Σ p[i]` for `i < count`.
@inline(__always)
func vectorSum(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
  let raw = UnsafeRawPointer(p)
  var acc = SIMD16<Float>()
  var i = 0
  while i + 16 <= count {
    acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
    i += 16
  }
  var s = acc.sum()
  while i < count {
    s += p[i]
    i += 1
  }
  return s
}

/// `(Σ p[i], Σ p[i]·q[i])` with p shifted by `shift` in the product: `Σ q[i]` and `Σ q[i]·(p[i] − shift)`.
@inline(__always)
func vectorSumAndShiftedDot(_ q: UnsafePointer<Float>, _ p: UnsafePointer<Float>, shift: Float, _ count: Int) -> (Float, Float) {
  let (rq, rp) = (UnsafeRawPointer(q), UnsafeRawPointer(p))
  var sum = SIMD16<Float>()
  var dot = SIMD16<Float>()
  let s16 = SIMD16<Float>(repeating: shift)
  var i = 0
  while i + 16 <= count {
    let a = rq.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
    let b = rp.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
    sum += a
    dot += a * (b - s16)
    i += 16
  }
  var (s, d) = (sum.sum(), dot.sum())
  while i < count {
    s += q[i]
    d += q[i] * (p[i] - shift)
    i += 1
  }
  return (s, d)
}

/// `Σ (p[i] − shift)²`.
@inline(__always)
func vectorSquaredDeviation(_ p: UnsafePointer<Float>, shift: Float, _ count: Int) -> Float {
  let raw = UnsafeRawPointer(p)
  var acc = SIMD16<Float>()
  let s16 = SIMD16<Float>(repeating: shift)
  var i = 0
  while i + 16 <= count {
    let d = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - s16
    acc += d * d
    i += 16
  }
  var s = acc.sum()
  while i < count {
    let d = p[i] - shift
    s += d * d
    i += 1
  }
  return s
}
