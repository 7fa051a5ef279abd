import Foundation
import Machine
import Tensor
import Testing

/// A binary compiled for wider vectors than the CPU has stops with a message instead of running
/// into an illegal instruction later (`ProcessSetup.checkInstructions`).
@Suite struct InstructionCheckTests {
  /// The flags scripts/target-cpu.sh requires for each level it can choose, read from the script
  /// (`has_all ...` lines, in order: skylake-avx512, haswell), so the test holds no copy of them.
  static let scriptLevels: [[String]] = {
    let script = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appending(path: "scripts/target-cpu.sh")
    let text = (try? String(contentsOf: script, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap { line in
      guard let range = line.range(of: "has_all "), line.contains("then") else { return nil }
      return line[range.upperBound...].split(separator: ";")[0].split(separator: " ").map(String.init)
    }
  }()
  var avx512Level: [String] { Self.scriptLevels[0] }

  @Test func scriptLevels_areTheOnesVectorUnitsNames() {
    #expect(Self.scriptLevels.count == 2)
    #expect(Self.scriptLevels[0].starts(with: ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]))
    #expect(Set(Self.scriptLevels[1]).isSubset(of: Set(Self.scriptLevels[0])))
    // This binary's requirement is the script's list for the level it was built at (none for
    // the baseline), so the two definitions cannot drift apart.
    let required = VectorUnits.requiredCPUFlags
    #expect(required.isEmpty || Self.scriptLevels.contains(required), "\(required) vs \(Self.scriptLevels)")
  }

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
