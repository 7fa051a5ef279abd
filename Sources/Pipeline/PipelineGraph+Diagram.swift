import Foundation

extension PipelineGraph {
  /// One line per stage in run order, with the stages it reads:
  ///
  ///     parse      ← unpack
  ///     normalise  ← parse, split
  public func textDiagram(states: [String: StageState] = [:]) -> String {
    let width = names.map(\.count).max() ?? 0
    let lines = stages.map { stage in
      let name = stage.name.padding(toLength: width, withPad: " ", startingAt: 0)
      return stage.inputs.isEmpty ? name : name + "  ← " + stage.inputs.joined(separator: ", ")
    }
    let stateColumn = (lines.map(\.count).max() ?? 0) + 2
    return zip(stages, lines).map { stage, line in
      guard let state = states[stage.name] else { return line.trimmingCharacters(in: .whitespaces) }
      return line.padding(toLength: stateColumn, withPad: " ", startingAt: 0) + state.rawValue
    }.joined(separator: "\n")
  }

  /// The graph as a Mermaid flowchart, for Markdown renderers (GitHub, GitLab, mkdocs).
  public func mermaid() -> String {
    func id(_ name: String) -> String {
      String(name.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
    var lines = ["flowchart TD"]
    for stage in stages {
      lines.append("  \(id(stage.name))[\"\(stage.name)\"]")
    }
    for stage in stages {
      for input in stage.inputs { lines.append("  \(id(input)) --> \(id(stage.name))") }
    }
    return lines.joined(separator: "\n")
  }
}
