import ArgumentParser
import DigitsPipeline
import Foundation
import Machine
import Pipeline
import Tensor

@main
struct PipelineCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pipeline",
    abstract: "Kaggle Digit Recognizer, end to end: zip in, submission.csv out, every stage cached.",
    discussion: """
      Stages: unpack → parse → split → normalise → train → evaluate, predict.

      Each stage's artifacts live in OUTPUT/cache/<stage>/<fingerprint>/. The fingerprint covers the stage's code version, its parameters and its inputs; a stage whose fingerprint has a complete cache entry is skipped.

      Examples:
        pipeline run                                    # the default pipeline, end to end
        pipeline run --pipeline pipelines/seed.yaml     # the original 784-10-10 network
        pipeline run --stage train --force              # retrain from the cached inputs
        pipeline run --set train.epochs=3 --dry-run     # what a change would re-run
        pipeline run --set train.epochs=10,20 --set seed=42,43   # a sweep: four runs, then their table
        pipeline run --model input/pretrained.npz --skip evaluate   # no training, no evaluation
        pipeline status                                 # fresh / stale / missing per stage, and why
        pipeline exp show --sort accuracy               # every run in the cache, best first
        pipeline exp diff 1a2b 3c4d                     # two runs' parameters and figures side by side
        pipeline submit                                 # output/submission.csv to Kaggle, recorded for exp show
        pipeline doctor                                 # CPU, OpenBLAS kernels, threads, versions
      """,
    version: "digits \(DigitsPipeline.version)",
    subcommands: [Run.self, Status.self, Dag.self, Experiments.self, Submit.self, Gc.self, Demo.self, Doctor.self, Clean.self],
    defaultSubcommand: Run.self)
}

/// Where the pipeline reads and writes; shared by the subcommands.
struct Locations: ParsableArguments {
  @Option(name: .long, help: "The pipeline file (YAML).")
  var pipeline = "pipelines/default.yaml"

  @Option(name: .long, help: "The competition's zip (train.csv and test.csv inside).")
  var input = "input/digit-recognizer.zip"

  @Option(name: .long, help: "The output folder: cache/ and submission.csv go here.")
  var output = "output"

  @Option(help: ArgumentHelp("The cache, which several output folders or machines may share (default: $\(CacheOption.variable), else OUTPUT/cache).", valueName: "DIR"))
  var cache: String?

  @Option(name: .customLong("set"), parsing: .singleValue,
          help: ArgumentHelp("Override a pipeline-file value for this run, e.g. train.epochs=3 (repeatable). For run, values with commas make a sweep: train.epochs=10,20,30.", valueName: "KEY=VALUE"))
  var overrides: [String] = []

  @Option(help: ArgumentHelp("Use this model file (.npz, as the train stage writes) instead of training.", valueName: "FILE"))
  var model: String?

  var outputURL: URL { URL(filePath: output, directoryHint: .isDirectory) }

  /// `machine`: what this process computes on, for the manifests of the entries it makes.
  /// The runner for one point: `overrides` is the `--set` list itself unless a sweep gives one
  /// point of it. A sweep where one run is meant is an error that says so.
  func runner(
    overrides point: [String]? = nil, reporter: any Reporter, scratch: ScratchRegistry = ScratchRegistry(),
    machine: [String]? = nil
  ) throws -> Runner {
    if point == nil, try Sweep.points(overrides).count > 1 {
      throw PipelineError("--set with several values (a sweep) is for pipeline run; this command takes one value per key")
    }
    let configuration = try DigitsPipeline.loadConfiguration(from: URL(filePath: pipeline), overrides: point ?? overrides)
    let graph = try DigitsPipeline.graph(
      configuration: configuration, input: URL(filePath: input), inputDescription: input,
      pretrainedModel: model.map { URL(filePath: $0) }, pipelineFile: pipeline)
    return Runner(
      graph: graph, outputDirectory: outputURL, reporter: reporter, scratch: scratch, machine: machine,
      pipelineName: configuration.name, cache: try CacheOption.store(cache, output: outputURL))
  }
}

/// Where the cache is: `--cache DIR`, else `$DIGITS_CACHE`, else the output folder's own.
enum CacheOption {
  static let variable = "DIGITS_CACHE"

  /// The output folder itself cannot be the cache: its lock would be the cache's, and clean
  /// would delete its published files.
  static func store(_ option: String?, output: URL) throws -> CacheStore {
    let directory = option ?? ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 }
    guard let directory else { return CacheStore(outputDirectory: output) }
    let root = URL(filePath: directory, directoryHint: .isDirectory)
    guard root.standardizedFileURL.path != output.standardizedFileURL.path else {
      throw PipelineError("\(directory): the cache cannot be the output folder itself; use a folder of its own (the default is OUTPUT/cache)")
    }
    return CacheStore(root: root)
  }
}

/// How much a command says on standard error while it works.
struct Talk: ParsableArguments {
  @Flag(name: .shortAndLong, help: "Print only warnings and errors while working (results still go to standard output).")
  var quiet = false

  @Flag(name: .shortAndLong, help: "Also print the machine computed on, and each stage's cache entry.")
  var verbose = false

  func validate() throws {
    if quiet && verbose { throw ValidationError("--quiet and --verbose exclude each other") }
  }

  var verbosity: ConsoleReporter.Verbosity { quiet ? .quiet : verbose ? .verbose : .normal }
}

/// Prints a one-line error and exits non-zero, for the errors a user can act on.
func failing<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as ExitCode {
    throw error
  } catch {
    ConsoleReporter.printError("error: \(error)")
    throw ExitCode.failure
  }
}

extension PipelineCommand {
  struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show each stage's fingerprint and whether its cache entry is fresh, stale or missing.")

    @OptionGroup var locations: Locations

    @Flag(help: "Exit with status 1 when any stage would run (as make -q), 0 when everything is fresh.")
    var exitCode = false

    @Flag(help: "Print JSON: each stage's state, fingerprint, inputs and what changed.")
    var json = false

    func run() throws {
      let planned = try failing { try locations.runner(reporter: ConsoleReporter()).plan() }
      print(json ? try Summary.statusJSON(planned) : Summary.statusTable(planned))
      if exitCode && planned.contains(where: { $0.state != .fresh }) { throw ExitCode.failure }
    }
  }

  struct Dag: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print the stage graph: each stage with the stages it reads, and its cache state.")

    @OptionGroup var locations: Locations

    @Flag(help: "Print a Mermaid flowchart instead (for Markdown renderers).")
    var mermaid = false

    @Flag(help: "Print JSON: each stage with the stages it reads and its cache state.")
    var json = false

    func validate() throws {
      if json && mermaid { throw ValidationError("--json and --mermaid exclude each other") }
    }

    func run() throws {
      let runner = try failing { try locations.runner(reporter: ConsoleReporter()) }
      if mermaid {
        print(runner.graph.mermaid())
        return
      }
      let states = (try? runner.plan())?.reduce(into: [String: StageState]()) { $0[$1.name] = $1.state } ?? [:]
      print(json ? try Summary.graphJSON(runner.graph, states: states) : runner.graph.textDiagram(states: states))
    }
  }

  struct Clean: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Delete the cache (OUTPUT/cache, or --cache). Published files such as submission.csv stay.")

    @Option(help: "The output folder whose cache to delete.")
    var output = "output"

    @Option(help: ArgumentHelp("The cache to delete instead (default: $\(CacheOption.variable), else OUTPUT/cache).", valueName: "DIR"))
    var cache: String?

    func run() throws {
      try failing {
        let store = try CacheOption.store(cache, output: URL(filePath: output, directoryHint: .isDirectory))
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: store.root.path)) ?? []
        guard contents.contains(where: { $0 != ".lock" }) else {
          print("nothing to clean in \(store.root.relativePath)")
          return
        }
        let usage = try store.usageLock()
        guard try usage.lock(.exclusive, wait: false) else {
          throw PipelineError("\(store.root.path): a run is using this cache")
        }
        try withExtendedLifetime(usage) {
          // Everything but the lock file itself: a run waiting on it holds it open, and would
          // otherwise get its lock on a file no later run or clean could see.
          for name in try FileManager.default.contentsOfDirectory(atPath: store.root.path) where name != usage.name {
            try FileManager.default.removeItem(at: store.root.appending(path: name))
          }
          print("removed \(store.root.relativePath)")
        }
      }
    }
  }
}
