import Foundation
import Pipeline

/// The tables printed at the end of a command.
enum Summary {
  static func table(_ outcomes: [StageOutcome]) -> String {
    var rows = [["stage", "action", "seconds", "fingerprint"]]
    for outcome in outcomes {
      let (action, seconds): (String, String) = switch outcome.action {
      case .ran(let seconds): ("ran", String(format: "%.1f", seconds))
      case .cached: ("cached", "")
      case .wouldRun: ("would run", "")
      }
      rows.append([outcome.name, action, seconds, outcome.fingerprint.short])
    }
    return align(rows)
  }

  static func statusTable(_ planned: [PlannedStage]) -> String {
    var rows = [["stage", "state", "fingerprint", "inputs"]]
    for stage in planned {
      rows.append([stage.name, stage.state.rawValue, stage.fingerprint.short, stage.inputs.keys.sorted().joined(separator: ", ")])
    }
    return align(rows)
  }

  private static func align(_ rows: [[String]]) -> String {
    let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
      row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
        .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n")
  }
}
