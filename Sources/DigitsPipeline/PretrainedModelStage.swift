import DataIO
import Foundation
import NeuralNet
import Pipeline

/// Takes a model file from outside (`pipeline run --model FILE`) in place of training, after
/// checking that it fits this pipeline: 784 inputs, 10 classes, and the same normalisation of
/// the pixels as the features it will be given.
public struct PretrainedModelStage: Stage {
  public struct Parameters: Codable, Sendable, Hashable {}
  public typealias Output = TrainedModel

  public static let version = 1
  public let name = StageName.pretrained
  public let parameters = Parameters()
  let normalised = Input<NormalisedFeatures>(StageName.normalise)
  public let model: URL

  public init(model: URL) { self.model = model }

  /// The file enters the fingerprint by content, like the dataset's zip.
  public var externalFiles: [String: URL] { ["model": model] }

  public func run(_ context: StageContext) throws {
    let loaded = try ModelFile.read(from: model)
    let network = loaded.network
    guard network.inputSize == DigitCSV.pixelCount else {
      throw ModelFileError(url: model, message: "the model takes \(network.inputSize) inputs; digits have \(DigitCSV.pixelCount) pixels")
    }
    guard network.outputSize == DigitCSV.classCount else {
      throw ModelFileError(
        url: model, message: "the model has \(network.outputSize) outputs; there are \(DigitCSV.classCount) digit classes")
    }
    let expected = try NormaliseStage.Normalisation.load(context, from: normalised)
    if let trained = loaded.normalisation {
      // Mean and std fitted on another random 90% of the rows differ by far less than 1%; a
      // model trained on other scaling (unit vs standardized) is off by a factor of three.
      guard abs(trained.scale - expected.scale) <= 0.01 * abs(expected.scale), abs(trained.offset - expected.offset) <= 0.01 else {
        throw ModelFileError(
          url: model,
          message: "the model was trained on pixels scaled by \(trained.scale) offset \(trained.offset), but this pipeline's "
            + "normalise stage gives \(expected.scale), \(expected.offset); use the pipeline file the model was trained with")
      }
    } else {
      context.warning("\(model.path) does not record its normalisation; assuming it matches this pipeline's")
    }
    let output = context.output(TrainedModel.self)
    try FileManager.default.copyItem(at: model, to: output.model)
    try Data("[]".utf8).write(to: output.history)
    context.log("\(model.lastPathComponent): \(network.parameterCount) parameters, not trained here")
  }
}
