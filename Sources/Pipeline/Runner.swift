import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Whether a stage's artifacts are in the cache for its current fingerprint.
public enum StageState: String, Sendable, Codable {
  /// An entry for the current fingerprint exists: the stage would be skipped.
  case fresh
  /// The stage has entries, but none for the current fingerprint: something it depends on changed.
  case stale
  /// The stage has never run into this cache.
  case missing
}

/// A stage with its fingerprint worked out, before anything runs.
public struct PlannedStage: Sendable {
  public let stage: any Stage
  public var name: String { stage.name }
  public let fingerprint: Fingerprint
  public let state: StageState
  /// Upstream stage name -> its fingerprint.
  public let inputs: [String: Fingerprint]
  /// Role -> content hash of each external file, taken once per run.
  public let externalFiles: [String: Fingerprint]
  /// For a stale stage, what differs from its newest entry (the newest this pipeline made, if
  /// any), one line each (`epochs 12 → 30`,
  /// `split changed`, `archive file changed`); empty for a fresh or missing one.
  public let changes: [String]
}

extension [StageOutcome] {
  /// The cache entry of stage `name` in these outcomes, or an error saying it did not run.
  public func directory(of name: String) throws -> URL {
    guard let outcome = first(where: { $0.name == name }) else { throw PipelineError("the run did not reach stage '\(name)'") }
    return outcome.directory
  }
}

/// What happened to each stage in a run.
public struct StageOutcome: Sendable {
  public enum Action: Sendable, Equatable {
    case ran(seconds: Double)
    case cached
    case wouldRun
  }
  public let name: String
  public let fingerprint: Fingerprint
  public let action: Action
  /// The cache entry holding the stage's artifacts (absent for a dry run that would run it).
  public let directory: URL
}

/// Resolves a pipeline against the cache, skips what is fresh and runs the rest in order.
public struct Runner: Sendable {
  public let graph: PipelineGraph
  public let outputDirectory: URL
  /// The output folder's own cache unless one is given (`--cache`), which several output
  /// folders or machines may share.
  public let cache: CacheStore
  public let reporter: any Reporter
  /// What the run is building at any moment; a signal handler removes it (see ``ScratchRegistry``).
  public let scratch: ScratchRegistry
  /// What this process computes on, recorded in the manifest of every entry it makes.
  public let machine: [String]?
  /// The pipeline's name, recorded in the manifest of every entry it makes (``Manifest/pipeline``).
  public let pipelineName: String?

  public init(
    graph: PipelineGraph, outputDirectory: URL, reporter: any Reporter = SilentReporter(),
    scratch: ScratchRegistry = ScratchRegistry(), machine: [String]? = nil, pipelineName: String? = nil,
    cache: CacheStore? = nil
  ) {
    self.machine = machine
    self.pipelineName = pipelineName
    self.graph = graph
    self.outputDirectory = outputDirectory
    self.cache = cache ?? CacheStore(outputDirectory: outputDirectory)
    self.reporter = reporter
    self.scratch = scratch
  }

  /// Every stage's fingerprint and cache state. Reads nothing but the external files (hashed)
  /// and the manifests, so it is fast enough to run before every command.
  public func plan() throws -> [PlannedStage] {
    var fingerprints: [String: Fingerprint] = [:]
    var hashedFiles: [URL: Fingerprint] = [:]
    return try graph.stages.map { stage in
      var external: [String: Fingerprint] = [:]
      for (role, url) in stage.externalFiles {
        if hashedFiles[url] == nil {
          guard FileManager.default.isReadableFile(atPath: url.path) else {
            throw PipelineError("\(url.path): no such file (stage '\(stage.name)' reads it as its \(role))")
          }
          hashedFiles[url] = try Fingerprint.of(fileAt: url)
        }
        external[role] = hashedFiles[url]
      }
      let inputs = Dictionary(uniqueKeysWithValues: stage.inputs.map { ($0, fingerprints[$0]!) })
      let fingerprint = Fingerprint.ofStage(
        name: stage.name, version: type(of: stage).version,
        canonicalParameters: try stage.canonicalParameters(),
        inputs: inputs, externalFiles: external)
      fingerprints[stage.name] = fingerprint
      let parameters = try stage.canonicalParameters()
      let state: StageState
      var changes: [String] = []
      switch cache.lookup(stage: stage.name, fingerprint: fingerprint, verification: .sizes) {
      case .hit: state = .fresh
      case .damaged(let reason) where cache.hasAnyEntry(stage: stage.name):
        state = .stale
        changes = ["its entry is damaged (\(reason))"]
      case .missing, .damaged:
        // Against what this pipeline last made, so another pipeline's entries do not read as changes.
        let entries = cache.manifests(stage: stage.name)
        if let newest = entries.last(where: { $0.pipeline == pipelineName && pipelineName != nil }) ?? entries.last {
          state = .stale
          changes = Self.changes(
            from: newest, version: type(of: stage).version, parameters: parameters, inputs: inputs, externalFiles: external)
        } else {
          state = .missing
        }
      }
      return PlannedStage(
        stage: stage, fingerprint: fingerprint, state: state, inputs: inputs, externalFiles: external, changes: changes)
    }
  }

  /// What differs between an entry and what the stage would be fingerprinted on now.
  static func changes(
    from entry: Manifest, version: Int, parameters: String, inputs: [String: Fingerprint],
    externalFiles: [String: Fingerprint]
  ) -> [String] {
    var lines: [String] = []
    if entry.version != version { lines.append("code version \(entry.version) → \(version)") }
    lines += ParameterPaths.changes(from: entry.parameters, to: parameters)
    for name in Set(entry.inputs.keys).union(inputs.keys).sorted() {
      switch (entry.inputs[name], inputs[name]) {
      case let (before?, after?) where before != after: lines.append("\(name) changed")
      case (nil, _?): lines.append("+ reads \(name)")
      case (_?, nil): lines.append("- reads \(name)")
      default: break
      }
    }
    for role in Set(entry.externalFiles.keys).union(externalFiles.keys).sorted()
    where entry.externalFiles[role] != externalFiles[role] {
      lines.append("\(role) file changed")
    }
    return lines.isEmpty ? ["inputs or parameters changed"] : lines
  }

  /// Brings `target` (or, when nil, every stage) up to date. A target names a stage, or a group
  /// of stages named `target.<something>` as well (`train` selects `train` and `train.2`).
  ///
  /// - Fresh stages are skipped after a size check; a stage's inputs are checksummed in full
  ///   before it reads them, and a damaged input entry is recomputed with a warning.
  /// - `force` re-runs the target (or every stage) even when fresh; its upstream stays cached.
  /// - `dryRun` reports what would run and changes nothing.
  /// - `skipping` leaves stages out (and their groups, as for `target`), and with them the
  ///   stages that read them; skipping what `target` needs is an error.
  /// - Several runs may share the cache (and an output folder): each entry is built under its
  ///   own lock, so a run that needs an entry another run is computing waits for it (or, when
  ///   `waitForLock` is false, fails at once) and then uses it; runs that need different entries
  ///   go on side by side. An entry a run uses is locked shared until the run returns, so gc
  ///   cannot remove it. Published files are written together at the end, under the output
  ///   folder's lock.
  @discardableResult
  public func run(
    target: String? = nil, force: Bool = false, dryRun: Bool = false, skipping: [String] = [],
    waitForLock: Bool = true
  ) throws -> [StageOutcome] {
    let targets = try target.map { try graph.resolve($0) }
    let skipped = try skipping.flatMap { try graph.resolve($0) }
      .reduce(into: Set<String>()) { skipped, name in
        skipped.insert(name)
        skipped.formUnion(graph.descendants(of: name))
      }
    if let clash = targets?.first(where: skipped.contains) {
      throw PipelineError("cannot run '\(clash)' while skipping what it reads (--skip \(skipping.joined(separator: ", ")))")
    }
    // Held until the run returns: the cache in use (against clean), and each entry it uses.
    var held: [FileLock] = []
    defer { withExtendedLifetime(held) {} }
    if !dryRun {
      let usage = try cache.usageLock()
      if try !usage.lock(.shared, wait: false) {
        guard waitForLock else { throw PipelineError("\(cache.root.path): the cache is being cleaned") }
        reporter.report(.info("waiting for the cleaning of \(cache.root.path) to finish…"))
        try usage.lock(.shared, wait: true)
      }
      held.append(usage)
      for leftover in cache.removeLeftovers() {
        reporter.report(.warning("removed \(leftover.path), left by an interrupted run"))
      }
    }

    let runStarted = Date()
    let planned = try plan()
    // Nothing left in `needed` reads a skipped stage: its readers were skipped with it, and a
    // target among them was refused above.
    let needed = (targets.map { $0.reduce(into: Set<String>()) { $0.formUnion(graph.closure(of: $1)) } } ?? Set(graph.names))
      .subtracting(skipped)
    let forced: Set<String> = force ? (targets.map(Set.init) ?? needed) : []
    var willRun = Set(planned.filter { stage in
      needed.contains(stage.name) && (forced.contains(stage.name) || stage.state != .fresh)
    }.map(\.name))

    // Walk downstream to upstream: every input of a stage that will run, and every entry whose
    // files get published, is checksummed in full; a damaged one joins the run. One pass is
    // enough because an input always comes earlier in the order than its reader.
    var verified = Set<String>()
    let fingerprints = Dictionary(uniqueKeysWithValues: planned.map { ($0.name, $0.fingerprint) })
    for stage in planned.reversed() where needed.contains(stage.name) {
      var toVerify: [String] = willRun.contains(stage.name) ? stage.inputs.keys.sorted() : []
      if !willRun.contains(stage.name), !stage.stage.published.isEmpty {
        toVerify.append(stage.name)
      }
      for name in toVerify where !willRun.contains(name) && !verified.contains(name) {
        guard let fingerprint = fingerprints[name] else { continue }
        if case .damaged(let reason) = cache.lookup(stage: name, fingerprint: fingerprint, verification: .checksums) {
          reporter.report(.warning("cache entry of '\(name)' is damaged (\(reason)); recomputing it"))
          willRun.insert(name)
        } else {
          verified.insert(name)
        }
      }
    }

    var outcomes: [StageOutcome] = []
    var toPublish: [(stage: any Stage, directory: URL)] = []
    for stage in planned where needed.contains(stage.name) {
      let directory = cache.entryDirectory(stage: stage.name, fingerprint: stage.fingerprint)
      if dryRun {
        let action: StageOutcome.Action = willRun.contains(stage.name) ? .wouldRun : .cached
        if action == .cached { reporter.report(.stageSkipped(stage: stage.name, fingerprint: stage.fingerprint)) }
        outcomes.append(StageOutcome(name: stage.name, fingerprint: stage.fingerprint, action: action, directory: directory))
        continue
      }
      let lock = try cache.entryLock(stage: stage.name, fingerprint: stage.fingerprint)
      var runs = willRun.contains(stage.name)
      var removedMeanwhile = false
      if !runs {
        try take(lock, .shared, of: stage, waiting: waitForLock)
        // Removed since the plan was made (by gc, or another run replacing a damaged entry).
        if case .hit = cache.lookup(stage: stage.name, fingerprint: stage.fingerprint, verification: .sizes) {} else {
          (runs, removedMeanwhile) = (true, true)
          // flock converts by dropping the lock first on Linux, and on NFS waits holding it, so
          // two runs could each wait for the other: let go before asking for it exclusive.
          lock.unlock()
        }
      }
      var seconds: Double?
      if runs {
        try take(lock, .exclusive, of: stage, waiting: waitForLock)
        var builtMeanwhile = false
        if !forced.contains(stage.name),
          case .hit = cache.lookup(stage: stage.name, fingerprint: stage.fingerprint, verification: .checksums) {
          builtMeanwhile = true
        }
        if builtMeanwhile {
          reporter.report(.info("[\(stage.name)] computed by another run meanwhile"))
        } else {
          let reason = forced.contains(stage.name) ? "forced"
            : removedMeanwhile ? "its cache entry was removed while this run was starting"
            : stage.state == .fresh ? "cache entry damaged"
            : stage.state == .stale ? stage.changes.joined(separator: "; ") : "not in the cache"
          seconds = try execute(stage.stage, planned: stage, reason: reason, runStarted: runStarted)
          reporter.report(.stageFinished(stage: stage.name, seconds: seconds!))
        }
        // Others may read it from now on. The conversion lets go for an instant, in which gc
        // could take the entry: then it is gone, and this run says so rather than read nothing.
        try lock.lock(.shared, wait: true)
        guard case .hit = cache.lookup(stage: stage.name, fingerprint: stage.fingerprint, verification: .sizes) else {
          throw PipelineError("the cache entry of \(stage.name) (\(stage.fingerprint.short)) was removed (by gc?) as this run finished it; run again")
        }
      }
      if seconds == nil { reporter.report(.stageSkipped(stage: stage.name, fingerprint: stage.fingerprint)) }
      held.append(lock)
      if !stage.stage.published.isEmpty { toPublish.append((stage.stage, directory)) }
      outcomes.append(StageOutcome(
        name: stage.name, fingerprint: stage.fingerprint, action: seconds.map { .ran(seconds: $0) } ?? .cached,
        directory: directory))
    }
    // All of a run's published files at once, under the output folder's lock, so the folder
    // never holds one run's submission beside another's report.
    if !toPublish.isEmpty {
      let output = try OutputLock(directory: outputDirectory, wait: true)
      try withExtendedLifetime(output) {
        for (stage, directory) in toPublish { try publish(stage: stage, from: directory) }
      }
    }
    return outcomes
  }

  /// Takes an entry's lock, waiting (and saying so) while another run holds it, unless told not to.
  private func take(_ lock: FileLock, _ mode: FileLock.Mode, of stage: PlannedStage, waiting: Bool) throws {
    guard try !lock.lock(mode, wait: false) else { return }
    let what = mode == .shared
      ? "another run is computing or removing the cache entry of \(stage.name) (\(stage.fingerprint.short))"
      : "another run is computing or using the cache entry of \(stage.name) (\(stage.fingerprint.short))"
    guard waiting else { throw PipelineError("\(cache.root.path): \(what)") }
    reporter.report(.info("[\(stage.name)] waiting: \(what)…"))
    try lock.lock(mode, wait: true)
  }

  /// Runs one stage into a temporary folder and commits it; on any error the folder is removed
  /// and the cache is as it was. Reports the stage started only once its folder is registered for
  /// removal, so an interruption from then on (a user's Ctrl-C on seeing the line) leaves nothing.
  private func execute(_ stage: any Stage, planned: PlannedStage, reason: String, runStarted: Date) throws -> Double {
    let inputDirectories = planned.inputs.reduce(into: [String: URL]()) { directories, input in
      directories[input.key] = cache.entryDirectory(stage: input.key, fingerprint: input.value)
    }
    let temporary = try cache.makeTemporaryDirectory(stage: stage.name, fingerprint: planned.fingerprint)
    scratch.register(temporary)
    defer { scratch.unregister(temporary) }
    reporter.report(.stageStarted(stage: stage.name, fingerprint: planned.fingerprint, reason: reason))
    do {
      let context = StageContext(
        outputDirectory: temporary, inputDirectories: inputDirectories,
        reporter: reporter, stageName: stage.name, runStarted: runStarted)
      let start = Date()
      try stage.run(context)
      let seconds = Date().timeIntervalSince(start)
      let missing = stage.outputFileNames.filter {
        !FileManager.default.fileExists(atPath: temporary.appending(path: $0).path)
      }
      guard missing.isEmpty else {
        throw PipelineError("stage '\(stage.name)' did not write \(missing.joined(separator: ", "))")
      }
      try cache.commit(
        temporary: temporary, stage: stage.name, version: type(of: stage).version,
        fingerprint: planned.fingerprint, parameters: try stage.canonicalParameters(),
        inputs: planned.inputs, externalFiles: planned.externalFiles, seconds: seconds, machine: machine,
        pipeline: pipelineName)
      return seconds
    } catch {
      try? FileManager.default.removeItem(at: temporary)
      if error is StageFailure || error is PipelineError { throw error }
      throw StageFailure(stage: stage.name, underlying: error)
    }
  }

  /// Copies a stage's published artifacts out of the cache, each through a temporary file and
  /// a rename so a reader never sees half a file.
  private func publish(stage: any Stage, from directory: URL) throws {
    for (file, relativePath) in stage.published.sorted(by: { $0.key < $1.key }) {
      let destination = outputDirectory.appending(path: relativePath)
      let source = directory.appending(path: file)
      // A run with nothing to do writes nothing: an unchanged file keeps its bytes and its date.
      if FileManager.default.contentsEqual(atPath: source.path, andPath: destination.path) { continue }
      try FileManager.default.createDirectory(
        at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
      let temporary = destination.deletingLastPathComponent()
        .appending(path: ".\(destination.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
      try? FileManager.default.removeItem(at: temporary)
      scratch.register(temporary)
      defer { scratch.unregister(temporary) }
      try FileManager.default.copyItem(at: source, to: temporary)
      try renameReplacing(temporary, with: destination)
    }
  }
}

/// rename(2): atomically puts `source` at `destination`, replacing what was there.
/// (Foundation's moveItem refuses an existing destination; replaceItemAt wants one.)
func renameReplacing(_ source: URL, with destination: URL) throws {
  guard rename(source.path, destination.path) == 0 else {
    throw PipelineError("\(destination.path): cannot write (\(String(cString: strerror(errno))))")
  }
}

extension Stage {
  func canonicalParameters() throws -> String {
    String(decoding: try canonicalJSON(parameters), as: UTF8.self)
  }
  var outputFileNames: [String] { Output.fileNames }
}
