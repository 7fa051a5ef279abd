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
  /// The upstream stages this stage reads and what it expects them to have written. By default
  /// (and normally) the stage's stored `Input` properties, found by reflection, so that an input
  /// is declared once, where it is named and typed; `PipelineGraph` checks them all.
  var declaredInputs: [InputDeclaration] { get }
  /// Files outside the cache that the stage reads; their content hashes enter the fingerprint.
  var externalFiles: [String: URL] { get }
  /// Artifacts copied out of the cache into the output folder: file name -> path relative to it.
  var published: [String: String] { get }

  func run(_ context: StageContext) throws
}

extension Stage {
  public var externalFiles: [String: URL] { [:] }
  public var published: [String: String] { [:] }

  public var declaredInputs: [InputDeclaration] {
    var seen = Set<String>()
    return Mirror(reflecting: self).children
      .flatMap { ($0.value as? any StageInputs)?.declarations ?? [] }
      .filter { seen.insert($0.stage).inserted || $0.artifacts != nil }
  }

  /// The names of the upstream stages this stage reads, in the order declared, each once.
  public var inputs: [String] {
    var seen = Set<String>()
    return declaredInputs.map(\.stage).filter { seen.insert($0).inserted }
  }

  /// What the stage writes, for checking its readers' declarations.
  var outputType: any ArtifactSet.Type { Output.self }
}

/// An upstream stage a stage reads, typed by the artifacts it expects there:
/// `let parsed = Input<ParsedArrays>("parse")`, then `context.read(parsed)` in `run`.
public struct Input<Artifacts: ArtifactSet>: Sendable, StageInputs {
  public let stage: String
  public init(_ stage: String) { self.stage = stage }
  public var declarations: [InputDeclaration] { [InputDeclaration(stage: stage, artifacts: Artifacts.self)] }
}

/// An upstream stage read only for its manifest (what made it, when, how long it took), whatever
/// it writes: the report's table of every stage.
public struct ManifestInput: Sendable, StageInputs {
  public let stage: String
  public init(_ stage: String) { self.stage = stage }
  public var declarations: [InputDeclaration] { [InputDeclaration(stage: stage, artifacts: nil)] }
}

/// One declared input: the stage and the artifact type expected of it (nil: its manifest only).
public struct InputDeclaration: Sendable {
  public let stage: String
  public let artifacts: (any ArtifactSet.Type)?
}

/// Stored properties that declare inputs: an `Input`, a `ManifestInput`, or an array of them.
public protocol StageInputs {
  var declarations: [InputDeclaration] { get }
}

extension Array: StageInputs where Element: StageInputs {
  public var declarations: [InputDeclaration] { flatMap(\.declarations) }
}

/// An input a stage reads only in some configurations.
extension Optional: StageInputs where Wrapped: StageInputs {
  public var declarations: [InputDeclaration] { self?.declarations ?? [] }
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

  /// The artifacts of a declared input (the graph checked its type when it was built).
  public func read<A: ArtifactSet>(_ input: Input<A>) -> A {
    A(directory: directory(of: input.stage))
  }

  /// The manifest of an input's cache entry: what made it, when, and how long it took.
  public func manifest(of input: some StageInputs) throws -> Manifest {
    guard let stage = input.declarations.first?.stage else { preconditionFailure("no input to read a manifest of") }
    return try manifest(of: stage)
  }

  private func manifest(of stage: String) throws -> Manifest {
    try JSONDecoder.iso8601.decode(Manifest.self, from: Data(contentsOf: directory(of: stage).appending(path: Manifest.fileName)))
  }

  private func directory(of stage: String) -> URL {
    guard let directory = inputDirectories[stage] else {
      preconditionFailure("stage '\(stageName)' reads '\(stage)', which is not among its Input properties")
    }
    return directory
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
