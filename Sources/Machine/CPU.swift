import Foundation

// MARK: - The processor, as Linux describes it

/// The processor this process runs on: its name and the instruction-set extensions the kernel
/// reports for it (`/proc/cpuinfo`), which are what decide which OpenBLAS kernels can run.
public struct CPU: Sendable, Equatable {
  public var vendor: String
  public var modelName: String
  public var family: Int?
  public var model: Int?
  /// Lower-case flag names as `/proc/cpuinfo` spells them (`avx2`, `avx512f`, `avx512_bf16`, `amx_tile`).
  public var flags: Set<String>

  public init(vendor: String, modelName: String, family: Int? = nil, model: Int? = nil, flags: Set<String>) {
    self.vendor = vendor
    self.modelName = modelName
    self.family = family
    self.model = model
    self.flags = flags
  }

  /// The first processor's entry of a `/proc/cpuinfo` text; nil when it has no `flags` line.
  public init?(cpuinfo: String) {
    var fields: [String: String] = [:]
    for line in cpuinfo.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.allSatisfy(\.isWhitespace) {
        if fields.isEmpty { continue }
        break  // the end of the first processor's entry
      }
      guard let colon = line.firstIndex(of: ":") else { continue }
      let key = line[..<colon].trimmingCharacters(in: .whitespaces)
      let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      if fields[key] == nil { fields[key] = value }
    }
    guard let flags = fields["flags"] else { return nil }
    self.init(
      vendor: fields["vendor_id"] ?? "unknown", modelName: fields["model name"] ?? "unknown",
      family: fields["cpu family"].flatMap { Int($0) }, model: fields["model"].flatMap { Int($0) },
      flags: Set(flags.split(separator: " ").map { $0.lowercased() }))
  }

  /// This machine's processor, or nil where `/proc/cpuinfo` cannot be read (not Linux).
  public static func current() -> CPU? {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
    return CPU(cpuinfo: text)
  }

  public func has(_ flag: String) -> Bool { flags.contains(flag) }

  /// AVX2 with FMA: what OpenBLAS's Haswell kernels need.
  public var hasAVX2: Bool { has("avx2") && has("fma") }
  /// The AVX-512 subsets OpenBLAS's SkylakeX kernels need (F, CD, BW, DQ, VL).
  public var hasAVX512: Bool { ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(has) }
  /// AVX-512 with bfloat16 dot products (OpenBLAS's Cooperlake kernels).
  public var hasAVX512BF16: Bool { hasAVX512 && has("avx512_bf16") }
  /// Intel's AMX tile unit.
  public var hasAMX: Bool { has("amx_tile") }

  /// The widest vector extension, for one line: `AVX-512`, `AVX2`, `AVX` or `SSE`.
  public var widestVectors: String {
    hasAVX512 ? "AVX-512" : hasAVX2 ? "AVX2" : has("avx") ? "AVX" : "SSE"
  }
}
