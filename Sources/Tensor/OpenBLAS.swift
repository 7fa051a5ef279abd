import CBLAS

// MARK: - The OpenBLAS library this process loaded

/// What OpenBLAS reports about itself, and the one setting this project makes on it.
///
/// OpenBLAS's thread count is global to the process. Raising and lowering it around a network's
/// passes, as this project once did, let one caller's change alter the blocking (and so the
/// rounding) of another thread's products, and left OpenBLAS's idle pool threads spinning
/// (`sched_yield`) between products, taking cores from the layer kernels. So OpenBLAS is set to
/// one thread once, before its first product, and never changed again: `gemm` and the
/// convolutions split their work over `Workers.count` threads themselves.
public enum OpenBLAS {
  /// The kernel family OpenBLAS selected when it loaded (`openblas_get_corename`), such as
  /// `Haswell`, `SkylakeX` or `Prescott`. A DYNAMIC_ARCH build picks it from the CPU, or from
  /// `OPENBLAS_CORETYPE` when that is set; it reads neither again later.
  public static var coreName: String { String(cString: openblas_get_corename()) }

  /// Its build configuration (`openblas_get_config`), e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH ... Cooperlake MAX_THREADS=64`.
  public static var configuration: String { String(cString: openblas_get_config()) }

  /// The version in `configuration` (`0.3.21`), or nil when it does not start `OpenBLAS X.Y.Z`.
  public static var version: String? {
    let words = configuration.split(separator: " ")
    guard words.count >= 2, words[0] == "OpenBLAS" else { return nil }
    return String(words[1])
  }

  /// The threads OpenBLAS would have used as it loaded: `OPENBLAS_NUM_THREADS`, else the cores
  /// it may run on. The default of `Workers.count`.
  public static let threadCountAtLoad: Int = max(1, Int(openblas_get_num_threads()))

  /// The threads OpenBLAS runs a product on now: 1 once this module has handed it a product.
  public static var threadsInUse: Int { Int(openblas_get_num_threads()) }

  /// Sets OpenBLAS to run every call on the calling thread, once per process; called before
  /// every call this module makes into OpenBLAS (`gemm`, the convolutions, `scale`, `axpy`).
  @inline(__always)
  static func pinToCallingThread() { _ = pinned }

  private static let pinned: Void = {
    _ = threadCountAtLoad  // read before it is lowered
    openblas_set_num_threads(1)
  }()
}
