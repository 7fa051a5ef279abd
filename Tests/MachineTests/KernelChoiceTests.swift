import Machine
import Testing

@Suite struct CPUTests {
  @Test func cpuinfo_readsTheFirstProcessorOnly() throws {
    let amd = try #require(CPU(cpuinfo: amdEPYCCPUInfo))
    #expect(amd.vendor == "AuthenticAMD")
    #expect(amd.modelName == "AMD EPYC")
    #expect(amd.family == 25 && amd.model == 17)
    #expect(amd.hasAVX2 && amd.hasAVX512 && amd.hasAVX512BF16 && !amd.hasAMX)
    #expect(amd.widestVectors == "AVX-512")

    let intel = try #require(CPU(cpuinfo: intelXeonCPUInfo))
    #expect(intel.vendor == "GenuineIntel" && intel.family == 6 && intel.model == 207)
    #expect(intel.hasAVX512BF16 && intel.hasAMX)

    #expect(!avx2CPU.hasAVX512 && avx2CPU.hasAVX2 && avx2CPU.widestVectors == "AVX2")
    #expect(!sseCPU.hasAVX2 && sseCPU.widestVectors == "SSE")
  }

  @Test func cpuinfo_withoutFlags_isUnknown() {
    #expect(CPU(cpuinfo: "") == nil)
    #expect(CPU(cpuinfo: "processor\t: 0\nmodel name\t: something\n") == nil)
  }
}

@Suite struct KernelChoiceTests {
  let amd = CPU(cpuinfo: amdEPYCCPUInfo)!
  let intel = CPU(cpuinfo: intelXeonCPUInfo)!

  /// What Debian 12's OpenBLAS 0.3.21 does by itself: Cooperlake on the AMD EPYC, kept.
  @Test func amdEPYC_keepsWhatOpenBLASPicked() {
    let choice = KernelChoice.decide(loadedCore: "Cooperlake", cpu: amd, environment: [:])
    #expect(choice.action == .keep)
    #expect(choice.reason == "picked by OpenBLAS for this CPU")
  }

  /// ... and Prescott on the Intel Xeon, which it does not know: restart on Cooperlake.
  @Test func intelXeonOnPrescott_restartsOnCooperlake() {
    let choice = KernelChoice.decide(loadedCore: "Prescott", cpu: intel, environment: ["PATH": "/usr/bin"])
    #expect(choice.action == .restart(coreType: "Cooperlake"))
    #expect(choice.reason.contains("Prescott") && choice.reason.contains("AVX-512"))
  }

  /// The restarted process keeps what it was given, says why, and never restarts again, even if
  /// OpenBLAS did not take the setting.
  @Test func restartedProcess_keepsAndSaysWhy() {
    let restarted = ["OPENBLAS_CORETYPE": "Cooperlake", "DIGITS_OPENBLAS_REPLACED_CORE": "Prescott"]
    let choice = KernelChoice.decide(loadedCore: "Cooperlake", cpu: intel, environment: restarted)
    #expect(choice.action == .keep)
    #expect(choice.reason.contains("set by digits") && choice.reason.contains("Prescott"))
    // An OpenBLAS that did not take the setting (no such kernels, or not a DYNAMIC_ARCH build)
    // is said to, not papered over.
    let ignored = KernelChoice.decide(loadedCore: "Prescott", cpu: intel, environment: restarted)
    #expect(ignored.action == .keep)
    #expect(ignored.reason == "digits set OPENBLAS_CORETYPE=Cooperlake in place of OpenBLAS's Prescott kernels, but this OpenBLAS runs Prescott")
    let unsetSince = KernelChoice.decide(
      loadedCore: "Prescott", cpu: intel, environment: ["DIGITS_OPENBLAS_REPLACED_CORE": "Prescott"])
    #expect(unsetSince.action == .keep)
  }

  /// A user's OPENBLAS_CORETYPE is respected, even a slow one, and even one this OpenBLAS lacks.
  @Test func usersCoreType_isAlwaysKept() {
    for cpu in [amd, intel, avx2CPU, sseCPU] {
      let choice = KernelChoice.decide(loadedCore: "Prescott", cpu: cpu, environment: ["OPENBLAS_CORETYPE": "Prescott"])
      #expect(choice.action == .keep)
      #expect(choice.reason.hasPrefix("OPENBLAS_CORETYPE=Prescott, set in the environment"))
    }
    let unknown = KernelChoice.decide(
      loadedCore: "Cooperlake", cpu: intel, environment: ["OPENBLAS_CORETYPE": "SapphireRapids"])
    #expect(unknown.action == .keep)
    #expect(unknown.reason.contains("no such kernels and picked Cooperlake"))
    // A family this OpenBLAS has but declines on a CPU without its instructions is not called
    // missing (0.3.21 loads Haswell for Cooperlake on an AVX2-only CPU).
    let declined = KernelChoice.decide(
      loadedCore: "Haswell", cpu: avx2CPU, environment: ["OPENBLAS_CORETYPE": "Cooperlake"])
    #expect(declined.action == .keep)
    #expect(declined.reason == "OPENBLAS_CORETYPE=Cooperlake, set in the environment; this CPU lacks the instructions those kernels need, and OpenBLAS picked Haswell itself")
    var noBF16 = intel
    noBF16.flags.remove("avx512_bf16")
    let declinedForBF16 = KernelChoice.decide(
      loadedCore: "SkylakeX", cpu: noBF16, environment: ["OPENBLAS_CORETYPE": "cooperlake"])
    #expect(declinedForBF16.reason.hasSuffix("this CPU lacks the instructions those kernels need, and OpenBLAS picked SkylakeX itself"))
    // Set but empty is no choice: Debian's OpenBLAS 0.3.21 then detects the CPU as if unset.
    let empty = KernelChoice.decide(loadedCore: "Prescott", cpu: intel, environment: ["OPENBLAS_CORETYPE": ""])
    #expect(empty.action == .restart(coreType: "Cooperlake"))
  }

  /// Kept, but a setting narrower than the CPU says what it costs (a machine image may set
  /// OPENBLAS_CORETYPE=Haswell on an AVX-512 CPU); one as wide as the CPU says nothing more.
  @Test func usersNarrowCoreType_saysWhatTheCPUCouldRun() {
    let haswellOnAVX512 = KernelChoice.decide(loadedCore: "Haswell", cpu: amd, environment: ["OPENBLAS_CORETYPE": "Haswell"])
    #expect(haswellOnAVX512.action == .keep)
    #expect(haswellOnAVX512.reason == "OPENBLAS_CORETYPE=Haswell, set in the environment; this CPU's AVX-512 could run Cooperlake, which digits picks when OPENBLAS_CORETYPE is unset")
    let prescottOnAVX2 = KernelChoice.decide(loadedCore: "Prescott", cpu: avx2CPU, environment: ["OPENBLAS_CORETYPE": "Prescott"])
    #expect(prescottOnAVX2.reason == "OPENBLAS_CORETYPE=Prescott, set in the environment; this CPU's AVX2 could run Haswell, which digits picks when OPENBLAS_CORETYPE is unset")
    // OpenBLAS matches names in any case.
    let lowerCase = KernelChoice.decide(loadedCore: "Haswell", cpu: amd, environment: ["OPENBLAS_CORETYPE": "haswell"])
    #expect(lowerCase.action == .keep)
    #expect(lowerCase.reason.hasPrefix("OPENBLAS_CORETYPE=haswell, set in the environment; this CPU's AVX-512 could run Cooperlake"))
    // A name OpenBLAS does not know is judged by what it loaded instead.
    let unknownThenNarrow = KernelChoice.decide(loadedCore: "Prescott", cpu: intel, environment: ["OPENBLAS_CORETYPE": "Emeraldrapids"])
    #expect(unknownThenNarrow.action == .keep)
    #expect(unknownThenNarrow.reason.contains("no such kernels and picked Prescott itself; this CPU's AVX-512 could run Cooperlake"))
    // As wide as the CPU, though not the family `bestCore` would name: nothing to say.
    for (core, cpu) in [("SkylakeX", intel), ("Cooperlake", amd), ("Zen", avx2CPU), ("Prescott", sseCPU)] {
      let choice = KernelChoice.decide(loadedCore: core, cpu: cpu, environment: ["OPENBLAS_CORETYPE": core])
      #expect(choice.action == .keep)
      #expect(choice.reason == "OPENBLAS_CORETYPE=\(core), set in the environment", "\(core)")
    }
    let cpuUnknown = KernelChoice.decide(loadedCore: "Prescott", cpu: nil, environment: ["OPENBLAS_CORETYPE": "Prescott"])
    #expect(cpuUnknown.reason == "OPENBLAS_CORETYPE=Prescott, set in the environment")
  }

  /// OpenBLAS loads whatever OPENBLAS_CORETYPE names, without asking the CPU: kernels wider than
  /// its vectors would die on an illegal instruction in the first product, so the program stops
  /// first and says how to go on.
  @Test func usersCoreTypeWiderThanTheCPU_stops() {
    let skylakeXOnAVX2 = KernelChoice.decide(loadedCore: "SkylakeX", cpu: avx2CPU, environment: ["OPENBLAS_CORETYPE": "SkylakeX"])
    #expect(skylakeXOnAVX2.action == .stop)
    #expect(skylakeXOnAVX2.reason == "OPENBLAS_CORETYPE=SkylakeX, set in the environment, but OpenBLAS's SkylakeX kernels need wider vectors than this CPU's AVX2 and would stop on an illegal instruction; unset OPENBLAS_CORETYPE or set it to Haswell")
    let haswellOnSSE = KernelChoice.decide(loadedCore: "Haswell", cpu: sseCPU, environment: ["OPENBLAS_CORETYPE": "Haswell"])
    #expect(haswellOnSSE.action == .stop)
    #expect(haswellOnSSE.reason.hasSuffix("this CPU's SSE and would stop on an illegal instruction; unset OPENBLAS_CORETYPE"))
    // Cooperlake's single-precision kernels are SkylakeX's: AVX-512 without BF16 runs them.
    var noBF16 = intel
    noBF16.flags.remove("avx512_bf16")
    #expect(KernelChoice.decide(loadedCore: "Cooperlake", cpu: noBF16, environment: ["OPENBLAS_CORETYPE": "Cooperlake"]).action == .keep)
    // Without the CPU's flags there is nothing to judge by.
    #expect(KernelChoice.decide(loadedCore: "SkylakeX", cpu: nil, environment: ["OPENBLAS_CORETYPE": "SkylakeX"]).action == .keep)
  }

  @Test func bestCore_followsTheWidestVectors() {
    #expect(KernelChoice.bestCore(for: amd) == "Cooperlake")
    #expect(KernelChoice.bestCore(for: intel) == "Cooperlake")
    var noBF16 = intel
    noBF16.flags.remove("avx512_bf16")
    #expect(KernelChoice.bestCore(for: noBF16) == "SkylakeX")
    #expect(KernelChoice.bestCore(for: avx2CPU) == "Haswell")
    #expect(KernelChoice.bestCore(for: sseCPU) == nil)
    var avxOnly = sseCPU
    avxOnly.flags.insert("avx")
    #expect(KernelChoice.bestCore(for: avxOnly) == "Sandybridge")
    // AVX-512 without every subset SkylakeX's kernels use (a Xeon Phi, say) is not AVX-512 here.
    var partial = noBF16
    partial.flags.remove("avx512bw")
    #expect(KernelChoice.bestCore(for: partial) == "Haswell")
  }

  /// Only a narrower family is replaced: SkylakeX on a BF16 CPU runs the same single-precision
  /// kernels as Cooperlake; Haswell on an AVX2 CPU is the best there is; an SSE CPU has nothing better.
  @Test func sameVectorWidth_isKept() {
    #expect(KernelChoice.decide(loadedCore: "SkylakeX", cpu: intel, environment: [:]).action == .keep)
    #expect(KernelChoice.decide(loadedCore: "Zen", cpu: avx2CPU, environment: [:]).action == .keep)
    #expect(KernelChoice.decide(loadedCore: "Prescott", cpu: sseCPU, environment: [:]).action == .keep)
    #expect(KernelChoice.decide(loadedCore: "Haswell", cpu: amd, environment: [:]).action == .restart(coreType: "Cooperlake"))
    #expect(KernelChoice.decide(loadedCore: "Prescott", cpu: avx2CPU, environment: [:]).action == .restart(coreType: "Haswell"))
    #expect(KernelChoice.decide(loadedCore: "Nehalem", cpu: nil, environment: [:]).action == .keep)
  }

  @Test func vectorLevels_orderTheFamilies() {
    let families = ["Prescott", "Nehalem", "Sandybridge", "Haswell", "Zen", "SkylakeX", "Cooperlake"]
    #expect(families.map(KernelChoice.vectorLevel(ofCore:)) == [0, 0, 1, 2, 2, 3, 3])
    #expect(KernelChoice.vectorLevel(ofCore: "HASWELL") == 2)
  }
}

@Suite struct MemoryPolicyTests {
  /// glibc accepts both thresholds (it refuses, and keeps its defaults, past limits of its own).
  /// This sets them for the whole test process, as `pipeline` sets them for itself: they change
  /// when memory goes back to the system, never a result.
  @Test(.enabled(if: CPU.current() != nil, "glibc on Linux only"))
  func keepFreedBlocks_isAcceptedByTheAllocator() {
    #expect(MemoryPolicy.mmapThreshold > 100 << 20)  // an inference batch's largest activation
    #expect(MemoryPolicy.keepFreedBlocks())
  }
}
