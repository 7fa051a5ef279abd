import Foundation
import Machine
import TestSupport
import Testing

/// The real `pipeline` binary choosing OpenBLAS's kernels as it starts (`pipeline doctor` makes
/// the same check as `run`, then prints what it runs on). Each child starts from this process's
/// environment without `OPENBLAS_CORETYPE`: what a user gets on a fresh machine.
@Suite(.enabled(if: CPU.current()?.hasAVX2 == true, "needs a CPU with AVX2"))
struct KernelSelectionProcessTests {
  static let cpu = CPU.current()!

  func doctor(_ extra: [String: String] = [:]) throws -> (summary: MachineSummary, errors: String) {
    var environment = ProcessInfo.processInfo.environment
    environment[KernelChoice.coreTypeVariable] = nil
    environment[KernelChoice.replacedCoreVariable] = nil
    environment.merge(extra) { $1 }
    let (status, output, errors) = try RunningPipeline(
      executable: ProcessTests.executable, arguments: ["doctor", "--json"], environment: environment
    ).finish(within: 30)
    #expect(status == 0, "\(errors)")
    return (try JSONDecoder().decode(MachineSummary.self, from: Data(output.utf8)), errors)
  }

  /// Never a generic kernel on a CPU with AVX2, whichever CPU this is and whatever OpenBLAS picks.
  @Test func withoutSettings_runsKernelsAsWideAsTheCPU() throws {
    let (summary, _) = try doctor()
    let best = try #require(KernelChoice.bestCore(for: Self.cpu))
    #expect(KernelChoice.vectorLevel(ofCore: summary.kernel) >= KernelChoice.vectorLevel(ofCore: best), "\(summary)")
  }

  /// OpenBLAS falling back to Prescott, as Debian 12's does on the Intel Xeon, made to happen on
  /// any CPU: a preloaded library answers `openblas_get_corename` with "Prescott" whenever
  /// OPENBLAS_CORETYPE is unset. The binary restarts itself once, says so in one line, and the
  /// restarted process runs (and reports) the best kernels for this CPU.
  @Test func afterAFallbackToPrescott_restartsOnceOnTheBestKernels() throws {
    try withTemporaryDirectory { folder in
      let shim = try Self.buildPrescottShim(in: folder)
      let (summary, errors) = try doctor(["LD_PRELOAD": shim.path])
      let best = try #require(KernelChoice.bestCore(for: Self.cpu))
      #expect(summary.kernel == best)
      #expect(summary.kernelReason.contains("set by digits") && summary.kernelReason.contains("Prescott"))
      let restarts = errors.split(separator: "\n").filter { $0.contains("restarting with OPENBLAS_CORETYPE=\(best)") }
      #expect(restarts.count == 1, "\(errors)")
    }
  }

  /// A user's own OPENBLAS_CORETYPE wins, even over the shim's Prescott, and nothing restarts.
  @Test func usersCoreType_isKeptWithoutARestart() throws {
    try withTemporaryDirectory { folder in
      let shim = try Self.buildPrescottShim(in: folder)
      let (summary, errors) = try doctor(["OPENBLAS_CORETYPE": "Haswell", "LD_PRELOAD": shim.path])
      #expect(summary.kernel == "Haswell")
      #expect(summary.kernelReason.hasPrefix("OPENBLAS_CORETYPE=Haswell, set in the environment"))
      #expect(summary.kernelReason.contains("could run") == Self.cpu.hasAVX512)
      #expect(!errors.contains("restarting"))
    }
  }

  /// A shared library whose `openblas_get_corename` says "Prescott" unless OPENBLAS_CORETYPE is
  /// set, and otherwise asks the real OpenBLAS. Built with the C compiler beside Swift's.
  static func buildPrescottShim(in folder: URL) throws -> URL {
    let source = folder.appending(path: "prescott.c")
    let library = folder.appending(path: "prescott.so")
    try """
      #define _GNU_SOURCE
      #include <dlfcn.h>
      #include <stdlib.h>
      char *openblas_get_corename(void) {
        const char *set = getenv("OPENBLAS_CORETYPE");
        if (set == NULL || *set == 0) return "Prescott";
        char *(*real)(void) = (char *(*)(void))dlsym(RTLD_NEXT, "openblas_get_corename");
        return real();
      }
      """.write(to: source, atomically: true, encoding: .utf8)
    let compiler = Process()
    compiler.executableURL = URL(filePath: "/usr/bin/env")
    compiler.arguments = ["clang", "-shared", "-fPIC", "-o", library.path, source.path, "-ldl"]
    try compiler.run()
    compiler.waitUntilExit()
    guard compiler.terminationStatus == 0 else { throw ProcessTestFailure("clang could not build the Prescott shim") }
    return library
  }
}
