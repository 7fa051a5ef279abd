import DataIO
import Foundation
import NeuralNet
import Pipeline
import Report
import Tensor

/// Measures the trained model on the validation rows: accuracy, loss, per-class precision and
/// recall, and the confusion matrix.
public struct EvaluateStage: Stage {
  public struct Parameters: Codable, Sendable, Hashable {
    /// Test-time augmentation (the pipeline file's `test_time_shift`).
    public var testTimeShift: Int
  }
  public typealias Output = Evaluation

  /// 2: also writes the validation probabilities (for the report's gallery of mistakes).
  /// 3: a dense layer with at most 16 outputs multiplies in the other orientation (`gemm`'s thin
  /// products), which changes the probabilities' last bits; test-time augmentation.
  public static let version = 3
  public let name = StageName.evaluate
  public let parameters: Parameters
  let rows = LabelledRows.Inputs()
  /// The train stages whose models are averaged: one, or an ensemble's members.
  let members: [Input<TrainedModel>]

  public init(members: [String] = [StageName.train], testTimeShift: Int = 0) {
    self.members = members.map(Input.init)
    parameters = Parameters(testTimeShift: testTimeShift)
  }

  /// The figures beside the submission, for scripts and for comparing runs.
  public var published: [String: String] { [Evaluation.metricsFileName: Evaluation.metricsFileName] }

  public func run(_ context: StageContext) throws {
    let data = try LabelledRows.load(context, from: rows).validation
    let (mean, perMember) = try EnsemblePrediction.probabilities(
      of: members, on: data.features, testTimeShift: parameters.testTimeShift, normalised: rows.normalised, context: context)
    var metrics = Metrics(probabilities: mean, labels: data.labels)
    if members.count > 1 {
      metrics.memberAccuracies = perMember.map { Metrics(probabilities: $0, labels: data.labels).accuracy }
    }

    let output = context.output(Evaluation.self)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(metrics).write(to: output.metrics)
    let classes = metrics.confusion.count
    try NumpyFile.write(
      NumpyArray(shape: [classes, classes], values: metrics.confusion.flatMap { $0.map(Int64.init) }),
      to: output.confusion)
    try NumpyFile.write(NumpyArray(shape: mean.shape, values: mean.scalars), to: output.validationProbabilities)
    for line in metrics.summaryTable() { context.log(line) }
  }
}
