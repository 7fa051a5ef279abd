import Foundation
import Tensor

// MARK: - Restarting on better kernels

/// Applies `KernelChoice` to this process: the one place that starts the program again.
public enum KernelSelection {
  /// Decides on OpenBLAS's kernels, before any numeric work. When the decision is to restart,
  /// says so in one `log` line and replaces this process with the same program and arguments,
  /// `OPENBLAS_CORETYPE` set; that does not return. Otherwise (or if the restart fails, which
  /// is logged) returns the decision in force.
  @discardableResult
  public static func ensureBestKernel(log: (String) -> Void) -> KernelChoice {
    let loaded = OpenBLAS.coreName
    let choice = KernelChoice.decide(loadedCore: loaded, cpu: CPU.current(), environment: ProcessInfo.processInfo.environment)
    guard case .restart(let coreType) = choice.action else { return choice }
    log("digits: \(choice.reason); restarting with \(KernelChoice.coreTypeVariable)=\(coreType) (set \(KernelChoice.coreTypeVariable) yourself to choose otherwise)")
    setenv(KernelChoice.coreTypeVariable, coreType, 1)
    setenv(KernelChoice.replacedCoreVariable, loaded, 1)
    fflush(nil)  // every C stream: what is buffered would be lost with the old image
    // /proc/self/exe is this very binary, however it was found on the PATH.
    execv("/proc/self/exe", CommandLine.unsafeArgv)
    let failure = String(cString: strerror(errno))
    unsetenv(KernelChoice.coreTypeVariable)
    unsetenv(KernelChoice.replacedCoreVariable)
    log("digits: could not restart (\(failure)); going on with OpenBLAS's \(loaded) kernels")
    return KernelChoice(action: .keep, reason: "picked by OpenBLAS; restarting on \(coreType) failed: \(failure)")
  }
}
