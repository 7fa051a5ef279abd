import DigitsPipeline
import Foundation
import Pipeline
import Report

/// The order `exp show` lists runs in: by time oldest first (the newest ends beside the prompt),
/// by a figure best first.
public enum ExperimentSort: String, CaseIterable, Sendable {
  case time, accuracy, loss, seconds
}

/// Which runs to list, and in what order.
public struct ExperimentSelection: Sendable {
  /// Only runs of the pipeline with this name.
  public var pipeline: String?
  /// `path=value` pairs every listed run must have, as `exp show` prints them.
  public var conditions: [(path: String, value: String)]
  public var sort: ExperimentSort

  public init(pipeline: String? = nil, conditions: [String] = [], sort: ExperimentSort = .time) throws {
    self.pipeline = pipeline
    self.sort = sort
    self.conditions = try conditions.map { text in
      guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
        throw PipelineError("--where \(text): expected PARAMETER=VALUE, e.g. train.epochs=30")
      }
      return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }
  }

  /// The runs that pass, in order. A condition on a parameter no run has is an error, so that a
  /// misspelt name does not read as "no such runs".
  public func apply(to experiments: [Experiment]) throws -> [Experiment] {
    for condition in conditions where !experiments.contains(where: { $0.parameters[condition.path] != nil }) {
      throw PipelineError("--where \(condition.path)=\(condition.value): no run has a parameter \(condition.path) (exp show --all lists them)")
    }
    let kept = experiments.filter { experiment in
      (pipeline == nil || experiment.pipeline == pipeline)
        && conditions.allSatisfy { experiment.parameters[$0.path] == $0.value }
    }
    func key(_ experiment: Experiment) -> Double {
      switch sort {
      case .time: experiment.created.timeIntervalSince1970
      case .accuracy: -(experiment.metrics?.accuracy ?? -1)
      case .loss: experiment.metrics?.loss ?? .infinity
      case .seconds: experiment.trainingSeconds
      }
    }
    return kept.enumerated().sorted { (key($0.element), $0.offset) < (key($1.element), $1.offset) }.map(\.element)
  }
}

/// Runs as a table: one row each, with the parameters that differ between them (or all).
public struct ExperimentTable: Sendable {
  public let experiments: [Experiment]
  public let parameterColumns: [String]
  /// Whether any run shown was submitted to Kaggle: only then is there a "kaggle" column.
  public let showsKaggle: Bool

  public init(_ experiments: [Experiment], allParameters: Bool = false) {
    self.experiments = experiments
    showsKaggle = experiments.contains { !$0.kaggleSubmissions.isEmpty }
    let paths = Set(experiments.flatMap(\.parameters.keys)).sorted()
    parameterColumns = allParameters ? paths : paths.filter { path in
      Set(experiments.map { $0.parameters[path] ?? "" }).count > 1
    }
  }

  public var header: [String] {
    ["id", "evaluated", "pipeline"] + parameterColumns + ["members", "accuracy", "errors", "loss", "train s", "submission"]
      + (showsKaggle ? ["kaggle"] : [])
  }

  public var rows: [[String]] { experiments.map(row) }

  private func row(_ experiment: Experiment) -> [String] {
    let identity: [String] = [experiment.id.short, ExperimentFormat.date(experiment.created), experiment.pipeline ?? "?"]
    let settings: [String] = parameterColumns.map { experiment.parameters[$0] ?? "—" }
    var figures: [String] = [String(experiment.members)]
    if let metrics = experiment.metrics, let errors = experiment.errors {
      figures += [Format.percent(metrics.accuracy), "\(errors)/\(metrics.rows)", Format.fixed(metrics.loss, decimals: 4)]
    } else {
      figures += ["?", "?", "?"]
    }
    figures += [Format.fixed(experiment.trainingSeconds, decimals: 0), experiment.isCurrentSubmission ? "current" : ""]
    if showsKaggle {
      // When it was last submitted; how often, when more than once.
      let submissions = experiment.kaggleSubmissions
      figures.append(submissions.last.map { ExperimentFormat.date($0.submitted) + (submissions.count > 1 ? " (\(submissions.count)×)" : "") } ?? "")
    }
    return identity + settings + figures
  }

  /// Aligned columns for a terminal; a long value (a list of layers) is cut to `width`.
  public func text(width: Int = 40) -> String {
    Format.alignedColumns([header] + rows.map { $0.map { ExperimentFormat.cut($0, to: width) } })
  }

  /// A GitHub table, every value whole, for a README.
  public func markdown() -> String {
    func line(_ cells: [String]) -> String {
      "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
    }
    return ([line(header), line(header.map { _ in "---" })] + rows.map(line)).joined(separator: "\n")
  }
}

/// The spelling of dates and cut values in `exp` output (figures: the report's ``Format``).
public enum ExperimentFormat {
  public static func date(_ date: Date) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = "yyyy-MM-dd HH:mm"
    return formatter.string(from: date)
  }

  static func cut(_ text: String, to width: Int) -> String {
    text.count <= width ? text : String(text.prefix(width - 1)) + "…"
  }
}
