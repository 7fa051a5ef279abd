import Foundation
import Pipeline

/// The Digit Recognizer pipeline: the stages, wired together.
///
/// ```
/// unpack ─► parse ─┬─► split ──────────────┐
///                  └─► normalise (◄─ split  │ when standardizing)
///                              └─► train ◄──┘
///                                  ├─► evaluate
///                                  └─► predict ─► OUTPUT/submission.csv
/// ```
public enum DigitsPipeline {
  public static func graph(configuration: DigitsConfiguration, input: URL, inputDescription: String? = nil) throws -> PipelineGraph {
    try PipelineGraph([
      UnpackStage(archive: input),
      ParseStage(sourceDescription: inputDescription ?? input.path),
      SplitStage(settings: configuration.split, seed: configuration.seed),
      NormaliseStage(parameters: configuration.normalise),
      TrainStage(settings: configuration.train, seed: configuration.seed),
      EvaluateStage(),
      PredictStage(),
    ])
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
