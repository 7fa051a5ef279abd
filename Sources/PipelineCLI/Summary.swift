import DigitsPipeline
import Foundation
import Pipeline
import Report

/// What a command prints on standard output: the tables for people, the JSON for scripts.
enum Summary {
  /// What happened to each stage; `directories` adds each one's cache entry (`--verbose`).
  static func table(_ outcomes: [StageOutcome], directories: Bool = false) -> String {
    var rows = [["stage", "action", "seconds", "fingerprint"] + (directories ? ["entry"] : [])]
    for outcome in outcomes {
      let (action, seconds) = describe(outcome.action)
      rows.append([outcome.name, action, seconds.map { Format.fixed($0, decimals: 1) } ?? "", outcome.fingerprint.short]
        + (directories ? [outcome.directory.path] : []))
    }
    return Format.alignedColumns(rows)
  }

  static func describe(_ action: StageOutcome.Action) -> (name: String, seconds: Double?) {
    switch action {
    case .ran(let seconds): ("ran", seconds)
    case .cached: ("cached", nil)
    case .wouldRun: ("would run", nil)
    }
  }

  /// One row per stage; a stale one says what differs from its newest entry.
  static func statusTable(_ planned: [PlannedStage]) -> String {
    var rows = [["stage", "state", "fingerprint", "why"]]
    for stage in planned {
      let why = switch stage.state {
      case .fresh: ""
      case .missing: "never ran into this cache"
      case .stale: stage.changes.joined(separator: "; ")
      }
      rows.append([stage.name, stage.state.rawValue, stage.fingerprint.short, why])
    }
    return Format.alignedColumns(rows)
  }

  struct StageStatus: Encodable {
    var stage: String
    var state: StageState
    var fingerprint: Fingerprint
    var inputs: [String: Fingerprint]
    var changes: [String]
  }

  static func statusJSON(_ planned: [PlannedStage]) throws -> String {
    try readableJSON(planned.map {
      StageStatus(stage: $0.name, state: $0.state, fingerprint: $0.fingerprint, inputs: $0.inputs, changes: $0.changes)
    })
  }

  struct GraphStage: Encodable {
    var stage: String
    var inputs: [String]
    var state: StageState?
  }

  static func graphJSON(_ graph: PipelineGraph, states: [String: StageState]) throws -> String {
    try readableJSON(graph.stages.map { GraphStage(stage: $0.name, inputs: $0.inputs, state: states[$0.name]) })
  }
}

/// What one run did (`run --json`; a sweep prints one per point): what ran, what was cached, where
/// each entry and the published files are.
struct RunResult: Encodable {
  struct Stage: Encodable {
    var stage: String
    /// ran, cached or would run
    var action: String
    var seconds: Double?
    var fingerprint: Fingerprint
    var directory: String
  }
  /// A sweep point's own `--set` values.
  var set: [String]?
  var stages: [Stage] = []
  /// The run's id for `exp show`: its evaluate entry's fingerprint.
  var evaluation: Fingerprint?
  var submission: String?
  var metrics: String?
  var seconds: Double
  /// Why a sweep point failed.
  var error: String?

  init(outcomes: [StageOutcome], output: URL, dryRun: Bool, seconds: Double, set: [String]? = nil) {
    self.set = set
    self.seconds = seconds
    stages = outcomes.map { outcome in
      let (action, seconds) = Summary.describe(outcome.action)
      return Stage(
        stage: outcome.name, action: action, seconds: seconds, fingerprint: outcome.fingerprint,
        directory: outcome.directory.path)
    }
    func published(_ stage: String, _ file: String) -> String? {
      dryRun || !outcomes.contains(where: { $0.name == stage }) ? nil : output.appending(path: file).relativePath
    }
    submission = published(StageName.predict, PredictStage.publishedSubmission)
    metrics = published(StageName.evaluate, Evaluation.metricsFileName)
    evaluation = dryRun ? nil : outcomes.first { $0.name == StageName.evaluate }?.fingerprint
  }

  init(set: [String], error: String, seconds: Double) {
    (self.set, self.error, self.seconds) = (set, error, seconds)
  }
}
