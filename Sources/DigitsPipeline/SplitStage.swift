import DataIO
import Foundation
import Pipeline
import Tensor

/// Holds out a seeded random sample of the labelled rows for validation.
public struct SplitStage: Stage {
  /// How many rows to hold out, as the pipeline file says it: a count or a fraction.
  public struct Settings: Codable, Sendable, Hashable {
    public var validationRows: Int?
    public var validationFraction: Double?

    enum CodingKeys: String, CodingKey {
      case validationRows = "validation_rows"
      case validationFraction = "validation_fraction"
    }

    public init(validationRows: Int? = nil, validationFraction: Double? = nil) {
      self.validationRows = validationRows
      self.validationFraction = validationFraction
    }

    func validate() throws {
      switch (validationRows, validationFraction) {
      case (nil, nil), (.some, .some):
        throw PipelineError("split: give exactly one of validation_rows and validation_fraction", at: "split")
      case (let rows?, nil) where rows < 1:
        throw PipelineError("split.validation_rows must be at least 1 (got \(rows))", at: "split.validation_rows")
      case (nil, let fraction?) where !(fraction > 0 && fraction < 1):
        throw PipelineError("split.validation_fraction must be between 0 and 1 (got \(fraction))", at: "split.validation_fraction")
      default:
        return
      }
    }
  }

  public struct Parameters: Codable, Sendable, Hashable {
    public var settings: Settings
    public var seed: UInt64
  }
  public typealias Output = SplitIndices

  /// 2: the shuffle moved to SeededGenerator.permutation (unbiased bounds, another order).
  public static let version = 2
  public let name = StageName.split
  public let parameters: Parameters
  let parsed = Input<ParsedArrays>(StageName.parse)

  public init(settings: Settings, seed: UInt64) throws {
    try settings.validate()
    parameters = Parameters(settings: settings, seed: seed)
  }

  public func run(_ context: StageContext) throws {
    let labels = try NumpyFile.read(from: context.read(parsed).trainLabels)
    let rowCount = labels.shape[0]
    let settings = parameters.settings
    let validationCount = settings.validationRows
      ?? Int((Double(rowCount) * (settings.validationFraction ?? 0)).rounded())
    guard validationCount >= 1, validationCount < rowCount else {
      throw PipelineError(
        "split: cannot hold out \(validationCount) of \(rowCount) rows; at least one must be left on each side")
    }

    // SeededGenerator.permutation is a Fisher-Yates written out in the Tensor module, not
    // Array.shuffle, whose algorithm the standard library does not promise to keep.
    var generator = SeededGenerator(seed: parameters.seed)
    let order = generator.permutation(rowCount)
    let validation = order[..<validationCount].sorted().map(Int64.init)
    let train = order[validationCount...].sorted().map(Int64.init)

    let output = context.output(SplitIndices.self)
    try NumpyFile.write(NumpyArray(shape: [train.count], values: train), to: output.trainIndices)
    try NumpyFile.write(NumpyArray(shape: [validation.count], values: validation), to: output.validationIndices)
    context.log("\(train.count) training rows, \(validation.count) validation rows (seed \(parameters.seed))")
  }
}
