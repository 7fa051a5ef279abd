import Foundation
import Pipeline
import TestSupport
import Testing
@testable import DigitsPipeline
@testable import Experiments

/// `pipeline exp`: the runs a cache remembers, on a cache the test fills with tiny pipelines.
@Suite struct ExperimentLogTests {
  let folder: TemporaryFolder
  let zip: URL
  var output: URL { folder.url.appending(path: "out", directoryHint: .isDirectory) }
  var cache: CacheStore { CacheStore(root: output.appending(path: "cache", directoryHint: .isDirectory)) }

  init() throws {
    folder = try TemporaryFolder()
    let dataset = TinyDataset()
    zip = folder.url.appending(path: "digits.zip")
    try writeZip(["train.csv": Data(dataset.trainCSV.utf8), "test.csv": Data(dataset.testCSV.utf8)], to: zip)
  }

  /// Runs the tiny pipeline with `overrides` and returns its evaluate entry's fingerprint.
  @discardableResult
  func run(_ overrides: [String] = []) throws -> Fingerprint {
    let configuration = try PipelineFile.decode(
      DigitsConfiguration.self, yaml: EndToEndTests.configurationYAML, fileName: "tiny.yaml", overrides: overrides)
    let graph = try DigitsPipeline.graph(configuration: configuration, input: zip)
    let outcomes = try Runner(graph: graph, outputDirectory: output, pipelineName: configuration.name).run()
    return try #require(outcomes.first { $0.name == StageName.evaluate }).fingerprint
  }

  func experiments() -> [Experiment] {
    ExperimentLog.load(cache: cache, submission: output.appending(path: PredictStage.publishedSubmission))
  }

  /// Three runs: 4 epochs; the same with a second member; and last, so published, one epoch at a
  /// learning rate too small to learn anything, whose submission differs from the others'.
  func threeRuns() throws -> (four: Fingerprint, pair: Fingerprint, weak: Fingerprint) {
    (try run(), try run(["ensemble=2"]), try run(["train.epochs=1", "train.optimizer.learning_rate=0.00001"]))
  }

  @Test func table_hasOneRowPerRunAndTheParametersThatDiffer() throws {
    let (four, pair, weak) = try threeRuns()
    let all = experiments()
    #expect(all.map(\.id) == [four, pair, weak])  // oldest first
    let table = ExperimentTable(all)
    #expect(table.parameterColumns == ["train.epochs", "train.optimizer.learning_rate"])
    #expect(table.header == [
      "id", "evaluated", "pipeline", "train.epochs", "train.optimizer.learning_rate",
      "members", "accuracy", "errors", "loss", "train s", "submission",
    ])
    let rows = table.rows
    #expect(rows.map { $0[0] } == [four.short, pair.short, weak.short])
    #expect(rows.map { $0[2] } == ["tiny", "tiny", "tiny"])
    #expect(rows.map { $0[3] } == ["4", "4", "1"])
    #expect(rows.map { $0[4] } == ["0.01", "0.01", "1e-05"])
    #expect(rows.map { $0[5] } == ["1", "2", "1"])
    #expect(rows.map { $0.last! } == ["", "", "current"])
    #expect(ExperimentTable(all, allParameters: true).parameterColumns.contains("split.validation_fraction"))
  }

  /// Each row's figures are its evaluate entry's metrics.json and its train entries' times.
  @Test func figures_comeFromTheRunsOwnEntries() throws {
    let (_, pair, _) = try threeRuns()
    let experiment = try #require(experiments().first { $0.id == pair })
    let metrics = try Evaluation(directory: cache.entryDirectory(stage: StageName.evaluate, fingerprint: pair)).readMetrics()
    #expect(experiment.metrics == metrics)
    #expect(experiment.errors == metrics.rows - (0..<10).reduce(0) { $0 + metrics.confusion[$1][$1] })
    let trained = cache.manifests(stage: StageName.train) + cache.manifests(stage: StageName.train(member: 2))
    let members = try #require(cache.manifest(stage: StageName.evaluate, fingerprint: pair)).inputs
    let seconds = trained.filter { members[$0.stage] == $0.fingerprint }.map(\.seconds)
    #expect(seconds.count == 2)
    #expect(abs(experiment.trainingSeconds - seconds.reduce(0, +)) < 1e-9)
    #expect(experiment.stages.map(\.name) == ["unpack", "parse", "split", "normalise", "train", "train.2", "evaluate"])
  }

  @Test func selection_filtersAndSorts() throws {
    let (four, pair, weak) = try threeRuns()
    let all = experiments()
    #expect(try ExperimentSelection(conditions: ["train.epochs=1"]).apply(to: all).map(\.id) == [weak])
    #expect(try ExperimentSelection(conditions: ["train.epochs=4"]).apply(to: all).map(\.id) == [four, pair])
    #expect(try ExperimentSelection(pipeline: "other").apply(to: all).isEmpty)
    let byAccuracy = try ExperimentSelection(sort: .accuracy).apply(to: all).map { $0.metrics!.accuracy }
    #expect(byAccuracy == byAccuracy.sorted(by: >))
    let byLoss = try ExperimentSelection(sort: .loss).apply(to: all).map { $0.metrics!.loss }
    #expect(byLoss == byLoss.sorted())
    #expect(throws: PipelineError.self) { try ExperimentSelection(conditions: ["train.epoch=2"]).apply(to: all) }
    #expect(throws: PipelineError.self) { try ExperimentSelection(conditions: ["epochs"]) }
  }

  @Test func find_takesAUniquePrefixOfTheId() throws {
    let (four, _, _) = try threeRuns()
    let all = experiments()
    #expect(try ExperimentLog.find(String(four.hex.prefix(8)), in: all).id == four)
    #expect(try ExperimentLog.find(four.hex.uppercased(), in: all).id == four)
    #expect(throws: PipelineError.self) { try ExperimentLog.find("abc", in: all) }
    #expect(throws: PipelineError.self) { try ExperimentLog.find("zzzz", in: all) }
    var twins = all[0]
    twins.id = Fingerprint(hex: String(four.hex.prefix(6)) + String(repeating: "0", count: 58))
    #expect(throws: PipelineError.self) { try ExperimentLog.find(String(four.hex.prefix(6)), in: all + [twins]) }
  }

  @Test func diff_showsTheChangedParameterAndEachFiguresChange() throws {
    let (four, _, weak) = try threeRuns()
    let all = experiments()
    let diff = ExperimentDiff(try ExperimentLog.find(four.hex, in: all), try ExperimentLog.find(weak.hex, in: all))
    #expect(diff.parameters == [
      .init(name: "train.epochs", old: "4", new: "1", change: ""),
      .init(name: "train.optimizer.learning_rate", old: "0.01", new: "1e-05", change: ""),
    ])
    #expect(diff.metrics.map(\.name) == ["accuracy", "errors", "loss", "members", "train s"])
    let errors = try #require(diff.metrics.first { $0.name == "errors" })
    let (a, b) = (diff.old.errors!, diff.new.errors!)
    #expect(errors.old == "\(a)" && errors.new == "\(b)")
    #expect(errors.change == (b > a ? "+\(b - a)" : "\(b - a)"))
    #expect(diff.metrics.first { $0.name == "members" }?.change == "0")
    #expect(ExperimentDiff(diff.old, diff.new, allParameters: true).parameters.count > 10)
    #expect(diff.text().contains("\ntrain.epochs                   4             1\n"))
  }

  @Test func json_andMarkdown_carryEveryRow() throws {
    let (four, _, _) = try threeRuns()
    let all = experiments()
    let decoded = try JSONSerialization.jsonObject(with: Data(readableJSON(all.map { ExperimentJSON($0) }).utf8)) as! [[String: Any]]
    #expect(decoded.count == 3)
    #expect(decoded[0]["id"] as? String == four.short)
    #expect(decoded[0]["fingerprint"] as? String == four.hex)
    #expect((decoded[0]["parameters"] as? [String: String])?["train.epochs"] == "4")
    #expect(decoded[0]["accuracy"] as? Double == all[0].metrics?.accuracy)
    #expect(decoded.map { $0["current_submission"] as? Bool } == [false, false, true])
    let whole = try JSONSerialization.jsonObject(with: Data(readableJSON(ExperimentJSON(all[0], withStages: true)).utf8)) as! [String: Any]
    #expect((whole["stages"] as? [[String: Any]])?.count == 6)

    let markdown = ExperimentTable(all).markdown().split(separator: "\n")
    #expect(markdown.count == 2 + 3)
    #expect(markdown[0].hasPrefix("| id | evaluated | pipeline | train.epochs |"))
    #expect(markdown[2].hasPrefix("| \(four.short) |"))
  }

  /// pipeline submit's log marks the runs it names, whatever else the file holds, and outlives
  /// the entries of the runs gc removes.
  @Test func kaggleSubmissions_markTheirRuns_andOutliveGc() throws {
    let (four, _, weak) = try threeRuns()
    #expect(!ExperimentTable(experiments()).header.contains("kaggle"))  // none submitted: no column
    let record = KaggleSubmission(
      submitted: Date(timeIntervalSince1970: 1_800_000_000), competition: Submission.competition, run: four,
      predict: Fingerprint(hex: String(repeating: "a", count: 64)), sha256: Fingerprint(hex: String(repeating: "b", count: 64)),
      message: "digits: tiny run \(four.short)", kaggle: "Successfully submitted to Digit Recognizer")
    try SubmissionLog.append(record, to: cache)
    let log = SubmissionLog.url(in: cache)
    let handle = try FileHandle(forWritingTo: log)
    try handle.seekToEnd()
    try handle.write(contentsOf: Data("{\"cut short\n".utf8))  // what a full disk leaves
    try handle.close()
    try SubmissionLog.append(record, to: cache)

    let all = experiments()
    #expect(all.map(\.kaggleSubmissions.count) == [2, 0, 0])
    #expect(all[0].kaggleSubmissions.first == record)
    let table = ExperimentTable(all)
    #expect(table.header.last == "kaggle")
    #expect(table.rows.map { $0.last! } == ["\(ExperimentFormat.date(record.submitted)) (2×)", "", ""])
    #expect(all[0].detail().contains("\nsubmitted to Kaggle \(ExperimentFormat.date(record.submitted)): digits: tiny run "))

    // gc lists no stage for the file, and removing every run but the published one leaves it.
    let plan = try CacheCollection(cache: cache, outputDirectory: output, pipelineFiles: [], input: zip, keepLast: 0)
    #expect(plan.removing.contains { $0.id == EntryID(stage: StageName.evaluate, fingerprint: four) })
    for entry in plan.removing { try cache.remove(entry.id) }
    #expect(experiments().map(\.id) == [weak])
    #expect(SubmissionLog.load(from: cache) == [record, record])
  }

  @Test func detail_showsEveryStageAndParameter() throws {
    let (four, _, _) = try threeRuns()
    let text = try ExperimentLog.find(four.hex, in: experiments()).detail()
    for stage in ["unpack", "parse", "split", "normalise", "train", "evaluate"] {
      #expect(text.contains("\n\(stage) "), "\(stage) missing from:\n\(text)")
    }
    #expect(text.contains("train      epochs "))
    #expect(text.contains("validation: 60 rows"))
  }

  /// An entry removed from the cache (by hand or by gc) leaves a run with what is still there.
  @Test func runWithAMissingUpstreamEntry_isStillListed() throws {
    let four = try run()
    for manifest in cache.manifests(stage: StageName.train) {
      try FileManager.default.removeItem(at: cache.entryDirectory(stage: StageName.train, fingerprint: manifest.fingerprint))
    }
    let experiment = try #require(experiments().first)
    #expect(experiment.id == four)
    #expect(experiment.parameters["train.epochs"] == nil)
    #expect(experiment.members == 1)
    #expect(experiment.metrics != nil)
  }
}
