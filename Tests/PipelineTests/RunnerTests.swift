import Foundation
import TestSupport
import Testing
@testable import Pipeline

@Suite struct RunnerTests {
  let folder: TemporaryFolder
  let log = RunLog()
  let sourceFile: URL
  var output: URL { folder.url.appending(path: "out", directoryHint: .isDirectory) }

  init() throws {
    folder = try TemporaryFolder()
    sourceFile = folder.url.appending(path: "source.txt")
    try "ab".write(to: sourceFile, atomically: true, encoding: .utf8)
  }

  func runner(times: Int = 2, fail: Bool? = nil, pipelineName: String? = nil) throws -> Runner {
    var stages: [any Stage] = [
      SourceStage(file: sourceFile, log: log),
      RepeatStage(name: "repeat", parameters: .init(times: times), inputs: ["source"], log: log),
      UppercaseStage(inputs: ["repeat"], log: log),
    ]
    if let fail { stages.append(FailingStage(parameters: .init(fail: fail), inputs: ["shout"], log: log)) }
    return Runner(graph: try PipelineGraph(stages), outputDirectory: output, pipelineName: pipelineName)
  }

  func published() throws -> String {
    try String(contentsOf: output.appending(path: "result.txt"), encoding: .utf8)
  }

  @Test func firstRun_runsEveryStageAndPublishes() throws {
    let outcomes = try runner().run()
    #expect(log.runs == ["source", "repeat", "shout"])
    #expect(outcomes.allSatisfy { if case .ran = $0.action { true } else { false } })
    #expect(try published() == "ABAB")
  }

  /// A run with nothing to do rewrites no published file; a changed result replaces it.
  @Test func cachedRun_leavesPublishedFilesUntouched() throws {
    _ = try runner().run()
    let result = output.appending(path: "result.txt")
    let past = Date(timeIntervalSince1970: 946_684_800)
    try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: result.path)
    _ = try runner().run()
    #expect(try FileManager.default.attributesOfItem(atPath: result.path)[.modificationDate] as? Date == past)
    _ = try runner(times: 3).run()
    #expect(try published() == "ABABAB")
    #expect(try FileManager.default.attributesOfItem(atPath: result.path)[.modificationDate] as? Date != past)
  }

  /// "[stage] running" is the moment users (and the process tests) interrupt at: by then the
  /// stage's temporary folder exists and is registered for removal, so Ctrl-C leaves nothing.
  @Test func stageStarted_isReportedOnceItsTemporaryFolderIsRegistered() throws {
    final class FolderWatcher: Reporter, @unchecked Sendable {
      let cache: URL
      let scratch: ScratchRegistry
      var seen: [String: (folders: [String], removed: [URL])] = [:]
      init(cache: URL, scratch: ScratchRegistry) { (self.cache, self.scratch) = (cache, scratch) }
      func report(_ event: RunEvent) {
        guard case .stageStarted(let stage, _, _) = event else { return }
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: cache.appending(path: stage).path)) ?? []
        // What a signal handler would remove now, put back so the stage can go on.
        let registered = scratch.removeAll()
        for url in registered {
          try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
          scratch.register(url)
        }
        seen[stage] = (folders, registered)
      }
    }
    let scratch = ScratchRegistry()
    let watcher = FolderWatcher(cache: output.appending(path: "cache"), scratch: scratch)
    let stages: [any Stage] = [SourceStage(file: sourceFile, log: log)]
    try Runner(graph: try PipelineGraph(stages), outputDirectory: output, reporter: watcher, scratch: scratch).run()
    let source = try #require(watcher.seen["source"])
    #expect(source.folders.count == 1 && source.folders[0].hasPrefix(".tmp-"))
    #expect(source.removed.map(\.lastPathComponent) == source.folders)
  }

  /// Every entry a run makes records the machine the runner was given; entries it finds cached
  /// keep what they recorded.
  @Test func manifests_recordTheMachineThatComputedThem() throws {
    let first = try runner().run()
    let stages = try PipelineGraph([SourceStage(file: sourceFile, log: log), RepeatStage(
      name: "repeat", parameters: .init(times: 3), inputs: ["source"], log: log)])
    let second = try Runner(graph: stages, outputDirectory: output, machine: ["CPU  test", "kernels  Haswell"]).run()
    func machine(_ outcome: StageOutcome) throws -> [String]? {
      try JSONDecoder.iso8601.decode(
        Manifest.self, from: Data(contentsOf: outcome.directory.appending(path: Manifest.fileName))).machine
    }
    #expect(try first.map(machine) == [nil, nil, nil])
    #expect(try second.map(machine) == [nil, ["CPU  test", "kernels  Haswell"]])  // source was cached
  }

  @Test func secondRun_withNothingChanged_runsNothing() throws {
    try runner().run()
    log.reset()
    let outcomes = try runner().run()
    #expect(log.runs.isEmpty)
    #expect(outcomes.map(\.action) == [.cached, .cached, .cached])
    #expect(try runner().plan().map(\.state) == [.fresh, .fresh, .fresh])
  }

  @Test func parameterChange_rerunsThatStageAndDownstreamOnly() throws {
    try runner(times: 2).run()
    log.reset()
    #expect(try runner(times: 3).plan().map(\.state) == [.fresh, .stale, .stale])
    try runner(times: 3).run()
    #expect(log.runs == ["repeat", "shout"])
    #expect(try published() == "ABABAB")
  }

  /// `status` says why: the changed parameter with its old and new value, then what it feeds.
  @Test func staleStage_namesWhatChangedAgainstItsNewestEntry() throws {
    try runner(times: 2).run()
    let planned = try runner(times: 3).plan()
    #expect(planned.map(\.changes) == [[], ["times 2 → 3"], ["repeat changed"]])
    try "cd".write(to: sourceFile, atomically: true, encoding: .utf8)
    #expect(try runner(times: 2).plan().map(\.changes) == [["file file changed"], ["source changed"], ["repeat changed"]])
  }

  /// Entries made by another pipeline are not what this one is compared with, when it has its own.
  @Test func staleStage_isComparedWithWhatThisPipelineLastMade() throws {
    try runner(times: 2, pipelineName: "mine").run()
    try runner(times: 5, pipelineName: "theirs").run()
    #expect(try runner(times: 3, pipelineName: "mine").plan()[1].changes == ["times 2 → 3"])
    #expect(try runner(times: 3, pipelineName: "new").plan()[1].changes == ["times 5 → 3"])  // none of its own: the newest
    let manifest = try #require(CacheStore(root: output.appending(path: "cache")).manifests(stage: "repeat").first)
    #expect(manifest.pipeline == "mine")
  }

  @Test func manifests_listsCompleteEntriesOldestFirst() throws {
    try runner(times: 2).run()
    try runner(times: 3).run()
    let cache = CacheStore(root: output.appending(path: "cache"))
    _ = try cache.makeTemporaryDirectory(stage: "repeat", fingerprint: Fingerprint(hex: "ab"))
    let listed = cache.manifests(stage: "repeat")
    #expect(listed.map { ParameterPaths.flatten($0.parameters)["times"] } == ["2", "3"])
    #expect(cache.manifest(stage: "repeat", fingerprint: listed[0].fingerprint) == listed[0])
    // A file beside the stage folders (pipeline submit's log) is no stage.
    try Data("{}\n".utf8).write(to: cache.root.appending(path: "submissions.jsonl"))
    #expect(cache.stageNames() == ["repeat", "shout", "source"])
  }

  @Test func changedExternalFile_rerunsEverything() throws {
    try runner().run()
    log.reset()
    try "cd".write(to: sourceFile, atomically: true, encoding: .utf8)
    try runner().run()
    #expect(log.runs == ["source", "repeat", "shout"])
    #expect(try published() == "CDCD")
  }

  @Test func returningToOldParameters_isACacheHit() throws {
    try runner(times: 2).run()
    try runner(times: 3).run()
    log.reset()
    try runner(times: 2).run()
    #expect(log.runs.isEmpty)
    #expect(try published() == "ABAB")
  }

  @Test func singleStage_runsMissingUpstreamFirstButNotDownstream() throws {
    try runner().run(target: "repeat")
    #expect(log.runs == ["source", "repeat"])
    log.reset()
    try runner().run(target: "repeat", force: true)
    #expect(log.runs == ["repeat"])
  }

  @Test func force_withoutStage_rerunsEverything() throws {
    try runner().run()
    log.reset()
    try runner().run(force: true)
    #expect(log.runs == ["source", "repeat", "shout"])
  }

  @Test func dryRun_runsNothingAndReportsWhatWould() throws {
    try runner().run(target: "source")
    log.reset()
    let outcomes = try runner().run(dryRun: true)
    #expect(log.runs.isEmpty)
    #expect(outcomes.map(\.action) == [.cached, .wouldRun, .wouldRun])
    #expect(!FileManager.default.fileExists(atPath: output.appending(path: "result.txt").path))
  }

  @Test func flippedByteInAnInput_isDetectedAndRecomputed() throws {
    let first = try runner(times: 2).run()
    let sourceEntry = first[0].directory.appending(path: "text.txt")
    try "xb".write(to: sourceEntry, atomically: false, encoding: .utf8)  // same size, other content
    log.reset()
    try runner(times: 3).run()  // repeat must run, so it checksums its input
    #expect(log.runs == ["source", "repeat", "shout"])
    #expect(try published() == "ABABAB")
  }

  @Test func truncatedArtifact_isAMissOnTheCheapCheck() throws {
    let first = try runner().run()
    try Data().write(to: first[1].directory.appending(path: "text.txt"))
    log.reset()
    #expect(try runner().plan().map(\.state) == [.fresh, .stale, .fresh])
    try runner().run()
    #expect(log.runs == ["repeat"])
  }

  @Test func damagedPublishedEntry_isRecomputedBeforePublishing() throws {
    let first = try runner().run()
    try "XXXX".write(to: first[2].directory.appending(path: "text.txt"), atomically: false, encoding: .utf8)
    log.reset()
    try runner().run()
    #expect(log.runs == ["shout"])
    #expect(try published() == "ABAB")
  }

  @Test func failingStage_leavesNoEntryAndNoTemporaryFolder() throws {
    #expect(throws: StageFailure.self) { try runner(fail: true).run() }
    let stageFolder = output.appending(path: "cache/fail")
    let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: stageFolder.path)) ?? []
    #expect(leftovers.isEmpty)
    #expect(try runner(fail: true).plan().last?.state == .missing)
    // A run publishes its files together at the end: a failed one publishes none.
    #expect(!FileManager.default.fileExists(atPath: output.appending(path: "result.txt").path))
    // The stages before it were committed and stay cached.
    log.reset()
    try runner(fail: false).run()
    #expect(log.runs == ["fail"])
    #expect(try published() == "ABAB")
  }

  @Test func leftoverTemporaryFolder_isRemovedByTheNextRun() throws {
    try runner().run()
    let leftover = output.appending(path: "cache/repeat/.tmp-deadbeef-1-abc")
    try FileManager.default.createDirectory(at: leftover, withIntermediateDirectories: true)
    try runner().run()
    #expect(!FileManager.default.fileExists(atPath: leftover.path))
  }

  @Test func manifest_recordsChecksumsAndInputs() throws {
    let outcomes = try runner().run()
    let data = try Data(contentsOf: outcomes[1].directory.appending(path: Manifest.fileName))
    let manifest = try JSONDecoder.iso8601.decode(Manifest.self, from: data)
    #expect(manifest.stage == "repeat")
    #expect(manifest.inputs == ["source": outcomes[0].fingerprint])
    #expect(manifest.files.map(\.name) == ["text.txt"])
    #expect(manifest.files[0].sha256 == Fingerprint.of(bytes: Data("abab".utf8)))
    #expect(manifest.parameters == #"{"times":2}"#)
  }

  @Test func unknownStage_isAClearError() throws {
    #expect { try runner().run(target: "nope") } throws: { error in
      "\(error)".contains("no stage named 'nope'") && "\(error)".contains("source, repeat, shout")
    }
  }

  @Test func graph_rejectsAnInputThatIsNotAnEarlierStage() {
    #expect(throws: PipelineError.self) {
      try PipelineGraph([RepeatStage(name: "repeat", parameters: .init(times: 1), inputs: ["later"], log: log)])
    }
  }

  /// A stage's inputs are its `Input` properties, and a wrong artifact type is caught when the
  /// graph is built, before anything runs.
  @Test func graph_checksTheArtifactsEachInputExpects() throws {
    let source = SourceStage(file: sourceFile, log: log)
    #expect(RepeatStage(name: "repeat", parameters: .init(times: 1), inputs: ["source"], log: log).inputs == ["source"])
    #expect { try PipelineGraph([source, MiswiredStage()]) } throws: { error in
      "\(error)" == "stage 'miswired' reads 'source' as NumbersFile, but it writes TextFile"
    }
    #expect(log.runs.isEmpty)
  }

  @Test func lock_withoutWaiting_failsWhileAnotherHolderHasIt() throws {
    let held = try OutputLock(directory: output, wait: false)
    #expect(throws: PipelineError.self) { try OutputLock(directory: output, wait: false) }
    withExtendedLifetime(held) {}
  }

  /// An entry another run is building: without waiting the run fails at once; the lock released,
  /// the run goes on and builds it.
  @Test func entryBeingBuilt_makesARunWithoutWaitingFail() throws {
    let source = try runner().plan()[0]
    let cache = CacheStore(outputDirectory: output)
    do {
      let building = try cache.entryLock(stage: source.name, fingerprint: source.fingerprint)
      try building.lock(.exclusive, wait: false)
      #expect(throws: PipelineError.self) { try runner().run(waitForLock: false) }
      #expect(log.runs.isEmpty)
      withExtendedLifetime(building) {}
    }
    try runner().run(waitForLock: false)
    #expect(log.runs == ["source", "repeat", "shout"])
  }

  /// A run holds each entry it uses shared until it returns; gc's removal takes it exclusive.
  @Test func entryInUse_isNotRemoved() throws {
    try runner().run()
    let cache = CacheStore(outputDirectory: output)
    let entry = try #require(cache.manifests(stage: "repeat").first).id
    do {
      let reader = try cache.entryLock(stage: entry.stage, fingerprint: entry.fingerprint)
      try reader.lock(.shared, wait: false)
      #expect(try !cache.removeUnlessInUse(entry))
      withExtendedLifetime(reader) {}
    }
    #expect(try cache.removeUnlessInUse(entry, dryRun: true))
    #expect(cache.manifest(stage: entry.stage, fingerprint: entry.fingerprint) != nil)
    #expect(try cache.removeUnlessInUse(entry))
    #expect(cache.manifest(stage: entry.stage, fingerprint: entry.fingerprint) == nil)
  }

  /// A temporary folder whose entry's lock is held is being built by another run: not a leftover.
  @Test func temporaryFolderOfAnEntryBeingBuilt_isLeftAlone() throws {
    try runner().run()
    let cache = CacheStore(outputDirectory: output)
    let building = Fingerprint(hex: String(repeating: "ab", count: 32))
    let folder = try cache.makeTemporaryDirectory(stage: "repeat", fingerprint: building)
    let lock = try cache.entryLock(stage: "repeat", fingerprint: building)
    try lock.lock(.exclusive, wait: false)
    #expect(cache.removeLeftovers().isEmpty)
    #expect(FileManager.default.fileExists(atPath: folder.path))
    withExtendedLifetime(lock) {}
  }
}

@Suite struct DiagramTests {
  let log = RunLog()

  func graph() throws -> PipelineGraph {
    try PipelineGraph([
      SourceStage(file: URL(filePath: "/dev/null"), log: log),
      RepeatStage(name: "repeat.2", parameters: .init(times: 2), inputs: ["source"], log: log),
      UppercaseStage(inputs: ["repeat.2"], log: log),
    ])
  }

  @Test func text_listsEachStageWithItsInputs() throws {
    #expect(try graph().textDiagram(states: ["shout": .stale]) == """
      source
      repeat.2  ← source
      shout     ← repeat.2  stale
      """)
  }

  @Test func mermaid_usesSafeIdsAndKeepsNamesAsLabels() throws {
    #expect(try graph().mermaid() == """
      flowchart TD
        source["source"]
        repeat_2["repeat.2"]
        shout["shout"]
        source --> repeat_2
        repeat_2 --> shout
      """)
  }
}
