import Foundation

// MARK: - How much memory a run may take

/// The memory this machine can give a run, read from Linux's `/proc/meminfo`.
///
/// `MemAvailable` is the kernel's own estimate of what can be allocated now without swapping:
/// free memory plus the page cache and other memory it can reclaim, less what other processes
/// hold. That is the question a model's size asks (`MemTotal` counts memory other programs are
/// using, and a model that fits it can still be killed for lack of memory). Kernels before 3.14
/// have no `MemAvailable`; then `MemTotal` is the figure, an upper bound. A cgroup's memory limit
/// (a container's) is not read: where one is set below these, it is the real ceiling.
///
/// Beside `Workers` because it is the other fact about the machine that sizes the numeric work.
public struct SystemMemory: Sendable, Equatable {
  /// Bytes.
  public var bytes: Double
  /// Which figure it is, for messages: "MemAvailable in /proc/meminfo".
  public var source: String

  public init(bytes: Double, source: String) {
    self.bytes = bytes
    self.source = source
  }

  /// This machine's figure, or nil where there is no `/proc/meminfo` (macOS).
  public static func current() -> SystemMemory? {
    (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)).flatMap(parse(meminfo:))
  }

  /// `MemAvailable`, else `MemTotal`, from the text of `/proc/meminfo` (`MemTotal:  24684084 kB`).
  public static func parse(meminfo: String) -> SystemMemory? {
    var fields: [Substring: Double] = [:]
    for line in meminfo.split(separator: "\n") {
      let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " })
      guard parts.count >= 2, let value = Double(parts[1]) else { continue }
      fields[parts[0]] = parts.count > 2 && parts[2] == "kB" ? value * 1024 : value
    }
    for name in ["MemAvailable", "MemTotal"] {
      if let bytes = fields[Substring(name)] { return SystemMemory(bytes: bytes, source: "\(name) in /proc/meminfo") }
    }
    return nil
  }
}
