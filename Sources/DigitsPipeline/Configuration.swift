import Foundation
import Pipeline
import NeuralNet
import Tensor

/// A pipeline file (`pipelines/*.yaml`), decoded. Every field shapes some stage's parameters,
/// and so its fingerprint; anything that does not (thread count, paths) is a command-line option.
public struct DigitsConfiguration: Codable, Sendable, Equatable {
  /// Shown in logs; not part of any fingerprint.
  public var name: String
  /// Seeds the split's shuffle and the training (initial weights, batch order).
  public var seed: UInt64
  public var normalise: NormaliseStage.Parameters
  public var split: SplitStage.Settings
  public var train: TrainStage.Settings
  /// How many networks to train (seeds `seed`, `seed + 1`, …) and average; absent means one.
  /// Each member is its own cached stage, so adding one trains only that one.
  public var ensemble: Int?
  /// Test-time augmentation: each prediction (validation and test alike) averages the
  /// probabilities for the image and its copies moved 1…N pixels left, right, up and down
  /// (4N + 1 views, so 4N + 1 times the inference); absent or 0 means the image alone.
  public var testTimeShift: Int?
  /// Test-time augmentation by rotation: each prediction also averages the image rotated by −D
  /// and +D degrees (2 more views); absent means none.
  public var testTimeRotation: Float?

  enum CodingKeys: String, CodingKey {
    case name, seed, normalise, split, train, ensemble
    case testTimeShift = "test_time_shift"
    case testTimeRotation = "test_time_rotation"
  }

  public init(
    name: String, seed: UInt64, normalise: NormaliseStage.Parameters,
    split: SplitStage.Settings, train: TrainStage.Settings, ensemble: Int? = nil, testTimeShift: Int? = nil
  ) {
    self.name = name
    self.seed = seed
    self.normalise = normalise
    self.split = split
    self.train = train
    self.ensemble = ensemble
    self.testTimeShift = testTimeShift
  }

  /// How many networks train: one per fold with `split.folds`, else `ensemble` (absent: one).
  public var memberCount: Int { split.folds ?? ensemble ?? 1 }
  /// The most networks `ensemble` may ask for.
  public static let maximumMembers = 100

  /// Throws a one-line `PipelineError` naming the first setting out of range: the ensemble and
  /// test-time augmentation, then the train and split sections' own checks, then whether one
  /// training step fits `availableMemory` (this machine's, by default; nil: not checked).
  public func validate(availableMemory: SystemMemory? = SystemMemory.current()) throws {
    // Each member is a whole training run and a stage of the graph: a thousand million of them
    // is no ensemble but an allocation that fails.
    if split.folds != nil, let ensemble, ensemble != 1 {
      throw PipelineError(
        "ensemble: cross-validation (split.folds) trains one network per fold and averages them; leave ensemble out",
        at: "ensemble")
    }
    guard (1...Self.maximumMembers).contains(memberCount) else {
      throw PipelineError("ensemble must be between 1 and \(Self.maximumMembers) networks (got \(memberCount))", at: "ensemble")
    }
    let shift = testTimeShift ?? 0
    guard (0..<14).contains(shift) else {
      throw PipelineError("test_time_shift must be between 0 and 13 pixels (got \(shift))", at: "test_time_shift")
    }
    if let rotation = testTimeRotation {
      try check(rotation, in: Float.leastNonzeroMagnitude...45, "test_time_rotation", "more than 0 and at most 45 degrees")
    }
    try train.validate()
    try split.validate()
    if let availableMemory { try checkMemory(available: availableMemory) }
  }
}

/// A mini-batch size, or the whole training set at once (`full`): the original network's plain
/// gradient descent, one step per epoch.
public enum BatchSize: Codable, Sendable, Hashable, CustomStringConvertible {
  case full
  case rows(Int)

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if let rows = try? container.decode(Int.self) {
      guard rows > 0 else {
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "a batch size must be positive")
      }
      self = .rows(rows)
    } else if let word = try? container.decode(String.self), word == "full" {
      self = .full
    } else {
      throw DecodingError.dataCorruptedError(
        in: container, debugDescription: "expected a positive whole number or 'full'")
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .full: try container.encode("full")
    case .rows(let rows): try container.encode(rows)
    }
  }

  public var description: String {
    switch self {
    case .full: "full"
    case .rows(let rows): String(rows)
    }
  }

  var rowsPerBatch: Int? {
    if case .rows(let rows) = self { rows } else { nil }
  }
}
