import Foundation
import Pipeline
import TestSupport
import Testing
@testable import DigitsPipeline
@testable import Experiments

/// `pipeline gc`: what the pipeline files and the newest runs need stays, the rest goes.
@Suite struct CacheCollectionTests {
  let folder: TemporaryFolder
  let zip: URL
  let pipelineFile: URL
  var output: URL { folder.url.appending(path: "out", directoryHint: .isDirectory) }
  var cache: CacheStore { CacheStore(outputDirectory: output) }

  init() throws {
    folder = try TemporaryFolder()
    let dataset = TinyDataset()
    zip = folder.url.appending(path: "digits.zip")
    try writeZip(["train.csv": Data(dataset.trainCSV.utf8), "test.csv": Data(dataset.testCSV.utf8)], to: zip)
    pipelineFile = folder.url.appending(path: "tiny.yaml")
    try EndToEndTests.configurationYAML.write(to: pipelineFile, atomically: true, encoding: .utf8)
  }

  /// Runs the pipeline file with `overrides`; returns every entry the run used.
  @discardableResult
  func run(_ overrides: [String] = []) throws -> Set<EntryID> {
    let configuration = try DigitsPipeline.loadConfiguration(from: pipelineFile, overrides: overrides)
    let graph = try DigitsPipeline.graph(configuration: configuration, input: zip)
    let outcomes = try Runner(graph: graph, outputDirectory: output, pipelineName: configuration.name).run()
    return Set(outcomes.map { EntryID(stage: $0.name, fingerprint: $0.fingerprint) })
  }

  func collection(keepLast: Int, files: [URL]? = nil) throws -> CacheCollection {
    try CacheCollection(cache: cache, outputDirectory: output, pipelineFiles: files ?? [pipelineFile], input: zip, keepLast: keepLast)
  }

  @Test func keepsThePipelineFilesAndTheNewestRuns_removesTheRest() throws {
    let file = try run()
    let middle = try run(["train.epochs=2"])
    let newest = try run(["train.epochs=1"])
    let plan = try collection(keepLast: 1)
    #expect(Set(plan.keeping.map(\.id)) == file.union(newest))
    // The middle run's own entries go; what it shares with the others (unpack … normalise) stays.
    #expect(Set(plan.removing.map(\.id)) == middle.subtracting(file).subtracting(newest))
    #expect(plan.removing.map(\.stage).sorted() == ["evaluate", "predict", "report", "train"])

    #expect(Set(try collection(keepLast: 3).removing.map(\.id)).isEmpty)
    // No pipeline file and no run kept: only the published submission's run stays.
    #expect(Set(try collection(keepLast: 0, files: []).keeping.map(\.id)) == newest)
  }

  @Test func removing_leavesTheKeptRunsWhole() throws {
    // A run that learns nothing, so its submission differs; then the file's run publishes again.
    try run(["train.epochs=1", "train.optimizer.learning_rate=0.00001"])
    try run()
    let plan = try collection(keepLast: 0)
    #expect(plan.removing.map(\.stage).sorted() == ["evaluate", "predict", "report", "train"])
    for entry in plan.removing { try cache.remove(entry.id) }
    #expect(cache.allManifests().map(\.id).sorted() == plan.keeping.map(\.id).sorted())
    let runs = ExperimentLog.load(cache: cache)
    #expect(runs.count == 1 && runs[0].parameters["train.epochs"] == "4")
    // The pipeline file's run is all cache hits still.
    let graph = try DigitsPipeline.graph(configuration: DigitsPipeline.loadConfiguration(from: pipelineFile), input: zip)
    #expect(try Runner(graph: graph, outputDirectory: output).plan().allSatisfy { $0.state == .fresh })
    #expect(try collection(keepLast: 0).removing.isEmpty)
  }
}
