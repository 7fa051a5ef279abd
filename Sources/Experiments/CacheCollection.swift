import DigitsPipeline
import Foundation
import Pipeline

/// What `pipeline gc` keeps and removes.
public struct CacheCollection: Sendable {
  public let removing: [Manifest]
  public let keeping: [Manifest]

  /// Kept: every entry the pipeline files would use on `input`, the newest `keepLast` runs and
  /// the run whose submission is the output folder's, each with the entries it was made from
  /// and its predictions and reports. The rest goes.
  public init(cache: CacheStore, outputDirectory: URL, pipelineFiles: [URL], input: URL, keepLast: Int) throws {
    var roots = Set<EntryID>()
    for file in pipelineFiles {
      let configuration = try DigitsPipeline.loadConfiguration(from: file)
      let graph = try DigitsPipeline.graph(configuration: configuration, input: input, pipelineFile: file.path)
      let planned = try Runner(graph: graph, outputDirectory: outputDirectory, cache: cache).plan()
      roots.formUnion(planned.map { EntryID(stage: $0.name, fingerprint: $0.fingerprint) })
    }
    let runs = ExperimentLog.load(cache: cache, submission: outputDirectory.appending(path: PredictStage.publishedSubmission))
    for run in runs.suffix(keepLast) + runs.filter(\.isCurrentSubmission) {
      roots.insert(EntryID(stage: StageName.evaluate, fingerprint: run.id))
      roots.formUnion(run.outputs)
    }
    let entries = cache.allManifests()
    let kept = cache.kept(roots: roots, among: entries)
    removing = entries.filter { !kept.contains($0.id) }
    keeping = entries.filter { kept.contains($0.id) }
  }
}
