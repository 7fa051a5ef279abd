// MARK: - Which OpenBLAS kernels this process should run

/// What to do about the kernel family OpenBLAS picked when it loaded, and why.
///
/// A DYNAMIC_ARCH OpenBLAS picks its kernels from the CPU when it loads. One that does not know
/// the CPU (Debian 12's 0.3.21 on Intel's Xeons of 2023 and later) falls back to its generic
/// `Prescott` SSE3 kernels, about an eighth of the speed the CPU's AVX-512 gives. It reads
/// `OPENBLAS_CORETYPE` only as it loads, so the fix is to start the process again with it set.
public struct KernelChoice: Sendable, Equatable {
  public enum Action: Sendable, Equatable {
    /// Run with the kernels OpenBLAS loaded.
    case keep
    /// Start this program again with `OPENBLAS_CORETYPE` set to `coreType`.
    case restart(coreType: String)
    /// Stop before any numeric work: the kernels loaded (forced by `OPENBLAS_CORETYPE`) need
    /// vectors this CPU lacks, and OpenBLAS would die on an illegal instruction.
    case stop
  }

  public var action: Action
  /// Why, in words for a log line or `pipeline doctor`.
  public var reason: String

  /// The variable OpenBLAS reads as it loads to choose its kernels.
  public static let coreTypeVariable = "OPENBLAS_CORETYPE"
  /// Set by the restart to the kernels OpenBLAS had picked by itself, so that the restarted
  /// process can say why its `OPENBLAS_CORETYPE` is set, and never restarts a second time.
  public static let replacedCoreVariable = "DIGITS_OPENBLAS_REPLACED_CORE"

  /// The decision, from what OpenBLAS loaded (`loadedCore`, its `openblas_get_corename`), the
  /// CPU (nil when unknown) and the environment. A user's own `OPENBLAS_CORETYPE` is always
  /// kept, and the reason says so when the kernels it gave are narrower than the CPU's vectors;
  /// only kernels wider than the CPU can run stop the program. Without it, a kernel family
  /// narrower than the CPU's vectors is replaced by the best one for them.
  public static func decide(loadedCore: String, cpu: CPU?, environment: [String: String]) -> KernelChoice {
    if let requested = environment[coreTypeVariable], !requested.isEmpty {
      let honoured = requested.caseInsensitiveCompare(loadedCore) == .orderedSame
      if let replaced = environment[replacedCoreVariable] {
        let vectors = cpu.map { "this CPU's \($0.widestVectors)" } ?? "this CPU's vectors"
        return KernelChoice(
          action: .keep,
          reason: honoured
            ? "\(coreTypeVariable)=\(requested), set by digits: OpenBLAS had picked its \(replaced) kernels, narrower than \(vectors)"
            : "digits set \(coreTypeVariable)=\(requested) in place of OpenBLAS's \(replaced) kernels, but this OpenBLAS runs \(loadedCore)")
      }
      var reason = "\(coreTypeVariable)=\(requested), set in the environment"
      // OpenBLAS declines some families on CPUs without their instructions (0.3.21 gave Haswell
      // for Cooperlake on an AVX2-only CPU), and ignores names it does not have.
      if !honoured {
        let cpuLacksThem = cpu.map { !canRun(requested, on: $0) } ?? false
        reason += cpuLacksThem
          ? "; this CPU lacks the instructions those kernels need, and OpenBLAS picked \(loadedCore) itself"
          : "; this OpenBLAS has no such kernels and picked \(loadedCore) itself"
      }
      guard let cpu else { return KernelChoice(action: .keep, reason: reason) }
      // What the CPU can run is judged against what OpenBLAS loaded, which is what will run.
      let best = bestCore(for: cpu)
      let cpuLevel = vectorLevel(of: cpu)
      let loadedLevel = vectorLevel(ofCore: loadedCore)
      if loadedLevel > cpuLevel {
        return KernelChoice(
          action: .stop,
          reason: "\(reason), but OpenBLAS's \(loadedCore) kernels need wider vectors than this CPU's \(cpu.widestVectors) "
            + "and would stop on an illegal instruction; unset \(coreTypeVariable)"
            + (best.map { " or set it to \($0)" } ?? ""))
      }
      // Kept, but a user who set it long ago (or whose machine image sets it) should be able to
      // see what it costs.
      if let best, loadedLevel < cpuLevel {
        reason += "; this CPU's \(cpu.widestVectors) could run \(best), which digits picks when \(coreTypeVariable) is unset"
      }
      return KernelChoice(action: .keep, reason: reason)
    }
    guard let cpu else {
      return KernelChoice(action: .keep, reason: "picked by OpenBLAS (the CPU's features are unknown here)")
    }
    guard let best = bestCore(for: cpu), vectorLevel(ofCore: loadedCore) < vectorLevel(ofCore: best) else {
      return KernelChoice(action: .keep, reason: "picked by OpenBLAS for this CPU")
    }
    if let replaced = environment[replacedCoreVariable] {
      // Restarted once already, and OPENBLAS_CORETYPE has been unset since (a program in
      // between cleaned the environment): do not start a second round.
      return KernelChoice(
        action: .keep,
        reason: "picked by OpenBLAS; digits asked for \(best) in place of \(replaced), and OpenBLAS did not take it")
    }
    return KernelChoice(
      action: .restart(coreType: best),
      reason: "OpenBLAS picked its \(loadedCore) kernels, narrower than this CPU's \(cpu.widestVectors)")
  }

  /// The best kernel family a DYNAMIC_ARCH OpenBLAS 0.3.21 or later has for `cpu`'s vectors, or
  /// nil below AVX. Cooperlake's single-precision kernels are SkylakeX's (it adds bfloat16
  /// ones), and newer OpenBLAS picks it on CPUs with AVX-512 BF16, the AMD EPYC here among them.
  public static func bestCore(for cpu: CPU) -> String? {
    if cpu.hasAVX512BF16 { return "Cooperlake" }
    if cpu.hasAVX512 { return "SkylakeX" }
    if cpu.hasAVX2 { return "Haswell" }
    if cpu.has("avx") { return "Sandybridge" }
    return nil
  }

  /// Whether `cpu` has the instructions kernel family `core` needs, as far as its vectors and
  /// (for Cooperlake) AVX-512 BF16 tell.
  static func canRun(_ core: String, on cpu: CPU) -> Bool {
    if core.caseInsensitiveCompare("Cooperlake") == .orderedSame && !cpu.hasAVX512BF16 { return false }
    return vectorLevel(ofCore: core) <= vectorLevel(of: cpu)
  }

  /// The widest kernels' level `cpu` runs, on the scale of `vectorLevel(ofCore:)`.
  static func vectorLevel(of cpu: CPU) -> Int {
    bestCore(for: cpu).map(vectorLevel(ofCore:)) ?? 0
  }

  /// How wide a kernel family's vectors are: 0 for the SSE families (Prescott, Nehalem, …),
  /// 1 for AVX, 2 for AVX2, 3 for AVX-512.
  public static func vectorLevel(ofCore name: String) -> Int {
    switch name.lowercased() {
    case "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator": 1
    case "haswell", "zen": 2
    case "skylakex", "cooperlake", "sapphirerapids": 3
    default: 0
    }
  }
}
