import Foundation
import Pipeline
import TestSupport
import Testing
@testable import DigitsPipeline

/// The `pipeline` executable as scripts use it: results on standard output (tables, JSON), the
/// log on standard error, exit statuses that mean something.
@Suite(.serialized) struct CommandLineTests {
  let folder: TemporaryFolder
  let zip: URL
  let pipelineFile: URL
  var output: URL { folder.url.appending(path: "out", directoryHint: .isDirectory) }

  static let quickPipeline = """
    name: quick
    seed: 1
    normalise: {scaling: unit}
    split: {validation_rows: 40}
    train:
      model: {init: he, layers: [{dense: 16}, relu, {dense: 10}]}
      optimizer: {kind: adam, learning_rate: 0.01}
      epochs: 3
      batch_size: 32
    """

  init() throws {
    folder = try TemporaryFolder()
    let dataset = TinyDataset(trainRows: 200, testRows: 10)
    zip = folder.url.appending(path: "digits.zip")
    try writeZip(["train.csv": Data(dataset.trainCSV.utf8), "test.csv": Data(dataset.testCSV.utf8)], to: zip)
    pipelineFile = folder.url.appending(path: "quick.yaml")
    try Self.quickPipeline.write(to: pipelineFile, atomically: true, encoding: .utf8)
  }

  /// Runs `pipeline COMMAND` on the test's files and returns what it printed where.
  func pipeline(_ command: String, _ arguments: [String] = [], locations: Bool = true) throws -> (status: Int32, output: String, errors: String) {
    let files = ["--pipeline", pipelineFile.path, "--input", zip.path]
    let all = [command] + (locations ? files + ["--output", output.path] : []) + arguments
    return try RunningPipeline(executable: ProcessTests.executable, arguments: all.filter { !$0.isEmpty }).finish(within: 120)
  }

  func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

  @Test func version_printsTheProjectsVersion() throws {
    let (status, printed, _) = try pipeline("--version", locations: false)
    #expect(status == 0)
    #expect(printed == "digits \(DigitsPipeline.version)\n")
  }

  /// `run --json` prints only JSON on standard output; the log goes to standard error, and
  /// neither has a terminal escape when they are not a terminal.
  @Test func runJSON_saysWhatRanAndWhereTheSubmissionIs() throws {
    let first = try pipeline("run", ["--json"])
    #expect(first.status == 0, "\(first.errors)")
    let result = try #require(try json(first.output) as? [String: Any])
    let stages = try #require(result["stages"] as? [[String: Any]])
    #expect(stages.map { $0["stage"] as? String } == ["unpack", "parse", "split", "normalise", "train", "evaluate", "predict", "report"])
    #expect(stages.allSatisfy { $0["action"] as? String == "ran" })
    let submission = try #require(result["submission"] as? String)
    #expect(FileManager.default.fileExists(atPath: submission))
    #expect(first.errors.contains("[train] running: not in the cache"))
    #expect(!first.output.contains("\u{1B}") && !first.errors.contains("\u{1B}"))

    let second = try pipeline("run", ["--json", "--quiet"])
    #expect(second.errors.isEmpty)
    let cached = try #require(try json(second.output) as? [String: Any])
    #expect((cached["stages"] as? [[String: Any]])?.allSatisfy { $0["action"] as? String == "cached" } == true)
  }

  @Test func run_printsTheSummaryAndTheValidationFigureOnStandardOutput() throws {
    let (status, printed, errors) = try pipeline("run")
    #expect(status == 0, "\(errors)")
    #expect(printed.contains("train      ran"))
    #expect(printed.contains("validation: 40 rows, accuracy "))
    #expect(!printed.contains("[train]"))
  }

  /// `status --exit-code` is `make -q`: 0 when nothing would run, 1 otherwise; and a stale stage
  /// says why.
  @Test func status_exitCodeAndWhy() throws {
    #expect(try pipeline("status", ["--exit-code"]).status == 1)  // an empty cache
    #expect(try pipeline("run", ["--quiet"]).status == 0)
    #expect(try pipeline("status", ["--exit-code"]).status == 0)
    let stale = try pipeline("status", ["--exit-code", "--set", "train.epochs=2"])
    #expect(stale.status == 1)
    let train = stale.output.split(separator: "\n").first { $0.hasPrefix("train ") }
    #expect(train?.contains("stale") == true && train?.hasSuffix("epochs 3 → 2") == true, "\(stale.output)")
    let states = try #require(try json(pipeline("status", ["--json", "--set", "train.epochs=2"]).output) as? [[String: Any]])
    #expect(states.first { $0["stage"] as? String == "train" }?["changes"] as? [String] == ["epochs 3 → 2"])
    let graph = try #require(try json(pipeline("dag", ["--json"]).output) as? [[String: Any]])
    #expect(graph.first { $0["stage"] as? String == "evaluate" }?["inputs"] as? [String] == ["parse", "normalise", "split", "train"])
  }

  /// What a user can write that cannot work ends in one `error:` line and status 1, before
  /// anything runs: no trap, no backtrace.
  @Test(arguments: [
    ("train.optimizer.learning_rate=.nan", "train.optimizer.learning_rate: .nan is not a finite number"),
    ("train.model.layers.0.dense=100000000", "train.model: training it needs about"),
    ("train.model.input_shape=[4294967296, 4294967296, 1]", "has too many scalars to count"),
  ])
  func impossibleSetting_isOneErrorLine_andStatus1(override: String, message: String) throws {
    for command in ["status", "run"] {
      let (status, printed, errors) = try pipeline(command, ["--set", override] + (command == "run" ? ["--dry-run"] : []))
      #expect(status == 1)
      #expect(printed.isEmpty)
      let lines = errors.split(separator: "\n")
      #expect(lines.count == 1 && lines[0].hasPrefix("error: \(pipelineFile.path)") && lines[0].contains(message), "\(errors)")
      #expect(!FileManager.default.fileExists(atPath: output.path))
    }
  }

  @Test func exp_showsComparesAndRefusesAnUnknownRun() throws {
    let first = try #require(try json(pipeline("run", ["--json", "--quiet"]).output) as? [String: Any])
    let second = try #require(try json(pipeline("run", ["--json", "--quiet", "--set", "train.epochs=2"]).output) as? [String: Any])
    func evaluateID(_ result: [String: Any]) -> String? {
      ((result["stages"] as? [[String: Any]])?.first { $0["stage"] as? String == "evaluate" }?["fingerprint"] as? String).map { String($0.prefix(12)) }
    }
    let (a, b) = (try #require(evaluateID(first)), try #require(evaluateID(second)))
    let source = ["--output", output.path]

    let table = try pipeline("exp", ["show"] + source, locations: false)
    #expect(table.status == 0, "\(table.errors)")
    let lines = table.output.split(separator: "\n")
    #expect(lines.count == 3 && lines[0].contains("train.epochs"), "\(table.output)")
    #expect(lines[1].hasPrefix(a) && lines[2].hasPrefix(b) && lines[2].hasSuffix("current"))

    let filtered = try #require(try json(pipeline("exp", ["show", "--json", "--where", "train.epochs=2"] + source, locations: false).output) as? [[String: Any]])
    #expect(filtered.map { $0["id"] as? String } == [b])

    let diff = try pipeline("exp", ["diff", a, b] + source, locations: false)
    #expect(diff.output.contains("train.epochs  3"), "\(diff.output)")
    #expect(try pipeline("exp", ["show", String(b.prefix(6))] + source, locations: false).output.hasPrefix("run \(b), pipeline quick"))

    let unknown = try pipeline("exp", ["show", "ffffffff"] + source, locations: false)
    #expect(unknown.status == 1)
    #expect(unknown.errors.split(separator: "\n").count == 1 && unknown.errors.hasPrefix("error: no run"))
  }

  /// A sweep runs every point under one lock, reports the one that fails and still runs the
  /// others, ends with their table and exits 1; other commands refuse a sweep.
  @Test func sweep_runsTheGridAndSurvivesAFailingPoint() throws {
    // 100,000 validation rows pass the settings check but not the split of a 200-row dataset.
    let (status, printed, errors) = try pipeline("run", ["--set", "split.validation_rows=40,100000", "--set", "train.epochs=1,2"])
    #expect(status == 1)
    #expect(errors.contains("sweep 1/4: split.validation_rows=40 train.epochs=1"))
    #expect(errors.contains("warning: sweep 3/4 (split.validation_rows=100000 train.epochs=1) failed: "))
    let lines = printed.split(separator: "\n")
    #expect(lines.filter { $0.hasPrefix("failed: split.validation_rows=100000 train.epochs=") }.count == 2, "\(printed)")
    let header = try #require(lines.first { $0.hasPrefix("id ") })
    #expect(header.contains("train.epochs") && !header.contains("split.validation_rows"))
    #expect(lines.filter { $0.contains(" quick ") }.count == 2)
    #expect(lines.last?.hasPrefix("4 runs in ") == true)

    let refused = try pipeline("status", ["--set", "train.epochs=1,2"])
    #expect(refused.status == 1)
    #expect(refused.errors.hasPrefix("error: --set with several values (a sweep) is for pipeline run"))
  }

  /// Every point's settings are checked before any runs: a bad one costs nothing.
  @Test func sweep_withAnImpossiblePoint_runsNothing() throws {
    let (status, _, errors) = try pipeline("run", ["--set", "train.epochs=1,0"])
    #expect(status == 1)
    #expect(errors.split(separator: "\n").count == 1 && errors.hasPrefix("error: "), "\(errors)")
    #expect(!FileManager.default.fileExists(atPath: output.appending(path: "cache").path))
  }

  /// gc --dry-run lists and removes nothing; gc leaves an entry a run uses.
  @Test func gc_dryRunListsAndGcLeavesWhatARunUses() throws {
    #expect(try pipeline("run", ["--quiet", "--set", "train.epochs=2"]).status == 0)
    #expect(try pipeline("run", ["--quiet"]).status == 0)
    let gc = [pipelineFile.path, "--input", zip.path, "--output", output.path, "--keep-last", "0"]
    let dry = try pipeline("gc", gc + ["--dry-run"], locations: false)
    #expect(dry.status == 0, "\(dry.errors)")
    #expect(dry.output.contains("would remove 4 entries"), "\(dry.output)")
    func runCount() throws -> Int {
      try #require(try json(pipeline("exp", ["show", "--json", "--output", output.path], locations: false).output) as? [Any]).count
    }
    #expect(try runCount() == 2)

    // What the epochs=2 run trained, held as a running pipeline holds what it uses.
    let cache = CacheStore(outputDirectory: output)
    let trained = try #require(cache.manifests(stage: "train").first { ParameterPaths.flatten($0.parameters)["epochs"] == "2" })
    do {
      let lock = try cache.entryLock(stage: "train", fingerprint: trained.fingerprint)
      try lock.lock(.shared, wait: false)
      let left = try pipeline("gc", gc, locations: false)
      #expect(left.output.contains("removed 3 entries"), "\(left.output)")
      #expect(left.output.contains("left 1 (") && left.output.contains("that a running pipeline uses: train \(trained.fingerprint.short)"))
      withExtendedLifetime(lock) {}
    }
    let done = try pipeline("gc", gc, locations: false)
    #expect(done.output.contains("removed 1 entries"), "\(done.output)")
    #expect(try runCount() == 1)
  }

  /// On a terminal the training line redraws in place (escapes); with TERM=dumb it does not.
  /// util-linux's `script` gives the run a terminal.
  @Test(arguments: [("xterm", true), ("dumb", false)])
  func terminal_getsEscapesUnlessItIsDumb(term: String, escapes: Bool) throws {
    let command = (["'\(ProcessTests.executable.path)'", "run", "--pipeline", "'\(pipelineFile.path)'", "--input", "'\(zip.path)'",
                    "--output", "'\(output.path)'", "--set", "train.epochs=20"]).joined(separator: " ")
    let run = try RunningPipeline(
      executable: URL(filePath: "/usr/bin/script"), arguments: ["-qec", command, "/dev/null"],
      environment: RunningPipeline.defaultEnvironment.merging(["TERM": term]) { $1 })
    let (status, printed, _) = try run.finish(within: 120)
    #expect(status == 0, "\(printed)")
    #expect(printed.contains("[train] done"))
    #expect(printed.contains("\u{1B}[2K") == escapes)
  }
}
