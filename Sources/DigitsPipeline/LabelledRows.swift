import DataIO
import Foundation
import NeuralNet
import Pipeline
import Tensor

/// The labelled rows, split into training and validation sets. The training rows stay bytes that
/// stand for their normalised features (`ByteMatrix`, the normalise stage's map), which training
/// makes floats as it reads each chunk or mini-batch; the validation rows are floats, as
/// evaluation reads them.
struct LabelledRows {
  struct Rows<Features> {
    var features: Features
    var labels: [UInt8]
  }
  /// How the training rows are kept (and the memory check counts them).
  typealias TrainingFeatures = ByteMatrix
  var train: Rows<TrainingFeatures>
  var validation: Rows<Tensor>
  /// The map from pixels to features that the normalise stage applied.
  var normalisation: NormaliseStage.Normalisation

  /// What the rows are read from: a stage that needs them declares these.
  struct Inputs: StageInputs {
    let parsed = Input<ParsedArrays>(StageName.parse)
    let normalised = Input<NormalisedFeatures>(StageName.normalise)
    let split: Input<SplitIndices>
    init(split: String = StageName.split) { self.split = Input(split) }
    var declarations: [InputDeclaration] { parsed.declarations + normalised.declarations + split.declarations }
  }

  /// The parsed pixels under the normalise stage's map, which is how the normalise stage made
  /// its features: the same floats, from a quarter of the bytes.
  static func load(_ context: StageContext, from inputs: Inputs) throws -> LabelledRows {
    let (parsed, split) = (context.read(inputs.parsed), context.read(inputs.split))
    let normalisation = try NormaliseStage.Normalisation.load(context, from: inputs.normalised)
    let pixelArray = try NumpyFile.read(from: parsed.trainPixels)
    let features = normalisation.features(of: try pixelArray.values(as: UInt8.self), shape: pixelArray.shape)
    let labels = try NumpyFile.read(from: parsed.trainLabels).values(as: UInt8.self)
    func indices(_ url: URL) throws -> [Int] { try NumpyFile.read(from: url).values(as: Int64.self).map { Int($0) } }
    let (train, validation) = (try indices(split.trainIndices), try indices(split.validationIndices))
    return LabelledRows(
      train: Rows(features: features.gatheringRows(train), labels: train.map { labels[$0] }),
      validation: Rows(features: features.gatheringRows(validation).expanded(), labels: validation.map { labels[$0] }),
      normalisation: normalisation)
  }
}
