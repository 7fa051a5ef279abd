import Foundation
import Testing

@testable import DataIO

/// A fresh directory under the system temp dir, removed when the test's closure returns.
func withTemporaryDirectory<R>(_ body: (URL) throws -> R) throws -> R {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("DataIOTests-\(UUID().uuidString)", isDirectory: true)
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: url) }
  return try body(url)
}

/// Runs `body`, records an issue unless it throws a `DataIOError`, and returns that error for
/// field-by-field checks.
func expectDataIOError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> DataIOError? {
  do {
    try body()
    Issue.record("expected a DataIOError, but nothing was thrown", sourceLocation: sourceLocation)
    return nil
  } catch let error as DataIOError {
    return error
  } catch {
    Issue.record("expected a DataIOError, got \(error)", sourceLocation: sourceLocation)
    return nil
  }
}

/// python3 with numpy, when this machine has it; the interoperability tests need both.
enum Python {
  static let hasNumpy: Bool = (try? run("import numpy")) != nil

  /// Runs `script` with python3 and returns its standard output; throws when it exits non-zero.
  @discardableResult
  static func run(_ script: String, arguments: [String] = []) throws -> String {
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

  struct PythonFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { "python3 failed: \(message)" }
  }
}
