import DataIO
import Foundation
import Pipeline
import Tensor

/// Turns uint8 pixels into float32 features: `feature = pixel * scale + offset`.
public struct NormaliseStage: Stage {
  public enum Scaling: String, Codable, Sendable, Hashable {
    /// pixel / 255, features in [0, 1].
    case unit
    /// (pixel / 255 - mean) / std, with one mean and std over every pixel of the training rows
    /// only, so nothing about the validation rows leaks into training.
    case standardize
  }

  public struct Parameters: Codable, Sendable, Hashable {
    public var scaling: Scaling
    public init(scaling: Scaling) { self.scaling = scaling }
  }
  public typealias Output = NormalisedFeatures

  /// The affine map applied, saved beside the features.
  public struct Normalisation: Codable, Sendable, Equatable {
    public var scale: Float
    public var offset: Float

    /// `pixels` as the features they stand for, kept as bytes until expanded.
    func features(of pixels: [UInt8], shape: [Int]) -> ByteMatrix {
      ByteMatrix(shape: shape, bytes: pixels, scale: scale, offset: offset)
    }

    /// The map the normalise stage saved, for a stage that reads its output.
    static func load(_ context: StageContext, from normalised: Input<NormalisedFeatures>) throws -> Normalisation {
      try JSONDecoder().decode(Normalisation.self, from: Data(contentsOf: context.read(normalised).normalisation))
    }
  }

  /// The side of the square images whose rows have `pixels` values, or an error naming `setting`.
  static func imageSide(pixels: Int, for setting: String) throws -> Int {
    let side = Int(Double(pixels).squareRoot())
    guard side * side == pixels else {
      throw PipelineError("\(setting) needs square images; rows have \(pixels) pixels")
    }
    return side
  }

  /// Also stands for `expandBytes`, which makes these features and the train stage's floats
  /// alike: a change to it bumps this, and so re-runs every stage after this one.
  public static let version = 1
  public let name = StageName.normalise
  public let parameters: Parameters
  let parsed = Input<ParsedArrays>(StageName.parse)
  /// The split is an input only when statistics are fitted, so changing the validation size
  /// does not recompute unit-scaled features.
  let split: Input<SplitIndices>?

  public init(parameters: Parameters) {
    self.parameters = parameters
    split = parameters.scaling == .standardize ? Input(StageName.split) : nil
  }

  public func run(_ context: StageContext) throws {
    let parsed = context.read(parsed)
    let trainArray = try NumpyFile.read(from: parsed.trainPixels)
    let trainPixels = try trainArray.values(as: UInt8.self)

    var normalisation = Normalisation(scale: 1 / 255, offset: 0)
    if let split = split.map(context.read) {
      let rows = try NumpyFile.read(from: split.trainIndices).values(as: Int64.self)
      let (mean, std) = pixelStatistics(trainPixels, rows: rows, width: trainArray.shape[1])
      normalisation = Normalisation(scale: Float(1 / (255 * std)), offset: Float(-mean / std))
      context.log(String(format: "training pixels /255: mean %.4f, std %.4f", mean, std))
    }

    // Through `ByteMatrix`, so these are the floats the train stage makes of the same pixels.
    func featureArray(_ pixels: [UInt8], shape: [Int]) -> NumpyArray {
      NumpyArray(shape: shape, values: normalisation.features(of: pixels, shape: shape).expanded().scalars)
    }
    let output = context.output(NormalisedFeatures.self)
    try NumpyFile.write(featureArray(trainPixels, shape: trainArray.shape), to: output.trainFeatures)
    let testArray = try NumpyFile.read(from: parsed.testPixels)
    try NumpyFile.write(featureArray(try testArray.values(as: UInt8.self), shape: testArray.shape), to: output.testFeatures)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(normalisation).write(to: output.normalisation)
  }

  /// Mean and standard deviation of pixel/255 over the given rows, accumulated in Double.
  private func pixelStatistics(_ pixels: [UInt8], rows: [Int64], width: Int) -> (mean: Double, std: Double) {
    var histogram = [Int](repeating: 0, count: 256)
    for row in rows {
      let start = Int(row) * width
      for pixel in pixels[start..<start + width] { histogram[Int(pixel)] += 1 }
    }
    let count = Double(rows.count * width)
    let mean = histogram.enumerated().reduce(0.0) { $0 + Double($1.offset) / 255 * Double($1.element) } / count
    let variance = histogram.enumerated().reduce(0.0) { sum, bucket in
      let deviation = Double(bucket.offset) / 255 - mean
      return sum + deviation * deviation * Double(bucket.element)
    } / count
    return (mean, max(variance.squareRoot(), 1e-12))
  }
}
