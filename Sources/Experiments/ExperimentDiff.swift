import Foundation
import Pipeline
import Report

/// Two runs side by side, as `dvc exp diff` prints them: the parameters that differ (or all),
/// then the figures, each with its change from the first run to the second.
public struct ExperimentDiff: Sendable {
  public struct Row: Sendable, Encodable, Equatable {
    public var name: String
    public var old: String
    public var new: String
    /// The figure's change, signed (`+0.21%`); empty for parameters.
    public var change: String
  }

  public let old: Experiment
  public let new: Experiment
  public let parameters: [Row]
  public let metrics: [Row]

  public init(_ old: Experiment, _ new: Experiment, allParameters: Bool = false) {
    self.old = old
    self.new = new
    parameters = Set(old.parameters.keys).union(new.parameters.keys).sorted().compactMap { path in
      let before = old.parameters[path] ?? "—"
      let after = new.parameters[path] ?? "—"
      return allParameters || before != after ? Row(name: path, old: before, new: after, change: "") : nil
    }
    /// A figure's row; its change is spelt like its values, with a sign when it is not zero.
    func figure(_ name: String, _ value: (Experiment) -> Double?, _ text: (Double) -> String) -> Row {
      let (a, b) = (value(old), value(new))
      var change = ""
      if let a, let b {
        change = text(b - a)
        if b > a, change.contains(where: { "123456789".contains($0) }) { change = "+" + change }
      }
      return Row(name: name, old: a.map(text) ?? "?", new: b.map(text) ?? "?", change: change)
    }
    metrics = [
      figure("accuracy", { $0.metrics?.accuracy }, { Format.percent($0) }),
      figure("errors", { $0.errors.map(Double.init) }, { String(Int($0)) }),
      figure("loss", { $0.metrics?.loss }, { Format.fixed($0, decimals: 4) }),
      figure("members", { Double($0.members) }, { String(Int($0)) }),
      figure("train s", { $0.trainingSeconds }, { Format.fixed($0, decimals: 0) }),
    ]
  }

  public func text(width: Int = 40) -> String {
    let ids = [old.id.short, new.id.short]
    let parameterRows = parameters.isEmpty
      ? [["(no parameter differs)", "", ""]]
      : parameters.map { [$0.name, ExperimentFormat.cut($0.old, to: width), ExperimentFormat.cut($0.new, to: width)] }
    return Format.alignedColumns([["parameter"] + ids] + parameterRows) + "\n\n"
      + Format.alignedColumns([["metric"] + ids + ["change"]] + metrics.map { [$0.name, $0.old, $0.new, $0.change] })
  }
}
