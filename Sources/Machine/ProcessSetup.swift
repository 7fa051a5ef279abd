// MARK: - Setting the process up before any numeric work

/// What every command that computes calls first (`pipeline run`, `demo`, `doctor`, `digits-bench`).
public enum ProcessSetup {
  /// Makes sure OpenBLAS runs kernels as wide as the CPU (`KernelSelection`: may restart the
  /// process), then sets the allocator to keep freed blocks (`MemoryPolicy`). Returns the kernel
  /// decision in force.
  @discardableResult
  public static func prepareForNumericWork(log: (String) -> Void) -> KernelChoice {
    let choice = KernelSelection.ensureBestKernel(log: log)
    MemoryPolicy.keepFreedBlocks()
    return choice
  }
}
