import Foundation
import Synchronization

// MARK: - Workers: how many threads the network's kernels use

/// How many threads the kernels split their work over (parsing and augmentation, whose results
/// do not depend on the split, use every core). OpenBLAS itself always runs on the calling
/// thread (see `OpenBLAS.pinToCallingThread`): `gemm` cuts large products into row blocks, one per
/// worker, and the layer kernels split images, channels or rows the same way.
///
/// The count is the process default (`setDefault`, the CLI's `--threads`), unless a caller holds
/// its own for a while with `withCount`. That override is task-local and travels into the
/// threads `forEachPart` and `Workers.concurrentPerform` start, so a test that fixes the count
/// gets it in every kernel it reaches, whatever other tests running beside it do. A kernel's work
/// split, and so its floating-point summation order, depends on the count and nothing else.
public enum Workers {
  /// The count in force here: the innermost `withCount`, else the process default.
  public static var count: Int { override ?? processDefault.withLock { $0 } }

  /// Sets the process default, for every later kernel call outside a `withCount`.
  public static func setDefault(_ n: Int) {
    precondition(n >= 1, "worker count must be positive")
    processDefault.withLock { $0 = n }
  }

  /// Runs `body` with `n` workers for every kernel it calls, on this thread and on the workers
  /// those kernels start.
  public static func withCount<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
    precondition(n >= 1, "worker count must be positive")
    return try $override.withValue(n, operation: body)
  }

  /// Runs `body(i)` for `i` in `0..<iterations` on up to `count` threads (the caller's and
  /// `WorkerPool`'s), each iteration seeing the caller's `count`; returns when all have run.
  public static func concurrentPerform(iterations: Int, _ body: @Sendable (Int) -> Void) {
    let n = count
    WorkerPool.shared.perform(iterations: iterations, width: n) { i in
      $override.withValue(n) { body(i) }
    }
  }

  @TaskLocal private static var override: Int?

  /// Before any `setDefault`: OpenBLAS's own default as it loaded (`OPENBLAS_NUM_THREADS`, else
  /// the cores it may use), read before OpenBLAS is pinned to one thread.
  private static let processDefault = Mutex(OpenBLAS.threadCountAtLoad)
}

/// The current worker count (see `Workers`).
var workerCount: Int { Workers.count }

/// Splits `0..<count` into `parts` contiguous ranges (sizes differ by at most one) and runs
/// `body(part, range)` for each, concurrently when `parts > 1` and more than one worker is
/// configured (`WorkerPool` hands parts to threads as they come free). The split depends only on
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
  Workers.concurrentPerform(iterations: parts) { p in body(p, range(p)) }
}

/// How many parts kernels whose result does not depend on the split (elementwise work, or
/// reductions that keep each output on one thread) cut their work into: a few per worker, so
/// the pool can balance them when a core is shared with another process.
var elementwiseParts: Int { workerCount == 1 ? 1 : 4 * workerCount }

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
