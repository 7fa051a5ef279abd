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
public enum DigitsPipeline {
  /// - Parameter pretrainedModel: a model file to use instead of training (`--model`); the
  ///   `pretrained` stage checks it against this pipeline and stands in for the train stages.
  public static func graph(
    configuration: DigitsConfiguration, input: URL, inputDescription: String? = nil, pretrainedModel: URL? = nil,
    pipelineFile: String = "(not from a file)"
  ) throws -> PipelineGraph {
    guard configuration.memberCount >= 1 else {
      throw PipelineError("ensemble must be at least 1 (got \(configuration.memberCount))")
    }
    let shift = configuration.testTimeShift ?? 0
    guard (0..<14).contains(shift) else {
      throw PipelineError("test_time_shift must be between 0 and 13 pixels (got \(shift))")
    }
    // Member k trains with seed + k - 1; the first keeps the plain name, so a single model and
    // the first member of an ensemble are the same cache entry.
    let members: [any Stage] = try pretrainedModel.map { [PretrainedModelStage(model: $0)] }
      ?? (1...configuration.memberCount).map { member in
        try TrainStage(
          name: member == 1 ? "train" : "train.\(member)",
          settings: configuration.train, seed: configuration.seed &+ UInt64(member - 1))
      }
    let memberNames = members.map(\.name)
    let stages: [any Stage] = [
      try UnpackStage(input: input),
      ParseStage(sourceDescription: inputDescription ?? input.path),
      try SplitStage(settings: configuration.split, seed: configuration.seed),
      NormaliseStage(parameters: configuration.normalise),
    ] + members + [
      EvaluateStage(members: memberNames, testTimeShift: shift),
      PredictStage(members: memberNames, testTimeShift: shift),
    ]
    let report = ReportStage(
      upstream: stages.map(\.name), members: memberNames, pipelineFile: pipelineFile, configuration: configuration)
    return try PipelineGraph(stages + [report])
  }

  /// Reads a pipeline file, with `--set` overrides applied.
  public static func loadConfiguration(from url: URL, overrides: [String] = []) throws -> DigitsConfiguration {
    let configuration = try PipelineFile.load(DigitsConfiguration.self, from: url, overrides: overrides)
    do {
      _ = try graph(configuration: configuration, input: URL(filePath: "/dev/null"))
    } catch let error as PipelineError {
      throw PipelineError("\(url.path): \(error.description)")
    }
    return configuration
  }
}
