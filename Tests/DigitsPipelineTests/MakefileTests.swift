import DigitsPipeline
import Foundation
import Pipeline
import Testing

/// The front door's own behaviour, through `make` itself (it is on every machine the project
/// builds on).
@Suite struct MakefileTests {
  /// `make ARGS...` in the repository: its exit status and what it printed (both streams).
  func make(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(filePath: "/usr/bin/env")
    process.arguments = ["make", "--no-print-directory", "-C", ConfigurationTests.repository.path] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  @Test func force_isOnlyOnForAYes() throws {
    for (value, forced) in [("1", true), ("yes", true), ("0", false), ("no", false), ("false", false), ("", false)] {
      let (status, output) = try make(["-n", "run", "FORCE=\(value)"])
      #expect(status == 0, "\(output)")
      #expect(output.contains("--force") == forced, "FORCE=\(value): \(output)")
    }
  }

  /// `make submit` is `pipeline submit` on OUTPUT and CACHE; MESSAGE reaches it through the
  /// environment, so the shell never parses it.
  @Test func submit_passesTheOutputCacheAndMessage() throws {
    func command(_ variables: [String]) throws -> String? {
      try make(["-n", "submit"] + variables).output.split(separator: "\n")
        .first { $0.contains("pipeline submit") }?.trimmingCharacters(in: .whitespaces)
    }
    #expect(try command(["OUTPUT=some/out"]) == ".build/release/pipeline submit --output some/out")
    #expect(try command(["OUTPUT=some/out", "CACHE=shared", "MESSAGE=it's \"mine\""])
      == #".build/release/pipeline submit --output some/out --cache shared --message "$MESSAGE""#)
    #expect(try make(["help"]).output.contains("make submit "))
  }

  /// `make clean` builds nothing, removes only the cache, and respects a run's lock.
  @Test func clean_needsNoBuildAndRespectsTheLock() throws {
    let output = FileManager.default.temporaryDirectory.appending(path: "makefile-clean-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: output) }
    let cache = output.appending(path: "cache/train/entry")
    try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
    try Data("1,2\n".utf8).write(to: output.appending(path: "submission.csv"))

    #expect(!(try make(["-n", "clean", "OUTPUT=\(output.path)"]).output.contains("swift build")))

    // A run holds the cache's lock shared while it uses the cache.
    let lock = try CacheStore(outputDirectory: output).usageLock()
    try lock.lock(.shared, wait: false)
    let refused = try make(["clean", "OUTPUT=\(output.path)"])
    #expect(refused.status != 0 && refused.output.contains("a run is using this cache"), "\(refused.output)")
    #expect(FileManager.default.fileExists(atPath: cache.path))
    withExtendedLifetime(lock) {}
  }

  @Test func clean_removesTheCacheAndKeepsPublishedFiles() throws {
    let output = FileManager.default.temporaryDirectory.appending(path: "makefile-clean-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: output) }
    try FileManager.default.createDirectory(at: output.appending(path: "cache/train/entry"), withIntermediateDirectories: true)
    try Data("1,2\n".utf8).write(to: output.appending(path: "submission.csv"))
    let cleaned = try make(["clean", "OUTPUT=\(output.path)"])
    #expect(cleaned.status == 0 && cleaned.output.contains("removed"), "\(cleaned.output)")
    #expect(!FileManager.default.fileExists(atPath: output.appending(path: "cache").path))
    #expect(FileManager.default.fileExists(atPath: output.appending(path: "submission.csv").path))
    #expect(try make(["clean", "OUTPUT=\(output.path)"]).output.contains("nothing to clean"))
  }
}
