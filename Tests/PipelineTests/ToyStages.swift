import Foundation
import Pipeline

/// A tiny pipeline for exercising the runner: `source` copies an external file, `double` and
/// `shout` transform its text, `fail` throws when asked to. Each stage counts its runs in a
/// shared log so tests can see exactly what ran.
final class RunLog: @unchecked Sendable {
  private let lock = NSLock()
  private var names: [String] = []
  func record(_ name: String) { lock.withLock { names.append(name) } }
  var runs: [String] { lock.withLock { names } }
  func reset() { lock.withLock { names.removeAll() } }
}

struct TextFile: ArtifactSet {
  static let fileNames = ["text.txt"]
  let directory: URL
  init(directory: URL) { self.directory = directory }
  var text: URL { directory.appending(path: "text.txt") }
  func read() throws -> String { try String(contentsOf: text, encoding: .utf8) }
}

struct SourceStage: Stage {
  struct Parameters: Codable, Sendable {}
  typealias Output = TextFile
  static let version = 1
  let name = "source"
  let parameters = Parameters()
  let file: URL
  let log: RunLog
  var externalFiles: [String: URL] { ["file": file] }

  func run(_ context: StageContext) throws {
    log.record(name)
    try Data(contentsOf: file).write(to: context.output(TextFile.self).text)
  }
}

struct RepeatStage: Stage {
  struct Parameters: Codable, Sendable { var times: Int }
  typealias Output = TextFile
  static let version = 1
  let name: String
  let parameters: Parameters
  let upstream: Input<TextFile>
  let log: RunLog

  init(name: String, parameters: Parameters, inputs: [String], log: RunLog) {
    (self.name, self.parameters, upstream, self.log) = (name, parameters, Input(inputs[0]), log)
  }

  func run(_ context: StageContext) throws {
    log.record(name)
    let text = try context.read(upstream).read()
    try String(repeating: text, count: parameters.times).write(
      to: context.output(TextFile.self).text, atomically: false, encoding: .utf8)
  }
}

struct UppercaseStage: Stage {
  struct Parameters: Codable, Sendable {}
  typealias Output = TextFile
  static let version = 1
  let name = "shout"
  let parameters = Parameters()
  let upstream: Input<TextFile>
  let log: RunLog
  var published: [String: String] { ["text.txt": "result.txt"] }

  init(inputs: [String], log: RunLog) { (upstream, self.log) = (Input(inputs[0]), log) }

  func run(_ context: StageContext) throws {
    log.record(name)
    let text = try context.read(upstream).read()
    try text.uppercased().write(to: context.output(TextFile.self).text, atomically: false, encoding: .utf8)
  }
}

struct ToyError: Error, CustomStringConvertible {
  var description: String { "the toy stage was told to fail" }
}

struct FailingStage: Stage {
  struct Parameters: Codable, Sendable { var fail: Bool }
  typealias Output = TextFile
  static let version = 1
  let name = "fail"
  let parameters: Parameters
  let upstream: Input<TextFile>
  let log: RunLog

  init(parameters: Parameters, inputs: [String], log: RunLog) {
    (self.parameters, upstream, self.log) = (parameters, Input(inputs[0]), log)
  }

  func run(_ context: StageContext) throws {
    log.record(name)
    // Write part of the output first, as a real stage interrupted mid-way would.
    try "partial".write(to: context.output(TextFile.self).text, atomically: false, encoding: .utf8)
    if parameters.fail { throw ToyError() }
  }
}


/// Artifacts no toy stage writes: reading a stage as these is a miswired graph.
struct NumbersFile: ArtifactSet {
  static let fileNames = ["numbers.txt"]
  let directory: URL
  init(directory: URL) { self.directory = directory }
}

/// Reads `source` expecting `NumbersFile`, which it does not write.
struct MiswiredStage: Stage {
  struct Parameters: Codable, Sendable {}
  typealias Output = TextFile
  static let version = 1
  let name = "miswired"
  let parameters = Parameters()
  let numbers = Input<NumbersFile>("source")
  func run(_ context: StageContext) throws {}
}
