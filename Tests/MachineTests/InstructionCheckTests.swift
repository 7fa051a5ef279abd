import Machine
import Tensor
import Testing

/// A binary compiled for wider vectors than the CPU has stops with a message instead of running
/// into an illegal instruction later (`ProcessSetup.checkInstructions`).
@Suite struct InstructionCheckTests {
  /// scripts/target-cpu.sh's levels, as the flags `VectorUnits` would require.
  let avx512Level = [
    "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm",
  ]

  @Test func avx512Build_onAnAVX2CPU_namesWhatIsMissing() {
    #expect(throws: UnsupportedCPU.self) { try ProcessSetup.checkInstructions(of: avx2CPU, required: avx512Level) }
    do {
      try ProcessSetup.checkInstructions(of: avx2CPU, required: avx512Level)
    } catch let error as UnsupportedCPU {
      #expect(error.missing == ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"])
      #expect(error.description.contains("TARGET_CPU=x86-64") && error.description.contains("make"))
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }

  @Test func avx512Build_runsOnBothMachinesOfThisKind() throws {
    try ProcessSetup.checkInstructions(of: CPU(cpuinfo: amdEPYCCPUInfo)!, required: avx512Level)
    try ProcessSetup.checkInstructions(of: CPU(cpuinfo: intelXeonCPUInfo)!, required: avx512Level)
  }

  @Test func baselineBuild_runsAnywhere() throws {
    try ProcessSetup.checkInstructions(of: sseCPU, required: [])
  }

  /// This test binary runs, so the CPU has what it was compiled for: the required flags must not
  /// ask for more than the compiler was allowed to use.
  @Test(.enabled(if: CPU.current() != nil, "needs /proc/cpuinfo"))
  func thisBuild_passesOnThisCPU() throws {
    try ProcessSetup.checkInstructions(of: CPU.current()!)
  }
}
