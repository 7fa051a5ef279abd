import DigitsPipeline
import Foundation
import Pipeline

/// One evaluated run, as the cache remembers it: an evaluate entry and the entries it was made
/// from. Its identity is the evaluate entry's fingerprint, as the logs print it.
public struct Experiment: Sendable {
  /// One stage of the run: an entry of the cache.
  public struct StageRecord: Sendable, Encodable {
    public var name: String
    public var fingerprint: Fingerprint
    public var created: Date
    public var seconds: Double
    public var version: Int
    /// The stage's parameters, flattened (``ParameterPaths``), with each external file it read
    /// under its role (`archive`, `model`) as the file's short content hash.
    public var parameters: [String: String]
    /// What computed it (`pipeline doctor`'s lines), when recorded.
    public var machine: [String]?
  }

  public var id: Fingerprint
  /// When the run was evaluated.
  public var created: Date
  /// The pipeline whose run made the evaluate entry; nil for entries made before it was recorded.
  public var pipeline: String?
  /// Every stage's parameters as `stage.path` (`train.epochs`, `split.seed`). An ensemble's
  /// members other than the first differ only by seed, and a cross-validation's splits only by
  /// fold, so only `train`'s and `split`'s (less its fold number) are listed here; `stages` has
  /// them all.
  public var parameters: [String: String]
  /// nil when the entry's metrics file cannot be read.
  public var metrics: Metrics?
  /// How many models evaluate averaged.
  public var members: Int
  /// The training stages' own time, summed (a cached member counts the time it once took).
  public var trainingSeconds: Double
  /// Whether the output folder's submission.csv is this run's: its bytes are, and no newer run's
  /// submission has the same bytes.
  public var isCurrentSubmission: Bool
  /// What `pipeline submit` uploaded of this run to Kaggle, oldest first.
  public var kaggleSubmissions: [KaggleSubmission]
  /// The run's entries, upstream first; an entry removed from the cache since is missing here.
  public var stages: [StageRecord]
  /// The predict and report entries made from this run's models and evaluation: what `gc`
  /// keeps beside `stages` when it keeps the run.
  public var outputs: [EntryID]

  /// Validation rows the ensemble got wrong.
  public var errors: Int? {
    metrics.map { metrics in metrics.rows - metrics.confusion.indices.reduce(0) { $0 + metrics.confusion[$1][$1] } }
  }
}

/// Reads every evaluated run out of a cache.
public enum ExperimentLog {
  /// - Parameter submission: the published submission file, to mark the run it came from.
  public static func load(cache: CacheStore, submission: URL? = nil) -> [Experiment] {
    let submissionHash = submission.flatMap { url in
      FileManager.default.fileExists(atPath: url.path) ? try? Fingerprint.of(fileAt: url) : nil
    }
    let submitted = Dictionary(grouping: SubmissionLog.load(from: cache), by: \.run)
    let predictions = cache.manifests(stage: StageName.predict)
    let reports = cache.manifests(stage: StageName.report)
    var known: [String: Manifest] = [:]
    func manifest(_ stage: String, _ fingerprint: Fingerprint) -> Manifest? {
      let key = "\(stage)/\(fingerprint.hex)"
      if let cached = known[key] { return cached }
      let found = cache.manifest(stage: stage, fingerprint: fingerprint)
      known[key] = found
      return found
    }

    var experiments = cache.manifests(stage: StageName.evaluate).map { evaluation in
      // The run's entries, found by walking inputs upstream from evaluate.
      var entries: [String: Manifest] = [StageName.evaluate: evaluation]
      var pending = Array(evaluation.inputs)
      while let (stage, fingerprint) = pending.popLast() {
        guard entries[stage] == nil, let entry = manifest(stage, fingerprint) else { continue }
        entries[stage] = entry
        pending += entry.inputs
      }
      let stages = upstreamFirst(entries).map(record)
      var parameters: [String: String] = [:]
      // The other members and folds differ from the first only by seed and fold number.
      for stage in stages where !stage.name.hasPrefix("\(StageName.train).") && !stage.name.hasPrefix("\(StageName.split).") {
        for (path, value) in stage.parameters where !(stage.name == StageName.split && path == "fold") {
          parameters["\(stage.name).\(path)"] = value
        }
      }
      let models = evaluation.inputs.filter { StageName.isModel($0.key) }
      // Its predictions: the same models, the same test-time augmentation.
      let predicted = predictions.filter { prediction in
        prediction.parameters == evaluation.parameters && prediction.inputs.filter({ StageName.isModel($0.key) }) == models
      }
      let published = predicted.contains { prediction in
        prediction.files.contains { $0.name == Predictions.submissionFileName && $0.sha256 == submissionHash }
      }
      let reported = reports.filter { $0.inputs[StageName.evaluate] == evaluation.fingerprint }
      return Experiment(
        id: evaluation.fingerprint, created: evaluation.created, pipeline: evaluation.pipeline,
        parameters: parameters,
        metrics: try? Evaluation(directory: cache.entryDirectory(stage: StageName.evaluate, fingerprint: evaluation.fingerprint)).readMetrics(),
        members: models.count,
        trainingSeconds: stages.filter { StageName.isModel($0.name) }.reduce(0) { $0 + $1.seconds },
        isCurrentSubmission: submissionHash != nil && published,
        kaggleSubmissions: submitted[evaluation.fingerprint] ?? [],
        stages: stages, outputs: (predicted + reported).map(\.id))
    }
    // Runs whose submissions have the same bytes cannot be told apart by the file: the newest
    // of them is taken to be the one that wrote it.
    for index in experiments.indices.dropLast() where experiments[index].isCurrentSubmission
    && experiments[(index + 1)...].contains(where: \.isCurrentSubmission) {
      experiments[index].isCurrentSubmission = false
    }
    return experiments
  }

  /// Each entry after the entries it read, ties by name.
  private static func upstreamFirst(_ entries: [String: Manifest]) -> [Manifest] {
    var depths: [String: Int] = [:]
    func depth(_ stage: String) -> Int {
      if let known = depths[stage] { return known }
      let inputs = entries[stage]?.inputs.keys.filter { entries[$0] != nil } ?? []
      let found = 1 + (inputs.map(depth).max() ?? 0)
      depths[stage] = found
      return found
    }
    return entries.values.sorted { (depth($0.stage), $0.stage) < (depth($1.stage), $1.stage) }
  }

  private static func record(_ entry: Manifest) -> Experiment.StageRecord {
    Experiment.StageRecord(
      name: entry.stage, fingerprint: entry.fingerprint, created: entry.created, seconds: entry.seconds,
      version: entry.version, parameters: entry.flatParameters, machine: entry.machine)
  }

  /// The one run whose id starts with `prefix` (at least 4 hex digits).
  public static func find(_ prefix: String, in experiments: [Experiment]) throws -> Experiment {
    let wanted = prefix.lowercased()
    guard wanted.count >= 4, wanted.allSatisfy(\.isHexDigit) else {
      throw PipelineError("'\(prefix)' is not a run id: give at least 4 hex digits of one (pipeline exp show lists them)")
    }
    let matches = experiments.filter { $0.id.hex.hasPrefix(wanted) }
    switch matches.count {
    case 1: return matches[0]
    case 0: throw PipelineError("no run in the cache has an id starting with \(prefix) (pipeline exp show lists them)")
    default:
      throw PipelineError("\(prefix) matches \(matches.count) runs (\(matches.map(\.id.short).joined(separator: ", "))): give more digits")
    }
  }
}
