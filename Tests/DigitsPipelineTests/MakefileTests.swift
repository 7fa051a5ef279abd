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
    // Only the lock file stays: a run waiting on it holds it open.
    #expect(try FileManager.default.contentsOfDirectory(atPath: output.appending(path: "cache").path) == [".lock"])
    #expect(FileManager.default.fileExists(atPath: output.appending(path: "submission.csv").path))
    #expect(try make(["clean", "OUTPUT=\(output.path)"]).output.contains("nothing to clean"))
  }
}

/// `make test STAGE=…`: each group's pattern must select tests, and every suite must be in a
/// group, or a stage's tests would quietly shrink (a pattern that matches nothing passes).
@Suite struct TestGroupTests {
  /// `Target.Suite/test(` for every test in Tests/, as `swift test --filter` sees them.
  static func testIdentifiers() throws -> (tests: [String], suites: Set<String>) {
    let tests = ConfigurationTests.repository.appending(path: "Tests")
    var identifiers: [String] = []
    var suites = Set<String>()
    for target in try FileManager.default.contentsOfDirectory(atPath: tests.path) where target.hasSuffix("Tests") {
      let folder = tests.appending(path: target)
      for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".swift") {
        var suite: String?
        var testPending = false
        for line in try String(contentsOf: folder.appending(path: file), encoding: .utf8).split(separator: "\n") {
          let words = line.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "_" && $0 != "@" }).map(String.init)
          if let index = words.firstIndex(where: { ["struct", "class", "enum", "extension"].contains($0) }),
            index + 1 < words.count, line.hasPrefix("@Suite") || line.hasPrefix("extension") {
            suite = words[index + 1]
            suites.insert("\(target).\(words[index + 1])")
          }
          if line.contains("@Test") { testPending = true }
          if testPending, let index = words.firstIndex(of: "func"), index + 1 < words.count, let suite {
            identifiers.append("\(target).\(suite)/\(words[index + 1])(")
            testPending = false
          }
        }
      }
    }
    return (identifiers, suites)
  }

  /// `TESTS_<group> := pattern` lines of the Makefile.
  static func groups() throws -> [String: String] {
    let makefile = try String(contentsOf: ConfigurationTests.repository.appending(path: "Makefile"), encoding: .utf8)
    var groups: [String: String] = [:]
    for line in makefile.split(separator: "\n") where line.hasPrefix("TESTS_") {
      let parts = line.split(separator: "=", maxSplits: 1)
      let name = parts[0].dropFirst("TESTS_".count).trimmingCharacters(in: CharacterSet(charactersIn: " :"))
      groups[name] = parts[1].trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "\\\\", with: "\\")
    }
    return groups
  }

  /// The pattern's top-level alternatives (a `|` inside parentheses does not split).
  static func alternatives(_ pattern: String) -> [String] {
    var parts = [""]
    var depth = 0
    for character in pattern {
      if character == "(" { depth += 1 } else if character == ")" { depth -= 1 }
      if character == "|", depth == 0 { parts.append("") } else { parts[parts.count - 1].append(character) }
    }
    return parts
  }

  static func matches(_ pattern: String, _ identifier: String) throws -> Bool {
    try NSRegularExpression(pattern: pattern).firstMatch(in: identifier, range: NSRange(identifier.startIndex..., in: identifier)) != nil
  }

  @Test func everyGroupIsAStageOrTheMachinery() throws {
    #expect(Set(try Self.groups().keys) == Set(StageName.runnable + [StageName.report, "pipeline", "machine"]))
  }

  @Test func everyAlternativeSelectsATest() throws {
    let (tests, _) = try Self.testIdentifiers()
    #expect(tests.count > 300)
    for (group, pattern) in try Self.groups() {
      for alternative in Self.alternatives(pattern) {
        // Each name inside a parenthesised choice must select something too.
        let expanded: [String]
        if let open = alternative.firstIndex(of: "("), alternative.last == ")" {
          let prefix = alternative[..<open]
          expanded = alternative[alternative.index(after: open)..<alternative.index(before: alternative.endIndex)]
            .split(separator: "|").map { String(prefix + $0) }
        } else {
          expanded = [alternative]
        }
        for piece in expanded {
          #expect(try tests.contains { try Self.matches(piece, $0) }, "TESTS_\(group): '\(piece)' selects no test")
        }
      }
    }
  }

  @Test func everySuiteIsInAGroup() throws {
    let (tests, suites) = try Self.testIdentifiers()
    let patterns = try Self.groups().values
    for suite in suites where tests.contains(where: { $0.hasPrefix(suite + "/") }) {
      let covered = try tests.filter { $0.hasPrefix(suite + "/") }.contains { test in try patterns.contains { try Self.matches($0, test) } }
      #expect(covered, "\(suite) is in no TESTS_ group of the Makefile")
    }
  }
}
