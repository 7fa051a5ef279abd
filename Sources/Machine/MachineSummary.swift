import DataIO
import Foundation
import Tensor

// MARK: - What this process runs on, for `pipeline doctor`, `make bench` and the report

/// The facts that decide how fast (and with which rounding) this process computes: the CPU and
/// its vector extensions, the instructions the kernels were compiled for, OpenBLAS and the kernels it runs and why, the worker threads, and the
/// Swift and libarchive it was built with.
public struct MachineSummary: Sendable, Equatable, Codable {
  public var cpu: String
  public var vectorExtensions: String
  /// The instruction set the Swift kernels were compiled for (`VectorUnits`).
  public var compiledFor: String
  public var openBLAS: String
  public var kernel: String
  public var kernelReason: String
  public var threads: Int
  public var swift: String
  public var libarchive: String

  /// This process, with `choice` the kernel decision it ran under (`KernelSelection`).
  public static func current(kernelChoice choice: KernelChoice) -> MachineSummary {
    let cpu = CPU.current()
    var cpuLine = cpu.map { cpu in
      let model = [cpu.family.map { "family \($0)" }, cpu.model.map { "model \($0)" }].compactMap { $0 }
      return "\(cpu.modelName) (\(([cpu.vendor] + model).joined(separator: ", ")))"
    } ?? "unknown"
    cpuLine += ", \(ProcessInfo.processInfo.activeProcessorCount) cores"
    let extensions = cpu.map { cpu in
      [("AVX2", cpu.hasAVX2), ("AVX-512", cpu.hasAVX512), ("AVX-512 BF16", cpu.hasAVX512BF16), ("AMX", cpu.hasAMX)]
        .map { "\($0.0) \($0.1 ? "yes" : "no")" }.joined(separator: ", ")
    } ?? "unknown"
    return MachineSummary(
      cpu: cpuLine, vectorExtensions: extensions, compiledFor: VectorUnits.compiledFor, openBLAS: OpenBLAS.configuration, kernel: OpenBLAS.coreName,
      kernelReason: choice.reason, threads: Workers.count, swift: swiftVersion, libarchive: libarchiveVersion)
  }

  /// Label and value pairs, in the order `pipeline doctor` prints them.
  public var fields: [(label: String, value: String)] {
    [
      ("CPU", cpu),
      ("vectors", vectorExtensions),
      ("compiled for", compiledFor),
      ("OpenBLAS", openBLAS),
      ("kernels", "\(kernel): \(kernelReason)"),
      ("threads", "\(threads) workers for the network's kernels, each running OpenBLAS on its own thread (pipeline run --threads N)"),
      ("Swift", swift),
      ("libarchive", libarchive),
    ]
  }

  /// The fields as aligned lines.
  public var lines: [String] {
    let width = fields.map(\.label.count).max() ?? 0
    return fields.map { $0.label.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.value }
  }
}

/// The compiler this binary was built with, to the patch release where it can tell.
let swiftVersion: String = {
  #if compiler(>=6.5)
    "6.5 or later"
  #elseif compiler(>=6.4)
    "6.4"
  #elseif compiler(>=6.3.2)
    "6.3.2"
  #elseif compiler(>=6.3.1)
    "6.3.1"
  #elseif compiler(>=6.3)
    "6.3"
  #else
    "before 6.3"
  #endif
}()
