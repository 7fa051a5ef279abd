import DataIO
import Foundation
import NeuralNet
import Pipeline
import Tensor

/// The labelled rows as features and labels, split into training and validation sets.
struct LabelledRows {
  struct Rows {
    var features: Tensor
    var labels: [UInt8]
  }
  var train: Rows
  var validation: Rows

  /// What the rows are read from: a stage that needs them declares these.
  struct Inputs: StageInputs {
    let parsed = Input<ParsedArrays>(StageName.parse)
    let normalised = Input<NormalisedFeatures>(StageName.normalise)
    let split: Input<SplitIndices>
    init(split: String = StageName.split) { self.split = Input(split) }
    var declarations: [InputDeclaration] { parsed.declarations + normalised.declarations + split.declarations }
  }

  static func load(_ context: StageContext, from inputs: Inputs) throws -> LabelledRows {
    let (parsed, normalised, split) = (context.read(inputs.parsed), context.read(inputs.normalised), context.read(inputs.split))
    let featureArray = try NumpyFile.read(from: normalised.trainFeatures)
    let features = Tensor(shape: featureArray.shape, scalars: try featureArray.values(as: Float.self))
    let labels = try NumpyFile.read(from: parsed.trainLabels).values(as: UInt8.self)
    func rows(_ url: URL) throws -> Rows {
      let indices = try NumpyFile.read(from: url).values(as: Int64.self).map { Int($0) }
      return Rows(features: features.gatheringRows(indices), labels: indices.map { labels[$0] })
    }
    return LabelledRows(train: try rows(split.trainIndices), validation: try rows(split.validationIndices))
  }
}
