import Foundation

// Helpers shared by the test targets: scratch folders and python3 for interoperability checks.

/// A fresh directory under the system temp dir, removed when `body` returns.
public func withTemporaryDirectory<R>(_ body: (URL) throws -> R) throws -> R {
  let folder = try TemporaryFolder()
  return try withExtendedLifetime(folder) { try body(folder.url) }
}

/// A scratch folder removed when the last reference to it goes (a test suite's lifetime when a
/// suite holds it).
public final class TemporaryFolder: Sendable {
  public let url: URL

  public init() throws {
    url = FileManager.default.temporaryDirectory
      .appending(path: "digits-tests-\(UUID().uuidString)", directoryHint: .isDirectory)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(at: url) }
}

/// python3, when this machine has it; tests that compare with numpy or zlib skip without it.
public enum Python {
  public static let isAvailable: Bool = (try? run("import zlib")) != nil
  public static let hasNumpy: Bool = (try? run("import numpy")) != nil

  /// Runs `script` with python3 and returns its standard output; throws when it exits non-zero.
  @discardableResult
  public static func run(_ script: String, arguments: [String] = []) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // Read both pipes before waiting: a child that fills a pipe buffer would otherwise never exit.
    // stderr is read on another thread for the same reason.
    let errorData = ErrorBox()
    let reader = Thread { errorData.value = errors.fileHandleForReading.readDataToEndOfFile() }
    reader.start()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !reader.isFinished { usleep(1_000) }
    guard process.terminationStatus == 0 else {
      throw PythonFailure(message: String(decoding: errorData.value, as: UTF8.self))
    }
    return String(decoding: out, as: UTF8.self)
  }

  private final class ErrorBox: @unchecked Sendable { var value = Data() }

  public struct PythonFailure: Error, CustomStringConvertible {
    public var message: String
    public var description: String { "python3 failed: \(message)" }
  }
}
