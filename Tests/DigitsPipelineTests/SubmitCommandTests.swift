import DigitsPipeline
import Experiments
import Foundation
import Pipeline
import TestSupport
import Testing

/// `pipeline submit` with a stand-in for Kaggle's `kaggle` tool: a shell script on the PATH that
/// writes down its arguments and answers as kaggle does.
@Suite(.serialized) struct SubmitCommandTests {
  let folder: TemporaryFolder
  let pipelineFile: URL
  var output: URL { folder.url.appending(path: "out", directoryHint: .isDirectory) }
  var submission: String { output.appending(path: "submission.csv").path }
  /// Where the stand-in writes its arguments, one a line.
  var arguments: URL { folder.url.appending(path: "kaggle-arguments") }
  var log: URL { output.appending(path: "cache/\(SubmissionLog.fileName)") }

  init() throws {
    folder = try TemporaryFolder()
    pipelineFile = folder.url.appending(path: "quick.yaml")
    try CommandLineTests.quickPipeline.write(to: pipelineFile, atomically: true, encoding: .utf8)
  }

  /// Writes train.csv and test.csv into `name`/ and returns train.csv's path, for `--input`.
  /// `testRows`: the tiny dataset's 40 test rows over and over, as many as asked for.
  func dataset(_ name: String, testRows: Int) throws -> String {
    let directory = folder.url.appending(path: name, directoryHint: .isDirectory)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let tiny = TinyDataset(trainRows: 200, testRows: 40)
    let lines = tiny.testCSV.split(separator: "\n")
    let rows = lines.dropFirst()
    let test = ([lines[0]] + (0..<testRows).map { rows[rows.startIndex + $0 % rows.count] }).joined(separator: "\n") + "\n"
    try Data(tiny.trainCSV.utf8).write(to: directory.appending(path: "train.csv"))
    try Data(test.utf8).write(to: directory.appending(path: "test.csv"))
    return directory.appending(path: "train.csv").path
  }

  /// A folder holding a `kaggle` that records its arguments, prints what Kaggle's tool prints and
  /// exits with `status`.
  func standIn(status: Int32) throws -> URL {
    let bin = folder.url.appending(path: "bin-\(status)", directoryHint: .isDirectory)
    try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
    let script = bin.appending(path: "kaggle")
    let answer = status == 0 ? "Successfully submitted to Digit Recognizer" : "400 - Bad Request"
    try """
      #!/bin/sh
      for argument in "$@"; do printf '%s\\n' "$argument"; done > '\(arguments.path)'
      echo '100%|##########| 204k/204k [00:01<00:00, 180kB/s]' >&2
      echo '\(answer)'
      exit \(status)
      """.write(to: script, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
    return bin
  }

  /// `pipeline ARGUMENTS` with only `path` on the PATH (and the system's basics after it).
  func pipeline(_ arguments: [String], path: [URL] = []) throws -> (status: Int32, output: String, errors: String) {
    var environment = RunningPipeline.defaultEnvironment
    environment["PATH"] = (path.map(\.path) + ["/usr/bin", "/bin"]).joined(separator: ":")
    environment["DIGITS_CACHE"] = nil
    return try RunningPipeline(executable: ProcessTests.executable, arguments: arguments, environment: environment).finish(within: 120)
  }

  func run(input: String) throws -> (id: String, accuracy: Double) {
    let ran = try pipeline(["run", "--quiet", "--pipeline", pipelineFile.path, "--input", input, "--output", output.path])
    #expect(ran.status == 0, "\(ran.errors)")
    let runs = try #require(try JSONSerialization.jsonObject(with: Data(exp(["--json"]).output.utf8)) as? [[String: Any]])
    return (try #require(runs.last?["id"] as? String), try #require(runs.last?["accuracy"] as? Double))
  }

  func exp(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
    try pipeline(["exp", "show", "--output", output.path] + arguments)
  }

  func recordedArguments() throws -> [String] {
    try String(contentsOf: arguments, encoding: .utf8).split(separator: "\n").map(String.init)
  }

  /// Without kaggle it says how to get it and prints the exact upload; a failed upload records
  /// nothing; an accepted one is recorded, and exp show dates it; a run's id submits that run's
  /// own file from the cache.
  @Test func submit_runsKaggleWithTheRunsNameAndRecordsIt() throws {
    let (id, accuracy) = try run(input: try dataset("kaggle-sized", testRows: Submission.kaggleRows))
    let message = "digits: quick run \(id), validation \(String(format: "%.2f", accuracy * 100))% (40 rows)"
    let command = "kaggle competitions submit -c digit-recognizer -f \(submission) -m '\(message)'"

    let dry = try pipeline(["submit", "--dry-run", "--output", output.path], path: [folder.url])
    #expect(dry.status == 0 && dry.output == command + "\n", "\(dry.errors)")

    let missing = try pipeline(["submit", "--output", output.path], path: [folder.url])
    #expect(missing.status == 1)
    #expect(missing.errors.hasPrefix("error: kaggle, Kaggle's command line tool, is not on the PATH"), "\(missing.errors)")
    #expect(missing.errors.contains("\n  apt-get install pipx && pipx install kaggle && pipx ensurepath "))
    #expect(missing.errors.contains("~/.kaggle/kaggle.json") && missing.errors.contains("KAGGLE_USERNAME and KAGGLE_KEY"))
    #expect(missing.errors.contains("\n  \(command)\n"), "\(missing.errors)")

    let refused = try pipeline(["submit", "--output", output.path], path: [try standIn(status: 1)])
    #expect(refused.status == 1)
    #expect(refused.errors.contains("400 - Bad Request") && refused.errors.contains("100%|"))
    #expect(refused.errors.hasSuffix("error: kaggle exited with status 1; nothing recorded\n"), "\(refused.errors)")
    #expect(!FileManager.default.fileExists(atPath: log.path))

    let accepting = try standIn(status: 0)
    let submitted = try pipeline(["submit", "--output", output.path], path: [accepting])
    #expect(submitted.status == 0, "\(submitted.errors)")
    #expect(try recordedArguments() == ["competitions", "submit", "-c", "digit-recognizer", "-f", submission, "-m", message])
    #expect(submitted.output.hasPrefix("Successfully submitted to Digit Recognizer\nrecorded in "), "\(submitted.output)")
    #expect(submitted.errors.hasPrefix(command + "\n"), "\(submitted.errors)")

    let runs = try #require(try JSONSerialization.jsonObject(with: Data(exp(["--json"]).output.utf8)) as? [[String: Any]])
    let records = try #require(runs.last?["kaggle"] as? [[String: Any]])
    #expect(records.map { $0["message"] as? String } == [message])
    #expect(records.first?["kaggle"] as? String == "Successfully submitted to Digit Recognizer")
    #expect(records.first?["competition"] as? String == "digit-recognizer")
    let when = ExperimentFormat.date(try Date(try #require(records.first?["submitted"] as? String), strategy: .iso8601))
    let table = try exp([]).output.split(separator: "\n")
    #expect(table.first?.hasSuffix("submission  kaggle") == true, "\(table)")
    #expect(table.last?.hasPrefix(id) == true && table.last?.hasSuffix("current     \(when)") == true, "\(table)")
    #expect(try exp([id]).output.contains("\nsubmitted to Kaggle \(when): \(message) (kaggle: Successfully submitted to Digit Recognizer)\n"))

    // By id, with a message of one's own: the file in the run's predict entry.
    let again = try pipeline(["submit", id, "--message", "it's the same run", "--output", output.path], path: [accepting])
    #expect(again.status == 0, "\(again.errors)")
    let file = try recordedArguments()[5]
    #expect(file.hasPrefix(output.appending(path: "cache/predict/").path) && file.hasSuffix("/submission.csv"), "\(file)")
    #expect(try recordedArguments()[7] == "it's the same run")
    #expect(try exp([]).output.split(separator: "\n").last?.hasSuffix("(2×)") == true)
    #expect(try String(contentsOf: log, encoding: .utf8).split(separator: "\n").count == 2)
  }

  /// A run on another test set than Kaggle's makes a submission Kaggle would refuse: refused
  /// here first, in one line naming the file and line, and kaggle never runs.
  @Test func submit_refusesAMalformedSubmissionBeforeKaggleRuns() throws {
    _ = try run(input: try dataset("tiny", testRows: 10))
    let refused = try pipeline(["submit", "--output", output.path], path: [try standIn(status: 0)])
    #expect(refused.status == 1)
    #expect(refused.errors == "error: \(submission):12: the file ends after 10 rows, expected 28000 (ImageId 1 to 28000)\n")
    #expect(!FileManager.default.fileExists(atPath: arguments.path))
    #expect(!FileManager.default.fileExists(atPath: log.path))
  }

  /// A submission.csv that no run in the cache wrote is not submitted under some run's name.
  @Test func submit_refusesAFileNoRunWrote() throws {
    _ = try run(input: try dataset("tiny", testRows: 10))
    try Data("ImageId,Label\n1,3\n".utf8).write(to: URL(filePath: submission))
    let refused = try pipeline(["submit", "--output", output.path], path: [try standIn(status: 0)])
    #expect(refused.status == 1)
    #expect(refused.errors.hasPrefix("error: \(submission) is no run's submission in "), "\(refused.errors)")
    #expect(!FileManager.default.fileExists(atPath: arguments.path))
  }
}
