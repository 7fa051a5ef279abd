import DataIO
import Foundation
import NeuralNet
import Pipeline
import Report
import Tensor

/// Measures the trained models on the rows they did not see: accuracy, loss, per-class precision
/// and recall, and the confusion matrix.
///
/// With one split, the members' averaged probabilities on its validation rows. With k-fold
/// cross-validation (a split per fold, member i trained on split i), out of fold: every labelled
/// row predicted by the one member that never saw it, and the figures over all of them.
public struct EvaluateStage: Stage {
  public typealias Parameters = TestTimeAugmentation
  public typealias Output = Evaluation

  /// 2: also writes the validation probabilities (for the report's gallery of mistakes).
  /// 3: a dense layer with at most 16 outputs multiplies in the other orientation (`gemm`'s thin
  /// products), which changes the probabilities' last bits; test-time augmentation.
  /// 4: out-of-fold figures for cross-validation; writes validation_rows.npy.
  /// 5: 3×3 convolutions run their products over fewer images at a time (`winogradImages`),
  /// which changes the probabilities' last bits.
  public static let version = 5
  public let name = StageName.evaluate
  public let parameters: Parameters
  let parsed = Input<ParsedArrays>(StageName.parse)
  let normalised = Input<NormalisedFeatures>(StageName.normalise)
  /// The splits whose validation rows are measured, each once, in order.
  let splits: [Input<SplitIndices>]
  /// The train stages whose models are averaged: one, or an ensemble's members.
  let members: [Input<TrainedModel>]
  /// For each member, the index in `splits` of the split it was trained on.
  let memberSplit: [Int]

  /// - Parameter splits: for each member, the split stage it was trained on.
  public init(members: [String] = [StageName.train], splits: [String]? = nil, augmentation: TestTimeAugmentation = .init()) {
    let memberSplits = splits ?? members.map { _ in StageName.split }
    let distinct = memberSplits.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
    self.members = members.map(Input.init)
    self.splits = distinct.map(Input.init)
    memberSplit = memberSplits.map { distinct.firstIndex(of: $0)! }
    parameters = augmentation
  }

  /// The figures beside the submission, for scripts and for comparing runs.
  public var published: [String: String] { [Evaluation.metricsFileName: Evaluation.metricsFileName] }

  public func run(_ context: StageContext) throws {
    let featureArray = try NumpyFile.read(from: context.read(normalised).trainFeatures)
    let features = Tensor(shape: featureArray.shape, scalars: try featureArray.values(as: Float.self))
    let labels = try NumpyFile.read(from: context.read(parsed).trainLabels).values(as: UInt8.self)

    var rows: [Int] = []
    var probabilities: [Float] = []
    var splitAccuracies: [Double] = []
    var memberAccuracies: [Double] = []
    for (index, split) in splits.enumerated() {
      let validation = try NumpyFile.read(from: context.read(split).validationIndices).values(as: Int64.self).map { Int($0) }
      let validationLabels = validation.map { labels[$0] }
      let group = members.indices.filter { memberSplit[$0] == index }.map { members[$0] }
      let (mean, perMember) = try EnsemblePrediction.probabilities(
        of: group, on: features.gatheringRows(validation), augmentation: parameters, normalised: normalised, context: context)
      rows += validation
      probabilities += mean.scalars
      if splits.count > 1 { splitAccuracies.append(Metrics(probabilities: mean, labels: validationLabels).accuracy) }
      if group.count > 1 { memberAccuracies += perMember.map { Metrics(probabilities: $0, labels: validationLabels).accuracy } }
    }
    guard Set(rows).count == rows.count else {
      throw PipelineError("evaluate: the splits' validation rows overlap, so some rows would count twice")
    }
    let classes = probabilities.count / max(rows.count, 1)
    let all = Tensor(shape: [rows.count, classes], scalars: probabilities)
    var metrics = Metrics(probabilities: all, labels: rows.map { labels[$0] })
    if !memberAccuracies.isEmpty { metrics.memberAccuracies = memberAccuracies }
    if !splitAccuracies.isEmpty { metrics.foldAccuracies = splitAccuracies }

    let output = context.output(Evaluation.self)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(metrics).write(to: output.metrics)
    try NumpyFile.write(
      NumpyArray(shape: [classes, classes], values: metrics.confusion.flatMap { $0.map(Int64.init) }),
      to: output.confusion)
    try NumpyFile.write(NumpyArray(shape: all.shape, values: all.scalars), to: output.validationProbabilities)
    try NumpyFile.write(NumpyArray(shape: [rows.count], values: rows.map(Int64.init)), to: output.validationRows)
    for line in metrics.summaryTable() { context.log(line) }
  }
}
