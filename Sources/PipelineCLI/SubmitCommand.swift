import ArgumentParser
import DigitsPipeline
import Experiments
import Foundation
import Pipeline
import Report

extension PipelineCommand {
  /// `pipeline submit`: a run's submission.csv to Kaggle, through Kaggle's own command line tool,
  /// recorded in the cache so that `exp show` says which runs were submitted.
  struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Upload the output folder's submission.csv to Kaggle, named for its run, and record it for exp show.",
      discussion: """
        Runs Kaggle's command line tool (pip package kaggle), which reads its API token from ~/.kaggle/kaggle.json or KAGGLE_USERNAME and KAGGLE_KEY:
          kaggle competitions submit -c \(Submission.competition) -f OUTPUT/submission.csv -m MESSAGE
        The run submitted is the one whose submission OUTPUT/submission.csv is (the run exp show marks current); a file no run in the cache wrote is refused. With a run's id, that run's own submission.csv in the cache goes instead. The file's format is checked first: the header \(Submission.header), then exactly \(Submission.kaggleRows) rows, ImageId 1, 2, 3, … in order, each label a digit.

        Once kaggle accepts the file, the submission is recorded in CACHE/\(SubmissionLog.fileName) (the cache's, so every output folder sharing it sees it): exp show dates it in its kaggle column, exp show ID lists each with its message. A failed upload records nothing.
        """)

    @Option(help: "The output folder whose submission.csv to upload.")
    var output = "output"

    @Option(help: ArgumentHelp("The cache its runs are in (default: $\(CacheOption.variable), else OUTPUT/cache).", valueName: "DIR"))
    var cache: String?

    @Argument(help: "A run's id (exp show lists them): upload that run's submission from the cache instead.")
    var id: String?

    @Option(name: .shortAndLong, help: "The submission's description on Kaggle (default: the pipeline, the run's id and its validation accuracy).")
    var message: String?

    @Flag(help: "Check the file and print the kaggle command; upload nothing.")
    var dryRun = false

    func run() throws {
      let folder = URL(filePath: output, directoryHint: .isDirectory)
      let store = try failing { try CacheOption.store(cache, output: folder) }
      let (run, file, predict) = try failing { try chosenSubmission(in: store, output: folder) }
      let bytes = try failing { try Data(contentsOf: file) }
      _ = try failing { try Submission.labels(in: bytes, file: file.relativePath, rows: Submission.kaggleRows) }
      let message = message ?? Self.message(for: run)
      let arguments = ["competitions", "submit", "-c", Submission.competition, "-f", file.relativePath, "-m", message]
      let commandLine = (["kaggle"] + arguments).map(shellQuoted).joined(separator: " ")
      if dryRun {
        print(commandLine)
        return
      }
      guard let kaggle = Self.onPath("kaggle") else {
        ConsoleReporter.printError(Self.installation(then: commandLine))
        throw ExitCode.failure
      }

      // Held shared, as a run holds it, so that `clean` does not remove the cache (and the log
      // this appends to) in the middle.
      let usage = try failing { try store.usageLock() }
      _ = try failing { try usage.lock(.shared, wait: true) }
      ConsoleReporter.printError(commandLine)
      let (status, printed) = try failing { try Self.execute(kaggle, arguments) }
      guard status == 0 else {
        // Kaggle's tool prints its errors (401 - Unauthorized, …) on standard output.
        FileHandle.standardError.write(printed)
        ConsoleReporter.printError("error: kaggle exited with status \(status); nothing recorded")
        throw ExitCode.failure
      }
      FileHandle.standardOutput.write(printed)
      let verdict = String(decoding: printed, as: UTF8.self).split(whereSeparator: \.isNewline)
        .map { $0.trimmingCharacters(in: .whitespaces) }.last { !$0.isEmpty } ?? ""
      let record = KaggleSubmission(
        submitted: Date(), competition: Submission.competition, run: run.id, predict: predict,
        sha256: Fingerprint.of(bytes: bytes), message: message, kaggle: verdict)
      try failing { try SubmissionLog.append(record, to: store) }
      withExtendedLifetime(usage) {}
      print("recorded in \(SubmissionLog.url(in: store).relativePath): run \(run.id.short) submitted to Kaggle")
    }

    /// The run to submit, its submission file and the predict entry that wrote it.
    private func chosenSubmission(in store: CacheStore, output folder: URL) throws -> (Experiment, URL, Fingerprint) {
      let experiments = Experiments.runs(in: store, output: folder)
      func predictions(of run: Experiment) -> [Manifest] {
        run.outputs.filter { $0.stage == StageName.predict }
          .compactMap { store.manifest(stage: $0.stage, fingerprint: $0.fingerprint) }
          .sorted { $0.created < $1.created }
      }
      if let id {
        let run = try ExperimentLog.find(id, in: experiments)
        guard let newest = predictions(of: run).last(where: { $0.files.contains { $0.name == Predictions.submissionFileName } }) else {
          throw PipelineError("run \(run.id.short) has no prediction in \(store.root.relativePath): pipeline run without --skip predict makes one")
        }
        let file = Predictions(directory: store.entryDirectory(stage: StageName.predict, fingerprint: newest.fingerprint)).submission
        return (run, file, newest.fingerprint)
      }
      let file = folder.appending(path: PredictStage.publishedSubmission)
      guard FileManager.default.fileExists(atPath: file.path) else {
        throw PipelineError("\(file.relativePath): no such file: pipeline run writes it (pipeline submit ID submits a run from the cache)")
      }
      let hash = try Fingerprint.of(fileAt: file)
      guard let run = experiments.last(where: \.isCurrentSubmission),
        let predict = predictions(of: run).last(where: { $0.files.contains { $0.name == Predictions.submissionFileName && $0.sha256 == hash } })
      else {
        throw PipelineError("\(file.relativePath) is no run's submission in \(store.root.relativePath) (edited, or its run removed from the cache): "
          + "pipeline run writes it again, or pipeline submit ID submits a run from the cache")
      }
      return (run, file, predict.fingerprint)
    }

    /// `digits: default run 1a2b3c4d5e6f, validation 99.57% (4200 rows)` (`out-of-fold …` with folds).
    static func message(for run: Experiment) -> String {
      // Cross-validation's figure is out of fold, over every labelled row.
      let validation = run.metrics.map { metrics in
        "\(metrics.foldAccuracies == nil ? "validation" : "out-of-fold") \(Format.percent(metrics.accuracy)) (\(metrics.rows) rows)"
      } ?? "validation unknown"
      return "digits: \(run.pipeline ?? "?") run \(run.id.short), \(validation)"
    }

    /// What to do without Kaggle's tool: every command, the last one the upload itself.
    static func installation(then submit: String) -> String {
      """
      error: kaggle, Kaggle's command line tool, is not on the PATH. To install it and submit:
        apt-get install pipx && pipx install kaggle && pipx ensurepath   # Debian 12, whose pip refuses system-wide installs; elsewhere: pip install kaggle
        mkdir -p ~/.kaggle && mv ~/Downloads/kaggle.json ~/.kaggle/ && chmod 600 ~/.kaggle/kaggle.json   # your API token: kaggle.com, Settings, API, Create New Token (or export KAGGLE_USERNAME and KAGGLE_KEY)
        \(submit)
      Accept the competition's rules first: https://www.kaggle.com/competitions/\(Submission.competition)/rules. Once kaggle is on the PATH, pipeline submit runs that last command itself and records the submission for exp show.
      """
    }

    /// The first executable `name` in the PATH's folders (an empty one is the current folder, as
    /// for the shell).
    static func onPath(_ name: String) -> URL? {
      let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":", omittingEmptySubsequences: false)
      return folders.lazy.map { URL(filePath: $0.isEmpty ? "." : String($0)).appending(path: name) }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs `executable` with the terminal's standard input and error (its progress and prompts
    /// show as they come) and returns its exit status and standard output.
    static func execute(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, output: Data) {
      let process = Process()
      process.executableURL = executable
      process.arguments = arguments
      let output = Pipe()
      process.standardOutput = output
      try process.run()
      let printed = output.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      return (process.terminationStatus, printed)
    }
  }
}

/// `text` as a POSIX shell reads it back: bare when it is plain, otherwise in single quotes.
func shellQuoted(_ text: String) -> String {
  let plain = !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
    scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "-_./=:,+@%".unicodeScalars.contains(scalar))
  }
  return plain ? text : "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
}
