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
        Kept: every entry the given pipeline files (default: each file in pipelines/) would use on --input, the last --keep-last runs (as exp show lists them) and the run whose submission is the output folder's, each with every entry it was made from and the predictions and reports made only from kept entries. Everything else goes, with the temporary folders of killed runs. It refuses while a run holds the output folder, so it never removes what a running pipeline uses.
        """)

    @Argument(help: "Pipeline files whose entries to keep (default: every .yaml file in pipelines/).")
    var pipelines: [String] = []

    @Option(help: "The competition's zip the pipeline files run on.")
    var input = "input/digit-recognizer.zip"

    @Option(help: "The output folder whose cache to collect.")
    var output = "output"

    @Option(help: "Keep the newest N runs and what they were made from.")
    var keepLast = 10

    @Flag(help: "List what would be removed and the space it would free; remove nothing.")
    var dryRun = false

    func validate() throws {
      guard keepLast >= 0 else { throw ValidationError("--keep-last must be 0 or more") }
    }

    func run() throws {
      let folder = URL(filePath: output, directoryHint: .isDirectory)
      let cache = CacheStore(outputDirectory: folder)
      try failing {
        let lock = dryRun ? nil : try OutputLock(directory: folder, wait: false)
        try withExtendedLifetime(lock) {
          let collection = try CacheCollection(
            outputDirectory: folder, pipelineFiles: try pipelineFiles().map { URL(filePath: $0) },
            input: URL(filePath: input), keepLast: keepLast)
          print(report(removing: collection.removing, keeping: collection.keeping))
          guard !dryRun else { return }
          for entry in collection.removing { try cache.remove(entry.id) }
          for leftover in cache.removeLeftovers() { print("removed \(leftover.path), left by an interrupted run") }
        }
      }
    }

    private func pipelineFiles() throws -> [String] {
      guard pipelines.isEmpty else { return pipelines }
      let names = try FileManager.default.contentsOfDirectory(atPath: "pipelines").filter { $0.hasSuffix(".yaml") }.sorted()
      return names.map { "pipelines/\($0)" }
    }

    private func report(removing: [Manifest], keeping: [Manifest]) -> String {
      let total = removing.reduce(0) { $0 + $1.bytes }
      let kept = keeping.reduce(0) { $0 + $1.bytes }
      let verb = dryRun ? "would remove" : "removed"
      var lines: [String] = []
      if !removing.isEmpty {
        lines.append(Format.alignedColumns([["stage", "fingerprint", "created", "pipeline", "size"]] + removing.map {
          [$0.stage, $0.fingerprint.short, ExperimentFormat.date($0.created), $0.pipeline ?? "?", Format.bytes($0.bytes)]
        }))
      }
      lines.append("\(verb) \(removing.count) entries (\(Format.bytes(total))); kept \(keeping.count) (\(Format.bytes(kept)))")
      return lines.joined(separator: "\n")
    }
  }
}
