import Foundation

/// The files one stage writes, with typed accessors for the stages that read them.
///
/// A conforming type names its files once (`fileNames`); the runner checks that a finished stage
/// wrote every one of them before the cache entry is committed.
public protocol ArtifactSet: Sendable {
  static var fileNames: [String] { get }
  init(directory: URL)
}

/// One step of a pipeline: a value with a name, a code version, parameters, named inputs and a
/// `run` that reads its inputs and writes its ``Output`` into a directory it is given.
///
/// The runner, not the stage, decides whether to run it: a stage whose fingerprint (see
/// ``Fingerprint``) already has a complete cache entry is skipped.
public protocol Stage: Sendable {
  associatedtype Parameters: Codable & Sendable
  associatedtype Output: ArtifactSet

  /// Unique within a pipeline; also the cache folder's name.
  var name: String { get }
  /// Bumped when the stage's code changes what it writes, so old cache entries stop matching.
  static var version: Int { get }
  /// Everything that shapes the output besides the inputs. Enters the fingerprint as canonical JSON.
  var parameters: Parameters { get }
  /// Names of the upstream stages whose artifacts this stage reads.
  var inputs: [String] { get }
  /// Files outside the cache that the stage reads; their content hashes enter the fingerprint.
  var externalFiles: [String: URL] { get }
  /// Artifacts copied out of the cache into the output folder: file name -> path relative to it.
  var published: [String: String] { get }

  func run(_ context: StageContext) throws
}

extension Stage {
  public var externalFiles: [String: URL] { [:] }
  public var published: [String: String] { [:] }
}

/// What a running stage gets from the runner: its input artifacts, the directory to write into,
/// and a way to tell the user how it is doing.
public struct StageContext: Sendable {
  /// A fresh, empty directory; renamed into the cache only when `run` returns without error.
  public let outputDirectory: URL
  let inputDirectories: [String: URL]
  let reporter: any Reporter
  let stageName: String
  /// When the run that is executing this stage started: an input entry created before it came
  /// from the cache in this run.
  public let runStarted: Date

  public init(
    outputDirectory: URL, inputDirectories: [String: URL], reporter: any Reporter, stageName: String,
    runStarted: Date = Date()
  ) {
    self.outputDirectory = outputDirectory
    self.inputDirectories = inputDirectories
    self.reporter = reporter
    self.stageName = stageName
    self.runStarted = runStarted
  }

  /// The artifacts of the upstream stage `stage`, which must be one of this stage's `inputs`.
  public func input<A: ArtifactSet>(_ type: A.Type, from stage: String) -> A {
    guard let directory = inputDirectories[stage] else {
      preconditionFailure("stage '\(stageName)' reads '\(stage)' without declaring it as an input")
    }
    return A(directory: directory)
  }

  /// The manifest of an input's cache entry: what made it, when, and how long it took.
  public func manifest(of stage: String) throws -> Manifest {
    guard let directory = inputDirectories[stage] else {
      preconditionFailure("stage '\(stageName)' reads '\(stage)' without declaring it as an input")
    }
    return try JSONDecoder.iso8601.decode(Manifest.self, from: Data(contentsOf: directory.appending(path: Manifest.fileName)))
  }

  /// Where this stage writes its artifacts.
  public func output<A: ArtifactSet>(_ type: A.Type) -> A {
    A(directory: outputDirectory)
  }

  /// A line worth keeping in the log (an epoch's figures, a summary table).
  public func log(_ message: String) { reporter.report(.log(stage: stageName, message: message)) }

  /// A transient status line (batch progress); shown on a terminal, dropped from plain logs.
  public func progress(_ message: String) { reporter.report(.progress(stage: stageName, message: message)) }

  public func warning(_ message: String) { reporter.report(.warning(message)) }
}
