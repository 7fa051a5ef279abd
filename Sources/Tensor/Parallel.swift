import CBLAS
import Foundation

// MARK: - Work splitting for the layer kernels

/// Splits `0..<count` into `parts` contiguous ranges (sizes differ by at most one) and runs
/// `body(part, range)` for each, concurrently when `parts > 1`. The split depends only on
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
  DispatchQueue.concurrentPerform(iterations: parts) { p in body(p, range(p)) }
}

/// How many workers the layer kernels use: OpenBLAS's thread count, the project's one knob for
/// parallelism (`BLAS.setThreadCount`), so a 2-thread run is 2 threads everywhere.
var workerCount: Int { max(1, BLAS.threadCount) }

/// Runs `body` with OpenBLAS on one thread, then restores the previous count. For regions where
/// every worker calls GEMM on its own slice (one image each): per-image products are too small
/// for OpenBLAS to split well, but are close to single-core peak, and the workers scale instead.
func withSingleThreadedBLAS<R>(_ body: () -> R) -> R {
  let previous = openblas_get_num_threads()
  if previous == 1 { return body() }
  openblas_set_num_threads(1)
  defer { openblas_set_num_threads(previous) }
  return body()
}
