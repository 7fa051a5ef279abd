import DataIO
import Foundation
import NeuralNet
import Pipeline
import Tensor

/// Runs the trained model on test.csv and writes Kaggle's submission file.
public struct PredictStage: Stage {
  public typealias Parameters = TestTimeAugmentation
  public typealias Output = Predictions

  /// 2: a dense layer with at most 16 outputs multiplies in the other orientation (`gemm`'s thin
  /// products), which changes the probabilities' last bits; test-time augmentation.
  /// 3: 3×3 convolutions run their products over fewer images at a time (`winogradImages`),
  /// which changes the probabilities' last bits.
  public static let version = 3
  public let name = StageName.predict
  public let parameters: Parameters
  let normalised = Input<NormalisedFeatures>(StageName.normalise)
  /// The train stages whose models are averaged: one, or an ensemble's members.
  let members: [Input<TrainedModel>]

  public init(members: [String] = [StageName.train], augmentation: TestTimeAugmentation = .init()) {
    self.members = members.map(Input.init)
    parameters = augmentation
  }

  /// Where the submission lands in the output folder.
  public static let publishedSubmission = Predictions.submissionFileName
  public var published: [String: String] { [Predictions.submissionFileName: Self.publishedSubmission] }

  public func run(_ context: StageContext) throws {
    let featureArray = try NumpyFile.read(from: context.read(normalised).testFeatures)
    let features = Tensor(shape: featureArray.shape, scalars: try featureArray.values(as: Float.self))
    let probabilities = try EnsemblePrediction.probabilities(
      of: members, on: features, augmentation: parameters, normalised: normalised, context: context
    ).mean

    let output = context.output(Predictions.self)
    try NumpyFile.write(NumpyArray(shape: probabilities.shape, values: probabilities.scalars), to: output.probabilities)
    let labels = Submission.labels(from: probabilities)
    try Data(Submission.csv(labels: labels).utf8).write(to: output.submission)

    let counts = (0..<probabilities.columns).map { label in labels.count { $0 == label } }
    context.log("\(labels.count) predictions; per label: "
      + counts.enumerated().map { "\($0.offset):\($0.element)" }.joined(separator: " "))
  }
}
