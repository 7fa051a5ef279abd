import ArgumentParser
import DigitsPipeline
import Experiments
import Foundation
import Pipeline
import Report

extension PipelineCommand {
  struct Gc: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Remove the cache entries that no pipeline file and none of the last runs need.",
      discussion: """
        Kept: every entry the given pipeline files (default: each file in pipelines/) would use on --input, the last --keep-last runs (as exp show lists them) and the run whose submission is the output folder's, each with every entry it was made from and the predictions and reports made only from kept entries. Everything else goes, with the temporary folders of killed runs. An entry a running pipeline builds or uses is left, and said so.
        """)

    @Argument(help: "Pipeline files whose entries to keep (default: every .yaml file in pipelines/).")
    var pipelines: [String] = []

    @Option(help: "The competition's zip the pipeline files run on.")
    var input = "input/digit-recognizer.zip"

    @Option(help: "The output folder whose cache to collect (its submission's run is kept).")
    var output = "output"

    @Option(help: ArgumentHelp("The cache to collect instead (default: $\(CacheOption.variable), else OUTPUT/cache).", valueName: "DIR"))
    var cache: String?

    @Option(help: "Keep the newest N runs and what they were made from.")
    var keepLast = 10

    @Flag(help: "List what would be removed and the space it would free; remove nothing.")
    var dryRun = false

    func validate() throws {
      guard keepLast >= 0 else { throw ValidationError("--keep-last must be 0 or more") }
    }

    func run() throws {
      let folder = URL(filePath: output, directoryHint: .isDirectory)
      try failing {
        let store = try CacheOption.store(cache, output: folder)
        // Held as a run holds it, so clean does not delete the cache (and its locks) meanwhile.
        let usage = try store.usageLock()
        try usage.lock(.shared, wait: true)
        defer { withExtendedLifetime(usage) {} }
        let collection = try CacheCollection(
          cache: store, outputDirectory: folder, pipelineFiles: try pipelineFiles().map { URL(filePath: $0) },
          input: URL(filePath: input), keepLast: keepLast)
        var removed: [Manifest] = []
        var inUse: [Manifest] = []
        for entry in collection.removing {
          // A dry run takes no lock, so it cannot make a run started with --no-wait fail.
          if try dryRun || store.removeUnlessInUse(entry.id) { removed.append(entry) } else { inUse.append(entry) }
        }
        print(report(removing: removed, keeping: collection.keeping, inUse: inUse))
        if !dryRun {
          for leftover in store.removeLeftovers() { print("removed \(leftover.path), left by an interrupted run") }
        }
      }
    }

    private func pipelineFiles() throws -> [String] {
      guard pipelines.isEmpty else { return pipelines }
      let names = try FileManager.default.contentsOfDirectory(atPath: "pipelines").filter { $0.hasSuffix(".yaml") }.sorted()
      return names.map { "pipelines/\($0)" }
    }

    private func report(removing: [Manifest], keeping: [Manifest], inUse: [Manifest]) -> String {
      func size(_ entries: [Manifest]) -> String { Format.bytes(entries.reduce(0) { $0 + $1.bytes }) }
      var lines: [String] = []
      if !removing.isEmpty {
        lines.append(Format.alignedColumns([["stage", "fingerprint", "created", "pipeline", "size"]] + removing.map {
          [$0.stage, $0.fingerprint.short, ExperimentFormat.date($0.created), $0.pipeline ?? "?", Format.bytes($0.bytes)]
        }))
      }
      lines.append("\(dryRun ? "would remove" : "removed") \(removing.count) entries (\(size(removing))); kept \(keeping.count) (\(size(keeping)))")
      if dryRun {
        lines.append("(an entry a running pipeline builds or uses when gc runs is left)")
      } else if !inUse.isEmpty {
        lines.append("left \(inUse.count) (\(size(inUse))) that a running pipeline uses: "
          + inUse.map { "\($0.stage) \($0.fingerprint.short)" }.joined(separator: ", "))
      }
      return lines.joined(separator: "\n")
    }
  }
}
