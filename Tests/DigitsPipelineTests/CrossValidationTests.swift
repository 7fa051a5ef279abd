import DataIO
import Foundation
import NeuralNet
import Pipeline
import TestSupport
import Tensor
import Testing
@testable import DigitsPipeline
import Experiments

/// `split: {folds: K}`: K splits stratified by label, member i trained on every fold but i,
/// evaluate out of fold over every labelled row.
@Suite struct CrossValidationTests {
  let folder: TemporaryFolder
  let dataset = TinyDataset()
  let zip: URL
  var output: URL { folder.url.appending(path: "out", directoryHint: .isDirectory) }
  var cache: CacheStore { CacheStore(outputDirectory: output) }

  init() throws {
    folder = try TemporaryFolder()
    zip = folder.url.appending(path: "digits.zip")
    try writeZip(["train.csv": Data(dataset.trainCSV.utf8), "test.csv": Data(dataset.testCSV.utf8)], to: zip)
  }

  static let foldsYAML = EndToEndTests.configurationYAML.replacingOccurrences(
    of: "validation_fraction: 0.2", with: "folds: 3")

  func configuration(_ overrides: [String] = []) throws -> DigitsConfiguration {
    try PipelineFile.decode(DigitsConfiguration.self, yaml: Self.foldsYAML, fileName: "folds.yaml", overrides: overrides)
  }

  func runner(_ overrides: [String] = []) throws -> Runner {
    Runner(graph: try DigitsPipeline.graph(configuration: configuration(overrides), input: zip), outputDirectory: output)
  }

  func indices(_ url: URL) throws -> [Int] { try NumpyFile.read(from: url).values(as: Int64.self).map { Int($0) } }

  @Test func folds_holdEveryRowOutExactlyOnce_inProportionToItsClass() {
    let labels: [UInt8] = (0..<997).map { (row: Int) -> UInt8 in UInt8((row * 7 + row / 13) % 10) }
    let assignment = SplitStage.stratifiedFolds(labels: labels, folds: 5, seed: 42)
    #expect(assignment.count == labels.count && assignment.allSatisfy { (0..<5).contains($0) })
    let sizes = (0..<5).map { fold in assignment.filter { $0 == fold }.count }
    #expect(sizes.max()! - sizes.min()! <= 1)
    for label in UInt8(0)..<10 {
      let perFold = (0..<5).map { fold in labels.indices.filter { labels[$0] == label && assignment[$0] == fold }.count }
      #expect(perFold.max()! - perFold.min()! <= 1, "label \(label): \(perFold)")
    }
    #expect(SplitStage.stratifiedFolds(labels: labels, folds: 5, seed: 42) == assignment)
    #expect(SplitStage.stratifiedFolds(labels: labels, folds: 5, seed: 43) != assignment)
  }

  @Test func graph_hasASplitAndAMemberPerFold() throws {
    let names = try runner().graph.names
    #expect(names == ["unpack", "parse", "split", "split.2", "split.3", "normalise", "train", "train.2", "train.3", "evaluate", "predict", "report"])
  }

  /// The out-of-fold figure, recomputed here from each member and the rows of its own fold.
  @Test func evaluate_isOutOfFold_overEveryLabelledRow() throws {
    let outcomes = try runner().run()
    let splits = try ["split", "split.2", "split.3"].map { try SplitIndices(directory: outcomes.directory(of: $0)) }
    let validation = try splits.map { try indices($0.validationIndices) }
    #expect(validation.flatMap { $0 }.sorted() == Array(0..<dataset.trainRows))  // every row once
    for (split, rows) in Swift.zip(splits, validation) {
      #expect(Set(try indices(split.trainIndices)) == Set(0..<dataset.trainRows).subtracting(rows))
    }

    let evaluation = Evaluation(directory: try outcomes.directory(of: "evaluate"))
    let metrics = try evaluation.readMetrics()
    #expect(metrics.rows == dataset.trainRows)
    #expect(try indices(evaluation.validationRows) == validation.flatMap { $0 })

    let normalised = NormalisedFeatures(directory: try outcomes.directory(of: "normalise"))
    let featureArray = try NumpyFile.read(from: normalised.trainFeatures)
    let features = Tensor(shape: featureArray.shape, scalars: try featureArray.values(as: Float.self))
    let labels = try NumpyFile.read(from: ParsedArrays(directory: outcomes.directory(of: "parse")).trainLabels).values(as: UInt8.self)
    var correct = 0
    var foldAccuracies: [Double] = []
    for (member, rows) in Swift.zip(["train", "train.2", "train.3"], validation) {
      var network = try ModelFile.read(from: TrainedModel(directory: outcomes.directory(of: member)).model).network
      let predicted = argmaxRows(Trainer.predictProbabilities(&network, features: features.gatheringRows(rows)))
      let right = Swift.zip(predicted, rows).filter { $0 == Int(labels[$1]) }.count
      correct += right
      foldAccuracies.append(Double(right) / Double(rows.count))
    }
    #expect(metrics.accuracy == Double(correct) / Double(dataset.trainRows))
    #expect(metrics.foldAccuracies == foldAccuracies)
    #expect(metrics.summaryTable()[0].hasPrefix("out-of-fold: \(dataset.trainRows) rows"))

    // The report's figures and gallery are over the same rows.
    let page = try String(contentsOf: RunReport(directory: outcomes.directory(of: "report")).page, encoding: .utf8)
    #expect(page.contains("Out-of-fold accuracy"))
    #expect(page.contains("Out-of-fold digits by true and predicted label"))
  }

  /// Each fold's member is its own entry: losing one retrains that one alone.
  @Test func members_areCachedIndependently() throws {
    let first = try runner().run()
    let third = try #require(first.first { $0.name == "train.3" })
    try FileManager.default.removeItem(at: third.directory)
    let again = try runner().run()
    let ran = again.filter { if case .ran = $0.action { true } else { false } }.map(\.name)
    #expect(ran == ["train.3"])  // the same model, bit for bit: nothing downstream changes
    #expect(again.map(\.fingerprint) == first.map(\.fingerprint))
  }

  /// exp show lists a cross-validation as one run: its members, its out-of-fold figure, and
  /// split.folds, not every fold's split.
  @Test func expShow_listsTheFoldRunWithItsOutOfFoldAccuracy() throws {
    let outcomes = try runner().run()
    let run = try #require(ExperimentLog.load(cache: cache).first)
    #expect(run.id == (try #require(outcomes.first { $0.name == "evaluate" })).fingerprint)
    #expect(run.members == 3)
    #expect(run.metrics?.rows == dataset.trainRows)
    #expect(run.parameters["split.folds"] == "3")
    #expect(run.parameters["split.fold"] == nil && !run.parameters.keys.contains { $0.hasPrefix("split.2.") })
  }

  @Test func foldsWithAnotherHoldOutOrAnEnsemble_areErrors() throws {
    #expect(throws: PipelineError.self) { try configuration(["split.validation_rows=10"]).validate() }
    #expect(throws: PipelineError.self) { try configuration(["ensemble=2"]).validate() }
    #expect(throws: PipelineError.self) { try configuration(["split.folds=1"]).validate() }
    #expect(throws: PipelineError.self) { try configuration(["split.folds=51"]).validate() }
    #expect(try configuration(["ensemble=1"]).memberCount == 3)
  }
}
