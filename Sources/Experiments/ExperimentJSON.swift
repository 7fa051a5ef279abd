import DigitsPipeline
import Foundation
import Pipeline
import Report

/// A run as `--json` prints it: the table's figures by name, and with `stages`, the whole run.
public struct ExperimentJSON: Encodable, Sendable {
  var id: String
  var fingerprint: Fingerprint
  var evaluated: Date
  var pipeline: String?
  var parameters: [String: String]
  var accuracy: Double?
  var loss: Double?
  var errors: Int?
  var rows: Int?
  var members: Int
  var memberAccuracies: [Double]?
  var trainingSeconds: Double
  var currentSubmission: Bool
  var kaggle: [KaggleSubmission]
  var stages: [Experiment.StageRecord]?

  enum CodingKeys: String, CodingKey {
    case id, fingerprint, evaluated, pipeline, parameters, accuracy, loss, errors, rows, members, kaggle, stages
    case memberAccuracies = "member_accuracies"
    case trainingSeconds = "training_seconds"
    case currentSubmission = "current_submission"
  }

  public init(_ experiment: Experiment, withStages: Bool = false) {
    id = experiment.id.short
    fingerprint = experiment.id
    evaluated = experiment.created
    pipeline = experiment.pipeline
    parameters = experiment.parameters
    accuracy = experiment.metrics?.accuracy
    loss = experiment.metrics?.loss
    errors = experiment.errors
    rows = experiment.metrics?.rows
    members = experiment.members
    memberAccuracies = experiment.metrics?.memberAccuracies
    trainingSeconds = experiment.trainingSeconds
    currentSubmission = experiment.isCurrentSubmission
    kaggle = experiment.kaggleSubmissions
    stages = withStages ? experiment.stages : nil
  }
}

extension Experiment {
  /// The whole run for `exp show ID`: its figures, each stage's entry and parameters, and the
  /// machine that trained it.
  public func detail() -> String {
    var lines = ["run \(id.short), pipeline \(pipeline ?? "?"), evaluated \(ExperimentFormat.date(created))"]
    lines += metrics?.summaryTable() ?? ["metrics: unreadable"]
    lines.append("members: \(members), training \(Format.fixed(trainingSeconds, decimals: 1)) s"
      + (isCurrentSubmission ? "; its submission is the output folder's submission.csv" : ""))
    lines += kaggleSubmissions.map { "submitted to Kaggle \(ExperimentFormat.date($0.submitted)): \($0.message) (kaggle: \($0.kaggle))" }
    lines.append("")
    lines.append(Format.alignedColumns([["stage", "fingerprint", "created", "seconds", "version"]] + stages.map {
      [$0.name, $0.fingerprint.short, ExperimentFormat.date($0.created), Format.fixed($0.seconds, decimals: 1), String($0.version)]
    }))
    lines.append("")
    let parameterRows = stages.flatMap { stage in
      stage.parameters.sorted { $0.key < $1.key }.map { [stage.name, $0.key, $0.value] }
    }
    lines.append(Format.alignedColumns([["stage", "parameter", "value"]] + parameterRows))
    if let trained = stages.first(where: { StageName.isModel($0.name) }), let machine = trained.machine {
      lines.append("")
      lines.append("machine (\(trained.name)):")
      lines += machine.map { "  " + $0 }
    }
    return lines.joined(separator: "\n")
  }
}
