import ArgumentParser
import DigitsPipeline
import Experiments
import Foundation
import Pipeline

/// `pipeline exp`: the runs the cache remembers, from any pipeline file and any `--set`.
struct Experiments: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "exp",
    abstract: "List, inspect and compare the runs the cache remembers.",
    discussion: """
      A run is an evaluate entry and the entries it was made from; its id is the evaluate fingerprint (the first 12 hex digits, as the logs print them; any 4 or more that are unique will do). Parameters are named stage.parameter, e.g. train.epochs or split.seed.
      """,
    subcommands: [Show.self, Diff.self],
    defaultSubcommand: Show.self)

  /// The cache to read, and the submission to mark.
  struct Source: ParsableArguments {
    @Option(help: "The output folder: its cache, and its submission.csv to mark.")
    var output = "output"

    @Option(help: ArgumentHelp("The cache to read instead (default: $\(CacheOption.variable), else OUTPUT/cache).", valueName: "DIR"))
    var cache: String?

    func experiments() throws -> [Experiment] {
      let folder = URL(filePath: output, directoryHint: .isDirectory)
      return Experiments.runs(in: try CacheOption.store(cache, output: folder), output: folder)
    }
  }

  /// The runs in a cache, with the output folder's submission marked.
  static func runs(in cache: CacheStore, output folder: URL) -> [Experiment] {
    ExperimentLog.load(cache: cache, submission: folder.appending(path: PredictStage.publishedSubmission))
  }

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "One row per run: when, the pipeline, the parameters that differ, accuracy, loss, members, training time; or one run whole.",
      discussion: """
        Examples:
          pipeline exp show                              # every run, oldest first
          pipeline exp show --sort accuracy --pipeline default
          pipeline exp show --where train.epochs=30 --md # a table for a README
          pipeline exp show 1a2b3c                       # one run whole
        """)

    @OptionGroup var source: Source

    @Argument(help: "A run's id: show that run whole.")
    var id: String?

    @Option(help: ArgumentHelp("Order: time oldest first, or a figure best first.", valueName: "KEY"))
    var sort: ExperimentSort = .time

    @Option(help: "Only the runs of the pipeline with this name (the pipeline file's name:).")
    var pipeline: String?

    @Option(name: .customLong("where"), parsing: .singleValue,
            help: ArgumentHelp("Only the runs with this parameter value, e.g. train.epochs=30 (repeatable).", valueName: "PARAMETER=VALUE"))
    var conditions: [String] = []

    @Flag(help: "Every parameter, not only those that differ between the runs shown.")
    var all = false

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Print a Markdown table, every value whole.")
    var md = false

    func validate() throws {
      if json && md { throw ValidationError("--json and --md exclude each other") }
    }

    func run() throws {
      let experiments = try failing { try source.experiments() }
      if let id {
        let experiment = try failing { try ExperimentLog.find(id, in: experiments) }
        print(json ? try readableJSON(ExperimentJSON(experiment, withStages: true)) : experiment.detail())
        return
      }
      let shown = try failing {
        try ExperimentSelection(pipeline: pipeline, conditions: conditions, sort: sort).apply(to: experiments)
      }
      if json {
        print(try readableJSON(shown.map { ExperimentJSON($0) }))
      } else if shown.isEmpty {
        print(experiments.isEmpty ? "no runs in \(source.output)/cache: pipeline run makes one" : "no run matches")
      } else {
        let table = ExperimentTable(shown, allParameters: all)
        print(md ? table.markdown() : table.text())
      }
    }
  }

  struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Two runs side by side: the parameters that differ, and the figures with their change.")

    @OptionGroup var source: Source

    @Argument(help: "The first run's id.")
    var old: String

    @Argument(help: "The second run's id; changes are from the first to this one.")
    var new: String

    @Flag(help: "Every parameter, not only those that differ.")
    var all = false

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
      let experiments = try failing { try source.experiments() }
      let diff = try failing {
        ExperimentDiff(try ExperimentLog.find(old, in: experiments), try ExperimentLog.find(new, in: experiments), allParameters: all)
      }
      if json {
        struct Shape: Encodable { var old: String; var new: String; var parameters: [ExperimentDiff.Row]; var metrics: [ExperimentDiff.Row] }
        print(try readableJSON(Shape(old: diff.old.id.short, new: diff.new.id.short, parameters: diff.parameters, metrics: diff.metrics)))
      } else {
        print(diff.text())
      }
    }
  }
}

extension ExperimentSort: ExpressibleByArgument {}
