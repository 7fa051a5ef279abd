import Foundation
import Pipeline

/// The Digit Recognizer pipeline: the stages, wired together.
///
/// ```
/// unpack ─► parse ─┬─► split ──────────────┐
///                  └─► normalise (◄─ split  │ when standardizing)
///                              └─► train ◄──┘   (train.2, train.3, … for an ensemble)
///                                  ├─► evaluate
///                                  ├─► predict ─► OUTPUT/submission.csv
///                                  └─► report (reads every stage) ─► OUTPUT/report/index.html
/// ```
/// The stages' names: in the graph, the cache folders, `--stage`, and the commands that read a
/// stage's artifacts.
public enum StageName {
  public static let unpack = "unpack"
  public static let parse = "parse"
  public static let split = "split"
  public static let normalise = "normalise"
  /// The first (or only) network; an ensemble's others are `train.2`, `train.3`, …
  public static let train = "train"
  /// Stands in for the train stages with a model file (`--model`).
  public static let pretrained = "pretrained"
  public static let evaluate = "evaluate"
  public static let predict = "predict"
  public static let report = "report"

  /// The stages a user brings up to date one at a time (`--stage`, `make <stage>`), in order.
  public static let runnable = [unpack, parse, split, normalise, train, evaluate, predict]

  /// Ensemble member `member` (from 1): the first keeps the plain name, so a single model and the
  /// first member of an ensemble are the same cache entry.
  public static func train(member: Int) -> String { member == 1 ? train : "\(train).\(member)" }

  /// Whether a stage supplies one of the models evaluate and predict average: a train stage
  /// (`train`, `train.2`, …) or the `pretrained` stage.
  /// Fold `fold`'s split (from 1), with `split.folds`: the first keeps the plain name, as the
  /// first ensemble member does.
  public static func split(fold: Int) -> String { fold == 1 ? split : "\(split).\(fold)" }

  public static func isModel(_ name: String) -> Bool {
    name == train || name == pretrained || name.hasPrefix("\(train).")
  }
}

public enum DigitsPipeline {
  /// `pipeline --version`.
  public static let version = "0.5.0"

  /// - Parameter pretrainedModel: a model file to use instead of training (`--model`); the
  ///   `pretrained` stage checks it against this pipeline and stands in for the train stages.
  public static func graph(
    configuration: DigitsConfiguration, input: URL, inputDescription: String? = nil, pretrainedModel: URL? = nil,
    pipelineFile: String = "(not from a file)"
  ) throws -> PipelineGraph {
    try configuration.validate()
    let views = TestTimeAugmentation(testTimeShift: configuration.testTimeShift ?? 0, testTimeRotation: configuration.testTimeRotation)
    // With split.folds, fold i has its own split stage and member i trains on it; otherwise
    // every member trains on the one split.
    // A model from outside (--model) is measured on the first fold's rows, and the other folds
    // have nothing to do.
    let folds = pretrainedModel == nil ? configuration.split.folds.map { Array(1...$0) } : configuration.split.folds.map { _ in [1] }
    let splits: [SplitStage] = try folds.map { folds in
      try folds.map { try SplitStage(settings: configuration.split, seed: configuration.seed, fold: $0) }
    } ?? [SplitStage(settings: configuration.split, seed: configuration.seed)]
    // Member k trains with seed + k - 1 (see `StageName.train(member:)`).
    let members: [any Stage] = try pretrainedModel.map { [PretrainedModelStage(model: $0)] }
      ?? (1...configuration.memberCount).map { member in
        try TrainStage(
          name: StageName.train(member: member), settings: configuration.train,
          seed: configuration.seed &+ UInt64(member - 1), split: splits[splits.count == 1 ? 0 : member - 1].name)
      }
    let memberNames = members.map(\.name)
    let memberSplits = members.indices.map { splits[splits.count == 1 ? 0 : $0].name }
    let stages: [any Stage] = [
      try UnpackStage(input: input),
      ParseStage(sourceDescription: inputDescription ?? input.path),
    ] + splits + [
      NormaliseStage(parameters: configuration.normalise),
    ] + members + [
      EvaluateStage(members: memberNames, splits: memberSplits, augmentation: views),
      PredictStage(members: memberNames, augmentation: views),
    ]
    let report = ReportStage(
      upstream: stages.map(\.name), members: memberNames, pipelineFile: pipelineFile,
      modelFile: pretrainedModel?.relativePath, configuration: configuration)
    return try PipelineGraph(stages + [report])
  }

  /// Reads a pipeline file, with `--set` overrides applied, and checks its settings: a setting
  /// out of range is reported at its line and column (or its `--set`).
  public static func loadConfiguration(from url: URL, overrides: [String] = []) throws -> DigitsConfiguration {
    try PipelineFile.load(DigitsConfiguration.self, from: url, overrides: overrides) { try $0.validate() }
  }
}
