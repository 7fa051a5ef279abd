import Foundation
import Machine
import Tensor
import TestSupport
import Testing

/// The real `pipeline` executable, run as a user would, and interrupted as users do.
@Suite(.serialized) struct ProcessTests {
  let folder: TemporaryFolder
  let zip: URL
  let pipelineFile: URL
  var output: URL { folder.url.appending(path: "out", directoryHint: .isDirectory) }

  /// Built beside the test bundle by `swift build --build-tests` (what `make test` runs).
  static let executable = URL(filePath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "pipeline")

  /// Enough epochs that training is still going when the test interrupts it.
  static let slowPipeline = """
    name: slow
    seed: 1
    normalise: {scaling: unit}
    split: {validation_rows: 40}
    train:
      model: {init: he, layers: [{dense: 256}, relu, {dense: 10}]}
      optimizer: {kind: sgd, learning_rate: 0.01}
      epochs: 100000
      batch_size: 8
    """

  init() throws {
    folder = try TemporaryFolder()
    let dataset = TinyDataset(trainRows: 200, testRows: 10)
    zip = folder.url.appending(path: "digits.zip")
    try writeZip(["train.csv": Data(dataset.trainCSV.utf8), "test.csv": Data(dataset.testCSV.utf8)], to: zip)
    pipelineFile = folder.url.appending(path: "slow.yaml")
    try Self.slowPipeline.write(to: pipelineFile, atomically: true, encoding: .utf8)
  }

  func start(_ extra: [String] = []) throws -> RunningPipeline {
    try RunningPipeline(
      executable: Self.executable,
      arguments: ["run", "--pipeline", pipelineFile.path, "--input", zip.path, "--output", output.path] + extra)
  }

  func cacheEntries(_ stage: String) -> [String] {
    (try? FileManager.default.contentsOfDirectory(atPath: output.appending(path: "cache/\(stage)").path)) ?? []
  }

  @Test func sigint_duringTraining_removesItsTemporaryFolderAndKeepsTheCache() throws {
    let run = try start()
    try run.waitForLog(containing: "[train] running")
    #expect(cacheEntries("train").count == 1)  // the .tmp- folder being written
    let upstream = ["unpack", "parse", "split", "normalise"].map(cacheEntries)

    run.process.interrupt()
    let (status, _, errors) = try run.finish(within: 10)
    #expect(status == 128 + SIGINT)
    #expect(errors.contains("interrupted"))
    #expect(cacheEntries("train").isEmpty)
    #expect(["unpack", "parse", "split", "normalise"].map(cacheEntries) == upstream)
  }

  @Test func sigterm_isHandledLikeCtrlC() throws {
    let run = try start()
    try run.waitForLog(containing: "[train] running")
    run.process.terminate()
    let (status, _, errors) = try run.finish(within: 10)
    #expect(status == 128 + SIGTERM)
    #expect(errors.contains("terminated"))
    #expect(cacheEntries("train").isEmpty)
  }

  @Test func sigkill_leavesATemporaryFolderThatTheNextRunRemoves() throws {
    let run = try start()
    try run.waitForLog(containing: "[train] running")
    kill(run.process.processIdentifier, SIGKILL)
    _ = try run.finish(within: 10)
    let leftovers = cacheEntries("train")
    #expect(leftovers.count == 1 && leftovers[0].hasPrefix(".tmp-"))

    // The next run (of a stage that is cached) cleans up, says so, and is not blocked by a lock.
    let next = try start(["--stage", "split", "--no-wait"])
    let (status, printed, errors) = try next.finish(within: 30)
    #expect(status == 0, "\(errors)")
    #expect(errors.contains("left by an interrupted run"))
    #expect(errors.contains("[split] cached"))
    #expect(printed.contains("split   cached"))  // the summary table, on standard output
    #expect(cacheEntries("train").isEmpty)
  }

  @Test func secondRun_onTheSameOutput_failsClearlyWithNoWait() throws {
    let first = try start()
    try first.waitForLog(containing: "[train] running")
    let second = try start(["--no-wait"])
    let (status, _, errors) = try second.finish(within: 30)
    #expect(status == 1)
    #expect(errors.contains("another run is computing or using the cache entry of train"), "\(errors)")
    first.process.interrupt()
    _ = try first.finish(within: 10)
  }

  @Test func secondRun_onTheSameOutput_waitsAndSaysSo() throws {
    let first = try start()
    try first.waitForLog(containing: "[train] running")
    let second = try start()
    try second.waitForLog(containing: "[train] waiting: another run is computing")
    #expect(second.process.isRunning)
    #expect(!second.errorsSoFar.contains("[train] running"))
    first.process.interrupt()
    _ = try first.finish(within: 10)
    // Once the lock is free the second run goes ahead (and is stopped here, mid-training).
    try second.waitForLog(containing: "[train] running")
    second.process.interrupt()
    _ = try second.finish(within: 10)
  }

  @Test func badInput_exitsNonZeroWithAOneLineError() throws {
    try Data("not a zip".utf8).write(to: zip)
    let (status, _, errors) = try start().finish(within: 30)
    #expect(status == 1)
    // Log lines ("[unpack] running: …") share standard error; the error itself is one line.
    let lines = errors.split(separator: "\n").filter { !$0.hasPrefix("[") }
    #expect(lines.count == 1, "\(errors)")
    #expect(lines.first?.hasPrefix("error: ") == true)
    #expect(lines.first?.contains("digits.zip: not a zip archive") == true)
  }
}

/// A child process whose output is collected on a background thread as it arrives.
final class RunningPipeline: @unchecked Sendable {
  let process = Process()
  private let lock = NSLock()
  private var printed = Data()
  private var complaints = Data()

  /// `environment` nil: this process's own, with `OPENBLAS_CORETYPE` set to the kernels this
  /// process runs, so the child computes as the tests do and never restarts itself onto other
  /// kernels (which would add a line to its error output).
  init(executable: URL, arguments: [String], environment: [String: String]? = nil) throws {
    process.executableURL = executable
    process.arguments = arguments
    process.environment = environment ?? Self.defaultEnvironment
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    output.fileHandleForReading.readabilityHandler = { [weak self] handle in
      let data = handle.availableData
      self?.lock.withLock { self?.printed.append(data) }
    }
    errors.fileHandleForReading.readabilityHandler = { [weak self] handle in
      let data = handle.availableData
      self?.lock.withLock { self?.complaints.append(data) }
    }
    try process.run()
  }

  static var defaultEnvironment: [String: String] {
    ProcessInfo.processInfo.environment.merging([KernelChoice.coreTypeVariable: OpenBLAS.coreName]) { $1 }
  }

  var outputSoFar: String { lock.withLock { String(decoding: printed, as: UTF8.self) } }
  var errorsSoFar: String { lock.withLock { String(decoding: complaints, as: UTF8.self) } }

  /// Waits for a line of the log, which the pipeline writes on standard error.
  func waitForLog(containing text: String, within seconds: Double = 60) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !errorsSoFar.contains(text) {
      guard process.isRunning, Date() < deadline else {
        throw ProcessTestFailure("never printed \"\(text)\"; stdout: \(outputSoFar) stderr: \(errorsSoFar)")
      }
      Thread.sleep(forTimeInterval: 0.05)
    }
  }

  /// Waits for the process to end (killing it past the deadline) and returns its status and output.
  func finish(within seconds: Double) throws -> (status: Int32, output: String, errors: String) {
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning {
      guard Date() < deadline else {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw ProcessTestFailure("did not stop within \(seconds)s")
      }
      Thread.sleep(forTimeInterval: 0.05)
    }
    process.waitUntilExit()
    Thread.sleep(forTimeInterval: 0.1)  // let the readability handlers drain the pipes
    return (process.terminationStatus, outputSoFar, errorsSoFar)
  }
}

struct ProcessTestFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
