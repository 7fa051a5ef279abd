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

  static func load(_ context: StageContext) throws -> LabelledRows {
    let parsed = context.input(ParsedArrays.self, from: "parse")
    let normalised = context.input(NormalisedFeatures.self, from: "normalise")
    let split = context.input(SplitIndices.self, from: "split")
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
