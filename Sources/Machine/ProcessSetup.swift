import Tensor

// MARK: - Setting the process up before any numeric work

/// What every command that computes calls first (`pipeline run`, `demo`, `doctor`, `digits-bench`).
public enum ProcessSetup {
  /// Stops when the CPU lacks instructions this binary was compiled for (`VectorUnits`), makes
  /// sure OpenBLAS runs kernels as wide as the CPU (`KernelSelection`: may restart the process),
  /// stops when `OPENBLAS_CORETYPE` forced kernels wider than the CPU (`UnrunnableKernels`),
  /// then sets the allocator to keep freed blocks (`MemoryPolicy`). Returns the kernel decision
  /// in force.
  @discardableResult
  public static func prepareForNumericWork(log: (String) -> Void) throws -> KernelChoice {
    if let cpu = CPU.current() { try checkInstructions(of: cpu) }
    let choice = KernelSelection.ensureBestKernel(log: log)
    if choice.action == .stop { throw UnrunnableKernels(reason: choice.reason) }
    MemoryPolicy.keepFreedBlocks()
    return choice
  }

  /// Throws when `cpu` lacks any of `required` (by default, what this binary's kernels were
  /// compiled for).
  public static func checkInstructions(of cpu: CPU, required: [String] = VectorUnits.requiredCPUFlags) throws {
    let missing = required.filter { !cpu.has($0) }
    guard missing.isEmpty else {
      throw UnsupportedCPU(compiledFor: VectorUnits.compiledFor, cpu: cpu.modelName, missing: missing)
    }
  }
}

/// A binary compiled for wider vectors than this CPU has: built on another machine, or with a
/// `TARGET_CPU` this one does not run.
public struct UnsupportedCPU: Error, CustomStringConvertible, Equatable {
  public var compiledFor: String
  public var cpu: String
  public var missing: [String]

  public var description: String {
    "this binary was compiled for \(compiledFor), but this CPU (\(cpu)) lacks \(missing.joined(separator: ", ")); "
      + "rebuild it here with `make` (which compiles for the CPU it runs on), or with TARGET_CPU=x86-64 for any x86-64 CPU"
  }
}

/// `OPENBLAS_CORETYPE` forced kernels that need vectors this CPU lacks: stopping here, with the
/// way out, beats OpenBLAS dying on an illegal instruction in its first product.
public struct UnrunnableKernels: Error, CustomStringConvertible, Equatable {
  public var reason: String
  public var description: String { reason }
}
