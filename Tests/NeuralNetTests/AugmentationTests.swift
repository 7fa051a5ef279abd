import Foundation
import NeuralNet
import Tensor
import Testing

@Suite struct AugmentationTests {
  /// Three 28x28 images: a dot, a bar, and a blank one, on a background of -0.5.
  func images() -> Tensor {
    var scalars = [Float](repeating: -0.5, count: 3 * 784)
    scalars[14 * 28 + 14] = 1
    for column in 6..<22 { scalars[784 + 10 * 28 + column] = 1 }
    return Tensor(shape: [3, 784], scalars: scalars)
  }

  @Test func zeroSettings_leaveImagesUntouchedAndDrawNothing() {
    var batch = images()
    var generator = SeededGenerator(seed: 1)
    var untouched = generator
    Augmentation().apply(to: &batch, height: 28, width: 28, background: -0.5, using: &generator)
    #expect(batch == images())
    #expect(generator.next() == untouched.next())
  }

  @Test func sameSeed_givesTheSameDistortion_otherSeedsDiffer() {
    let augmentation = Augmentation(shift: 2, rotation: 10, scale: 0.1, elasticAlpha: 30, elasticSigma: 4)
    func run(_ seed: UInt64) -> Tensor {
      var batch = images()
      var generator = SeededGenerator(seed: seed)
      augmentation.apply(to: &batch, height: 28, width: 28, background: -0.5, using: &generator)
      return batch
    }
    #expect(run(7) == run(7))
    #expect(run(7) != run(8))
    #expect(run(7) != images())
  }

  @Test func blankImage_staysBlank() {
    var batch = images()
    var generator = SeededGenerator(seed: 3)
    Augmentation(shift: 3, rotation: 15, scale: 0.2, elasticAlpha: 34).apply(
      to: &batch, height: 28, width: 28, background: -0.5, using: &generator)
    #expect(batch.scalars[2 * 784..<3 * 784].allSatisfy { abs($0 + 0.5) < 1e-6 })
  }

  @Test func shiftOnly_movesADotByAtMostTheShift() {
    for seed in UInt64(0)..<20 {
      var batch = images()
      var generator = SeededGenerator(seed: seed)
      Augmentation(shift: 2).apply(to: &batch, height: 28, width: 28, background: -0.5, using: &generator)
      let dot = batch.scalars[0..<784]
      let lit = dot.indices.filter { dot[$0] > -0.5 + 1e-6 }
      #expect(!lit.isEmpty)
      for index in lit {
        #expect(abs(index / 28 - 14) <= 3 && abs(index % 28 - 14) <= 3, "seed \(seed): pixel \(index)")
      }
      // Bilinear weights sum to one, so the dot's brightness above background is kept.
      let mass = lit.reduce(Float(0)) { $0 + dot[$1] + 0.5 }
      #expect(abs(mass - 1.5) < 1e-4)
    }
  }

  @Test func rotation_keepsTheBarRoughlyAsBright() {
    var batch = images()
    var generator = SeededGenerator(seed: 5)
    Augmentation(rotation: 15).apply(to: &batch, height: 28, width: 28, background: -0.5, using: &generator)
    let mass = batch.scalars[784..<2 * 784].reduce(Float(0)) { $0 + $1 + 0.5 }
    #expect(abs(mass - 16 * 1.5) < 1.5)
  }

  @Test func decoding_fillsOmittedSettingsWithNoDistortion() throws {
    let decoded = try JSONDecoder().decode(Augmentation.self, from: Data(#"{"shift": 2, "elastic_alpha": 34}"#.utf8))
    #expect(decoded == Augmentation(shift: 2, elasticAlpha: 34, elasticSigma: 4))
  }

  /// The undistorted last epochs are read from the pipeline file, and left out of the encoding
  /// (which is what cache fingerprints hash) when unset, so older pipelines keep their entries.
  @Test func undistortedLastEpochs_decodes_andIsEncodedOnlyWhenSet() throws {
    let decoded = try JSONDecoder().decode(Augmentation.self, from: Data(#"{"shift": 2, "undistorted_last_epochs": 3}"#.utf8))
    #expect(decoded == Augmentation(shift: 2, undistortedLastEpochs: 3))
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let unset = String(decoding: try encoder.encode(Augmentation(shift: 2)), as: UTF8.self)
    #expect(unset == #"{"elastic_alpha":0,"elastic_sigma":4,"rotation":0,"scale":0,"shift":2}"#)
    let set = String(decoding: try encoder.encode(decoded), as: UTF8.self)
    #expect(set.contains(#""undistorted_last_epochs":3"#))
    #expect(try JSONDecoder().decode(Augmentation.self, from: Data(set.utf8)) == decoded)
  }

  @Test func distorts_everyEpochButTheUndistortedLastOnes() {
    let augmentation = Augmentation(rotation: 10, undistortedLastEpochs: 2)
    #expect((0..<5).map { augmentation.distorts(epoch: $0, of: 5) } == [true, true, true, false, false])
    #expect(!Augmentation(undistortedLastEpochs: 0).distorts(epoch: 0, of: 5), "no distortion set: nothing to do")
  }

  /// Shifting moves every pixel by whole pixels and fills what comes in from outside with the
  /// background, image by image (two 3x3 images, worked out by hand).
  @Test func shiftedImages_movesPixelsAndFillsWithBackground() {
    let images = Tensor(shape: [2, 9], scalars: (1...18).map(Float.init))
    let rightDown = shiftedImages(images, height: 3, width: 3, right: 1, down: 1, background: -1)
    #expect(rightDown.scalars == [-1, -1, -1, -1, 1, 2, -1, 4, 5, -1, -1, -1, -1, 10, 11, -1, 13, 14])
    let leftUp = shiftedImages(images, height: 3, width: 3, right: -1, down: -2, background: 0)
    #expect(leftUp.scalars == [8, 9, 0, 0, 0, 0, 0, 0, 0, 17, 18, 0, 0, 0, 0, 0, 0, 0])
    #expect(shiftedImages(images, height: 3, width: 3, right: 0, down: 0, background: 0) == images)
    #expect(shiftedImages(images, height: 3, width: 3, right: 3, down: 0, background: 7).scalars.allSatisfy { $0 == 7 })
  }
}

/// The rotated views of test-time augmentation.
@Suite struct RotatedImagesTests {
  /// A 3x3 image with one bright pixel to the right of the centre, twice (two rows of a batch).
  let images = Tensor(shape: [2, 9], scalars: [0, 0, 0, 0, 0, 1, 0, 0, 0] + [0, 0, 0, 0, 0, 1, 0, 0, 0])

  @Test func noRotation_isTheImage() {
    #expect(rotatedImages(images, height: 3, width: 3, degrees: 0, background: 0).scalars == images.scalars)
  }

  /// A quarter turn carries the pixel right of the centre to one above or below it, as the
  /// augmentation's positive angles turn; the background fills nothing here.
  @Test func quarterTurns_moveThePixelAroundTheCentre() {
    let plus = rotatedImages(images, height: 3, width: 3, degrees: 90, background: 0).scalars
    let minus = rotatedImages(images, height: 3, width: 3, degrees: -90, background: 0).scalars
    let above = 1, below = 7
    for (turned, target) in [(plus, plus[above] > 0.5 ? above : below), (minus, minus[above] > 0.5 ? above : below)] {
      for row in 0..<2 {
        for pixel in 0..<9 {
          #expect(abs(turned[row * 9 + pixel] - (pixel == target ? 1 : 0)) < 1e-5, "pixel \(pixel)")
        }
      }
    }
    #expect((plus[above] > 0.5) != (minus[above] > 0.5), "opposite turns go opposite ways")
  }

  @Test func outsideTheImage_isTheBackground() {
    let turned = rotatedImages(Tensor(shape: [1, 9], scalars: [Float](repeating: 1, count: 9)), height: 3, width: 3, degrees: 45, background: -2)
    #expect(turned.scalars[4] == 1)  // the centre stays
    #expect(turned.scalars[0] < 1)  // a corner reads from outside
  }
}

