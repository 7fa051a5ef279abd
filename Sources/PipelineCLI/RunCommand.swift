import ArgumentParser
import DigitsPipeline
import Experiments
import Foundation
import Machine
import Pipeline
import Tensor

extension PipelineCommand {
  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Bring the pipeline (or one stage and what it needs) up to date; with a sweep, each point of the grid.",
      discussion: """
        A --set value with commas is a sweep: --set train.epochs=10,20,30 --set seed=42,43 runs the six combinations one after another (the first key varies slowest), sharing every entry they have in common, and ends with the exp show table of those runs. Every point's settings are checked before the first runs; a point that fails at run time is reported and the others still run (exit status 1). Commas inside a YAML list or quotes do not split: train.model.layers=[...], name="a,b".
        """)

    @OptionGroup var locations: Locations

    @Option(
      help: ArgumentHelp(
        "Run only this stage (and any upstream stage missing from the cache): "
          + StageName.runnable.dropLast().joined(separator: ", ") + " or \(StageName.runnable.last!)."))
    var stage: String?

    @Flag(help: "Re-run the stage named by --stage (or every stage) even when its cache entry is fresh.")
    var force = false

    @Flag(help: "Show what would run, run nothing.")
    var dryRun = false

    @Option(name: .customLong("skip"), parsing: .singleValue,
            help: ArgumentHelp("Leave a stage out, e.g. evaluate (repeatable). Stages that others still need cannot be skipped.", valueName: "STAGE"))
    var skipped: [String] = []

    @Option(help: "Worker threads for the network's kernels (OpenBLAS runs on each worker's own thread). Results are bit-identical for a given machine, seed and thread count.")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Flag(name: .customLong("no-wait"), help: "Fail at once when another run is computing a cache entry this run needs (or the cache is being cleaned), instead of waiting.")
    var noWait = false

    @Flag(help: "Print what ran, what was cached and where the submission is as JSON (logs stay on standard error).")
    var json = false

    @OptionGroup var talk: Talk

    func validate() throws {
      guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
      let kernels = try failing { try ProcessSetup.prepareForNumericWork(log: ConsoleReporter.printError) }
      let reporter = ConsoleReporter(verbosity: talk.verbosity)
      let scratch = ScratchRegistry()
      Interruption.install(removing: scratch)
      Workers.setDefault(threads)
      let machine = MachineSummary.current(kernelChoice: kernels).lines
      if talk.verbose { machine.forEach { reporter.report(.info($0)) } }
      let points = try failing { try Sweep.points(locations.overrides) }
      // Every point is checked before the first one runs, so a typo costs nothing.
      let runners = try failing {
        try points.map { try locations.runner(overrides: $0, reporter: reporter, scratch: scratch, machine: machine) }
      }
      if runners.count == 1 {
        try runOne(runners[0], reporter: reporter)
      } else {
        try sweep(Array(zip(points, runners)), reporter: reporter)
      }
    }

    private func runOne(_ runner: Runner, reporter: ConsoleReporter) throws {
      let started = Date()
      let outcomes = try failing {
        try runner.run(target: stage, force: force, dryRun: dryRun, skipping: skipped, waitForLock: !noWait)
      }
      reporter.finishLine()
      let result = RunResult(outcomes: outcomes, output: locations.outputURL, dryRun: dryRun, seconds: Date().timeIntervalSince(started))
      if json {
        print(try readableJSON(result))
        return
      }
      print(Summary.table(outcomes, directories: talk.verbose))
      if dryRun { return }
      if let evaluated = outcomes.first(where: { $0.name == StageName.evaluate }),
        let figures = try? Evaluation(directory: evaluated.directory).readMetrics() {
        print(figures.summaryTable()[0])
      }
      if let submission = result.submission { print("submission: \(submission)") }
      print(String(format: "done in %.1fs", result.seconds))
    }

    /// The grid's points one after another; a failing point does not stop the rest.
    private func sweep(_ points: [(overrides: [String], runner: Runner)], reporter: ConsoleReporter) throws {
      let started = Date()
      // A point is named by the values that vary; what every point shares goes without saying.
      let shared = points.dropFirst().reduce(Set(points[0].overrides)) { $0.intersection($1.overrides) }
      var results: [RunResult] = []
      for (index, point) in points.enumerated() {
        let name = point.overrides.filter { !shared.contains($0) }
        reporter.report(.info("sweep \(index + 1)/\(points.count): \(name.joined(separator: " "))"))
        let pointStarted = Date()
        do {
          let outcomes = try point.runner.run(target: stage, force: force, dryRun: dryRun, skipping: skipped, waitForLock: !noWait)
          results.append(RunResult(
            outcomes: outcomes, output: locations.outputURL, dryRun: dryRun,
            seconds: Date().timeIntervalSince(pointStarted), set: name))
        } catch {
          reporter.finishLine()
          reporter.report(.warning("sweep \(index + 1)/\(points.count) (\(name.joined(separator: " "))) failed: \(error)"))
          results.append(RunResult(set: name, error: String(describing: error), seconds: Date().timeIntervalSince(pointStarted)))
        }
      }
      reporter.finishLine()

      if json {
        print(try readableJSON(results))
      } else {
        for result in results where result.error != nil {
          print("failed: \(result.set!.joined(separator: " ")): \(result.error!)")
        }
        if dryRun {
          for result in results where result.error == nil {
            print("\(result.set!.joined(separator: " ")): " + result.stages.filter { $0.action == "would run" }.map(\.stage).joined(separator: ", "))
          }
        } else {
          let evaluated = Set(results.compactMap(\.evaluation))
          let experiments = Experiments.runs(in: points[0].runner.cache, output: locations.outputURL).filter { evaluated.contains($0.id) }
          if !experiments.isEmpty { print(ExperimentTable(experiments).text()) }
          print(String(format: "%d runs in %.1fs", results.count, Date().timeIntervalSince(started)))
        }
      }
      if results.contains(where: { $0.error != nil }) { throw ExitCode.failure }
    }
  }
}
