import DataIO
import Foundation
import NeuralNet
import Pipeline
import Report
import Tensor

/// Test-time augmentation: the views of every image that evaluate and predict average, the
/// parameters of both stages (the pipeline file's `test_time_shift` and `test_time_rotation`).
/// Encoded as they always were when there is no rotation, so those stages keep their
/// fingerprints.
public struct TestTimeAugmentation: Codable, Sendable, Hashable {
  /// Copies moved 1…N pixels right, left, down and up: 4N views.
  public var testTimeShift: Int
  /// Copies rotated by −D and +D degrees: 2 views; nil, none.
  public var testTimeRotation: Float?

  public init(testTimeShift: Int = 0, testTimeRotation: Float? = nil) {
    self.testTimeShift = testTimeShift
    self.testTimeRotation = testTimeRotation
  }

  /// How many views of every image, the image itself included.
  public var viewCount: Int { 1 + 4 * testTimeShift + (testTimeRotation == nil ? 0 : 2) }
}

/// Class probabilities from one model or the mean over an ensemble's members, each member's
/// own the mean over the test-time views of the images.
enum EnsemblePrediction {
  static func probabilities(
    of members: [Input<TrainedModel>], on features: Tensor, augmentation: TestTimeAugmentation,
    normalised: Input<NormalisedFeatures>, context: StageContext
  ) throws -> (mean: Tensor, perMember: [Tensor]) {
    let views = try testTimeViews(of: features, augmentation: augmentation, normalised: normalised, context: context)
    if views.count > 1 { context.log("test-time augmentation: \(views.count) views of every image") }
    let perMember = try members.map { member in
      var network = try ModelFile.read(from: context.read(member).model).network
      return mean(views.map { Trainer.predictProbabilities(&network, features: $0) })
    }
    return (mean(perMember), perMember)
  }

  /// The images themselves, then their copies moved 1…shift pixels right, left, down and up,
  /// then rotated by −D and +D degrees, with the background (a blank pixel, normalised)
  /// filling in.
  static func testTimeViews(
    of features: Tensor, augmentation: TestTimeAugmentation, normalised: Input<NormalisedFeatures>, context: StageContext
  ) throws -> [Tensor] {
    guard augmentation.viewCount > 1 else { return [features] }
    let side = try NormaliseStage.imageSide(pixels: features.columns, for: "test-time augmentation")
    let background = try NormaliseStage.Normalisation.load(context, from: normalised).offset
    let shift = augmentation.testTimeShift
    let offsets = shift == 0 ? [] : (1...shift).flatMap { d in [(d, 0), (-d, 0), (0, d), (0, -d)] }
    let shifted = offsets.map { right, down in
      shiftedImages(features, height: side, width: side, right: right, down: down, background: background)
    }
    let rotated = augmentation.testTimeRotation.map { degrees in
      [-degrees, degrees].map { rotatedImages(features, height: side, width: side, degrees: $0, background: background) }
    } ?? []
    return [features] + shifted + rotated
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
