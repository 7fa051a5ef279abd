import DataIO
import Foundation
import NeuralNet
import Pipeline
import Report
import Tensor

/// Class probabilities from one model or the mean over an ensemble's members, each member's
/// own the mean over the test-time views of the images.
enum EnsemblePrediction {
  static func probabilities(
    of members: [Input<TrainedModel>], on features: Tensor, testTimeShift: Int, normalised: Input<NormalisedFeatures>,
    context: StageContext
  ) throws -> (mean: Tensor, perMember: [Tensor]) {
    let views = try testTimeViews(of: features, shift: testTimeShift, normalised: normalised, context: context)
    if views.count > 1 { context.log("test-time augmentation: \(views.count) views of every image") }
    let perMember = try members.map { member in
      var network = try ModelFile.read(from: context.read(member).model).network
      return mean(views.map { Trainer.predictProbabilities(&network, features: $0) })
    }
    return (mean(perMember), perMember)
  }

  /// The images themselves, then their copies moved 1…shift pixels right, left, down and up,
  /// with the background (a blank pixel, normalised) filling in.
  static func testTimeViews(
    of features: Tensor, shift: Int, normalised: Input<NormalisedFeatures>, context: StageContext
  ) throws -> [Tensor] {
    guard shift > 0 else { return [features] }
    let side = try NormaliseStage.imageSide(pixels: features.columns, for: "test_time_shift")
    let background = try NormaliseStage.Normalisation.load(context, from: normalised).offset
    let offsets = (1...shift).flatMap { d in [(d, 0), (-d, 0), (0, d), (0, -d)] }
    return [features] + offsets.map { right, down in
      shiftedImages(features, height: side, width: side, right: right, down: down, background: background)
    }
  }

  /// The elementwise mean of equally shaped tensors (the tensor itself when there is one).
  static func mean(_ tensors: [Tensor]) -> Tensor {
    guard tensors.count > 1 else { return tensors[0] }
    var sum = [Float](repeating: 0, count: tensors[0].count)
    for tensor in tensors {
      for (index, value) in tensor.scalars.enumerated() { sum[index] += value }
    }
    let scale = 1 / Float(tensors.count)
    return Tensor(shape: tensors[0].shape, scalars: sum.map { $0 * scale })
  }
}
