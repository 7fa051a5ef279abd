import DataIO
import Foundation
import Pipeline
import Tensor

/// Holds out a seeded random sample of the labelled rows for validation, or, for k-fold
/// cross-validation, one fold of a seeded split of them into `folds` parts stratified by label.
public struct SplitStage: Stage {
  /// How to hold rows out, as the pipeline file says it: a count, a fraction, or a number of
  /// folds (each fold's split is its own stage, `split`, `split.2`, …).
  public struct Settings: Codable, Sendable, Hashable {
    public var validationRows: Int?
    public var validationFraction: Double?
    /// k-fold cross-validation: fold i's split holds out the i-th of `folds` parts.
    public var folds: Int?

    enum CodingKeys: String, CodingKey {
      case validationRows = "validation_rows"
      case validationFraction = "validation_fraction"
      case folds
    }

    public init(validationRows: Int? = nil, validationFraction: Double? = nil, folds: Int? = nil) {
      self.validationRows = validationRows
      self.validationFraction = validationFraction
      self.folds = folds
    }

    /// The most folds a pipeline may ask for: each is a network to train.
    public static let maximumFolds = 50

    func validate() throws {
      guard [validationRows != nil, validationFraction != nil, folds != nil].filter({ $0 }).count == 1 else {
        throw PipelineError("split: give exactly one of validation_rows, validation_fraction and folds", at: "split")
      }
      if let rows = validationRows, rows < 1 {
        throw PipelineError("split.validation_rows must be at least 1 (got \(rows))", at: "split.validation_rows")
      }
      if let fraction = validationFraction, !(fraction > 0 && fraction < 1) {
        throw PipelineError("split.validation_fraction must be between 0 and 1 (got \(fraction))", at: "split.validation_fraction")
      }
      if let folds, !(2...Self.maximumFolds).contains(folds) {
        throw PipelineError("split.folds must be between 2 and \(Self.maximumFolds) (got \(folds))", at: "split.folds")
      }
    }
  }

  public struct Parameters: Codable, Sendable, Hashable {
    public var settings: Settings
    public var seed: UInt64
    /// Which fold (from 1) this split holds out, with `settings.folds`; absent otherwise.
    public var fold: Int?
  }
  public typealias Output = SplitIndices

  /// 2: the shuffle moved to SeededGenerator.permutation (unbiased bounds, another order).
  public static let version = 2
  public let name: String
  public let parameters: Parameters
  let parsed = Input<ParsedArrays>(StageName.parse)

  /// - Parameter fold: with `settings.folds`, which fold (from 1) to hold out.
  public init(settings: Settings, seed: UInt64, fold: Int? = nil) throws {
    try settings.validate()
    guard (settings.folds == nil) == (fold == nil), (1...(settings.folds ?? 1)).contains(fold ?? 1) else {
      throw PipelineError("split: fold \(fold.map(String.init) ?? "none") does not fit folds \(settings.folds.map(String.init) ?? "none")")
    }
    name = fold.map { StageName.split(fold: $0) } ?? StageName.split
    parameters = Parameters(settings: settings, seed: seed, fold: fold)
  }

  public func run(_ context: StageContext) throws {
    let labelArray = try NumpyFile.read(from: context.read(parsed).trainLabels)
    let rowCount = labelArray.shape[0]
    let settings = parameters.settings
    let (train, validation): ([Int64], [Int64])
    if let folds = settings.folds, let fold = parameters.fold {
      let labels = try labelArray.values(as: UInt8.self)
      guard rowCount >= folds else {
        throw PipelineError("split: cannot make \(folds) folds of \(rowCount) rows")
      }
      let assignment = Self.stratifiedFolds(labels: labels, folds: folds, seed: parameters.seed)
      validation = assignment.indices.filter { assignment[$0] == fold - 1 }.map(Int64.init)
      train = assignment.indices.filter { assignment[$0] != fold - 1 }.map(Int64.init)
    } else {
      (train, validation) = try holdOut(rowCount: rowCount)
    }

    let output = context.output(SplitIndices.self)
    try NumpyFile.write(NumpyArray(shape: [train.count], values: train), to: output.trainIndices)
    try NumpyFile.write(NumpyArray(shape: [validation.count], values: validation), to: output.validationIndices)
    let fold = parameters.fold.map { "fold \($0) of \(settings.folds!), stratified by label; " } ?? ""
    context.log("\(train.count) training rows, \(validation.count) validation rows (\(fold)seed \(parameters.seed))")
  }

  private func holdOut(rowCount: Int) throws -> (train: [Int64], validation: [Int64]) {
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
    return (order[validationCount...].sorted().map(Int64.init), order[..<validationCount].sorted().map(Int64.init))
  }

  /// Each row's fold (from 0): every class's rows, in a seeded order, dealt to the folds in
  /// turn, the deal going on from class to class, so each fold has every class in proportion
  /// (per class, fold sizes differ by at most one row) and the folds' sizes by at most one.
  static func stratifiedFolds(labels: [UInt8], folds: Int, seed: UInt64) -> [Int] {
    var generator = SeededGenerator(seed: seed)
    var assignment = [Int](repeating: 0, count: labels.count)
    var next = 0
    for label in 0...UInt8.max {
      let rows = labels.indices.filter { labels[$0] == label }
      guard !rows.isEmpty else { continue }
      for position in generator.permutation(rows.count) {
        assignment[rows[position]] = next % folds
        next += 1
      }
    }
    return assignment
  }
}

