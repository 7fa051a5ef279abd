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

  private static func describe(_ action: StageOutcome.Action) -> (name: String, seconds: Double?) {
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

  /// `run --json`: what ran, what was cached, where each entry and the published files are.
  struct RunResult: Encodable {
    struct Stage: Encodable {
      var stage: String
      /// ran, cached or would run
      var action: String
      var seconds: Double?
      var fingerprint: Fingerprint
      var directory: String
    }
    var stages: [Stage]
    var submission: String?
    var metrics: String?
    var seconds: Double
  }

  static func runJSON(_ outcomes: [StageOutcome], submission: String?, metrics: String?, seconds: Double) throws -> String {
    try readableJSON(RunResult(
      stages: outcomes.map { outcome in
        let (action, seconds) = describe(outcome.action)
        return RunResult.Stage(
          stage: outcome.name, action: action, seconds: seconds, fingerprint: outcome.fingerprint,
          directory: outcome.directory.path)
      },
      submission: submission, metrics: metrics, seconds: seconds))
  }
}
