import Foundation
import Pipeline
import TestSupport
import Testing

/// Several real `pipeline` processes on one cache: what one computes, the others wait for and
/// use; what they need apart, they compute side by side; gc and clean leave what runs use.
@Suite(.serialized) struct ConcurrencyTests {
  let folder: TemporaryFolder
  let zip: URL
  var cache: URL { folder.url.appending(path: "shared-cache", directoryHint: .isDirectory) }

  /// ProcessTests' slow pipeline cut to a few seconds of training: long enough for a second
  /// process to arrive meanwhile, short enough to wait for.
  static let pipeline = ProcessTests.slowPipeline
    .replacingOccurrences(of: "name: slow", with: "name: medium")
    .replacingOccurrences(of: "epochs: 100000", with: "epochs: 150")

  init() throws {
    folder = try TemporaryFolder()
    let dataset = TinyDataset(trainRows: 200, testRows: 10)
    zip = folder.url.appending(path: "digits.zip")
    try writeZip(["train.csv": Data(dataset.trainCSV.utf8), "test.csv": Data(dataset.testCSV.utf8)], to: zip)
    for (name, yaml) in [("medium", Self.pipeline), ("slow", ProcessTests.slowPipeline)] {
      try yaml.write(to: folder.url.appending(path: "\(name).yaml"), atomically: true, encoding: .utf8)
    }
  }

  func output(_ name: String) -> URL { folder.url.appending(path: name, directoryHint: .isDirectory) }

  /// `pipeline run` of `pipeline` into output folder `name`, on the shared cache.
  func start(_ pipeline: String, into name: String, _ extra: [String] = []) throws -> RunningPipeline {
    try RunningPipeline(
      executable: ProcessTests.executable,
      arguments: ["run", "--pipeline", folder.url.appending(path: "\(pipeline).yaml").path, "--input", zip.path,
                  "--output", output(name).path, "--cache", cache.path] + extra)
  }

  func entries(_ stage: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: cache.appending(path: stage).path)) ?? []).filter { !$0.hasPrefix(".") }
  }

  @Test func twoRunsNeedingTheSameEntry_computeItOnce() throws {
    let first = try start("medium", into: "a")
    try first.waitForLog(containing: "[train] running")
    let second = try start("medium", into: "b")
    try second.waitForLog(containing: "[train] waiting: another run is computing")
    let (firstStatus, _, firstLog) = try first.finish(within: 120)
    let (secondStatus, _, secondLog) = try second.finish(within: 120)
    #expect(firstStatus == 0 && secondStatus == 0, "\(firstLog)\n\(secondLog)")
    #expect(secondLog.contains("[train] computed by another run meanwhile"))
    #expect(!secondLog.contains("[train] running"))
    #expect(entries("train").count == 1)
    let submissions = try ["a", "b"].map { try Data(contentsOf: output($0).appending(path: "submission.csv")) }
    #expect(submissions[0] == submissions[1])
    #expect(!FileManager.default.fileExists(atPath: output("a").appending(path: "cache").path))  // all in the shared one
  }

  @Test func runsNeedingDifferentEntries_goSideBySide() throws {
    let first = try start("slow", into: "a")
    try first.waitForLog(containing: "[train] running")
    let second = try start("slow", into: "b", ["--set", "seed=2"])
    try second.waitForLog(containing: "[train] running")
    #expect(first.process.isRunning)  // both train at once
    #expect(!second.errorsSoFar.contains("waiting"))
    for run in [first, second] {
      run.process.interrupt()
      _ = try run.finish(within: 10)
    }
    #expect(entries("train").isEmpty)  // neither finished; both temporary folders are gone
  }

  /// The environment's DIGITS_CACHE stands for --cache.
  @Test func digitsCacheVariable_choosesTheCache() throws {
    let run = try RunningPipeline(
      executable: ProcessTests.executable,
      arguments: ["run", "--pipeline", folder.url.appending(path: "medium.yaml").path, "--input", zip.path,
                  "--output", output("a").path, "--quiet", "--set", "train.epochs=1"],
      environment: RunningPipeline.defaultEnvironment.merging(["DIGITS_CACHE": cache.path]) { $1 })
    #expect(try run.finish(within: 60).status == 0)
    #expect(entries("train").count == 1)
    #expect(!FileManager.default.fileExists(atPath: output("a").appending(path: "cache").path))
  }

  @Test func gcAndClean_leaveWhatARunningPipelineUses() throws {
    let old = try start("medium", into: "a", ["--set", "train.epochs=1", "--quiet"])
    #expect(try old.finish(within: 60).status == 0)
    // Another seed: a split of its own, which only the running pipeline needs.
    let running = try start("slow", into: "b", ["--set", "seed=5"])
    try running.waitForLog(containing: "[train] running")

    let gc = try RunningPipeline(
      executable: ProcessTests.executable,
      arguments: ["gc", folder.url.appending(path: "medium.yaml").path, "--input", zip.path, "--output", output("c").path,
                  "--cache", cache.path, "--keep-last", "0"]
    ).finish(within: 60)
    #expect(gc.status == 0, "\(gc.errors)")
    // The old run's train, evaluate, predict and report go; the running pipeline's split stays.
    #expect(gc.output.contains("removed 4 entries"), "\(gc.output)")
    #expect(gc.output.contains("left 1 ") && gc.output.contains("that a running pipeline uses: split "), "\(gc.output)")
    #expect(entries("split").count == 2)

    let clean = try RunningPipeline(
      executable: ProcessTests.executable, arguments: ["clean", "--cache", cache.path]).finish(within: 30)
    #expect(clean.status == 1 && clean.errors.contains("a run is using this cache"), "\(clean.errors)")
    running.process.interrupt()
    _ = try running.finish(within: 10)
    #expect(try RunningPipeline(executable: ProcessTests.executable, arguments: ["clean", "--cache", cache.path]).finish(within: 30).status == 0)
    #expect(try FileManager.default.contentsOfDirectory(atPath: cache.path) == [".lock"])
  }

  /// The output folder cannot be the cache: the two locks would be one file.
  @Test func cacheThatIsTheOutputFolder_isRefused() throws {
    let run = try start("medium", into: "a", ["--cache", output("a").path])
    let (status, _, errors) = try run.finish(within: 30)
    #expect(status == 1 && errors.contains("the cache cannot be the output folder itself"), "\(errors)")
  }
}
