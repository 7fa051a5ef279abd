import Foundation

/// The on-disk cache: `<root>/<stage>/<fingerprint>/`, one folder per entry, holding the
/// stage's artifacts and a ``Manifest``.
///
/// Entries are built in a temporary sibling folder (`.tmp-…`) and renamed into place when
/// complete, so a crash or Ctrl-C never leaves something that looks like an entry.
public struct CacheStore: Sendable {
  public let root: URL

  public init(root: URL) { self.root = root }

  /// The cache inside an output folder: `<output>/cache`.
  public init(outputDirectory: URL) {
    self.init(root: outputDirectory.appending(path: "cache", directoryHint: .isDirectory))
  }

  static let temporaryPrefix = ".tmp-"

  public func entryDirectory(stage: String, fingerprint: Fingerprint) -> URL {
    root.appending(path: stage, directoryHint: .isDirectory)
      .appending(path: fingerprint.hex, directoryHint: .isDirectory)
  }

  /// How thoroughly to check an entry before trusting it.
  public enum Verification: Sendable {
    /// The manifest parses and every file has its recorded size: cheap, catches truncation.
    case sizes
    /// Every file's SHA-256 matches the manifest: catches any flipped byte.
    case checksums
  }

  public enum Lookup: Sendable, Equatable {
    case hit(Manifest)
    case missing
    /// Present but failing its check; the reason says which file and how.
    case damaged(String)
  }

  public func lookup(stage: String, fingerprint: Fingerprint, verification: Verification) -> Lookup {
    let directory = entryDirectory(stage: stage, fingerprint: fingerprint)
    let manifestURL = directory.appending(path: Manifest.fileName)
    guard FileManager.default.fileExists(atPath: manifestURL.path) else {
      return FileManager.default.fileExists(atPath: directory.path)
        ? .damaged("\(directory.path): no manifest") : .missing
    }
    let manifest: Manifest
    do {
      manifest = try Self.readManifest(at: manifestURL)
    } catch {
      return .damaged("\(manifestURL.path): unreadable manifest (\(error.localizedDescription))")
    }
    guard manifest.fingerprint == fingerprint, manifest.stage == stage else {
      return .damaged("\(manifestURL.path): manifest is for another entry")
    }
    for file in manifest.files {
      let url = directory.appending(path: file.name)
      let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? nil
      guard let size else { return .damaged("\(url.path): missing") }
      guard size == file.size else {
        return .damaged("\(url.path): \(size) bytes, manifest says \(file.size)")
      }
      if verification == .checksums {
        guard let actual = try? Fingerprint.of(fileAt: url), actual == file.sha256 else {
          return .damaged("\(url.path): checksum differs from the manifest")
        }
      }
    }
    return .hit(manifest)
  }

  /// Whether the stage has any complete-looking entry at all (to tell "stale" from "missing").
  public func hasAnyEntry(stage: String) -> Bool {
    let folder = root.appending(path: stage, directoryHint: .isDirectory)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.contains { name in
      !name.hasPrefix(Self.temporaryPrefix)
        && FileManager.default.fileExists(atPath: folder.appending(path: name).appending(path: Manifest.fileName).path)
    }
  }

  private static func readManifest(at url: URL) throws -> Manifest {
    try JSONDecoder.iso8601.decode(Manifest.self, from: Data(contentsOf: url))
  }

  /// The stages that have a folder in the cache, sorted. Names starting with "." are the cache's
  /// own (locks), and a file beside the stage folders (a log a command keeps there) is no stage.
  public func stageNames() -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    return names.filter { name in
      var isFolder: ObjCBool = false
      return !name.hasPrefix(".")
        && FileManager.default.fileExists(atPath: root.appending(path: name).path, isDirectory: &isFolder) && isFolder.boolValue
    }.sorted()
  }

  /// The manifest of every entry of `stage` that has a readable one, oldest first. Reads the
  /// manifests only (no file checks): for listing what the cache holds, not for trusting it.
  public func manifests(stage: String) -> [Manifest] {
    let folder = root.appending(path: stage, directoryHint: .isDirectory)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter { !$0.hasPrefix(Self.temporaryPrefix) }.compactMap { name in
      guard let manifest = try? Self.readManifest(at: folder.appending(path: name).appending(path: Manifest.fileName)),
        manifest.stage == stage, manifest.fingerprint.hex == name
      else { return nil }
      return manifest
    }.sorted { ($0.created, $0.fingerprint.hex) < ($1.created, $1.fingerprint.hex) }
  }

  /// The manifest of one entry, read as ``manifests(stage:)`` reads them; nil when absent.
  public func manifest(stage: String, fingerprint: Fingerprint) -> Manifest? {
    let url = entryDirectory(stage: stage, fingerprint: fingerprint).appending(path: Manifest.fileName)
    guard let manifest = try? Self.readManifest(at: url), manifest.stage == stage, manifest.fingerprint == fingerprint
    else { return nil }
    return manifest
  }

  // MARK: - Locks: several runs, even on several machines, may share one cache

  /// The lock of one entry: exclusive while a run builds (or gc removes) it, shared while a run
  /// uses it, so two runs that need the same missing entry compute it once and gc never removes
  /// what a run reads. Lock files stay when their entries go: removing one while another process
  /// waits on it would let two processes hold "the" lock at once.
  /// They live apart, in `<root>/.locks/`, so a stage's folder holds its entries only.
  public func entryLock(stage: String, fingerprint: Fingerprint) throws -> FileLock {
    let folder = root.appending(path: ".locks", directoryHint: .isDirectory)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return try FileLock(path: folder.appending(path: "\(stage).\(fingerprint.hex)").path)
  }

  /// The lock of the cache as a whole: every run holds it shared, and `clean`, which deletes
  /// everything, exclusive.
  public func usageLock() throws -> FileLock {
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    return try FileLock(path: root.appending(path: ".lock").path)
  }

  /// A new, empty folder to build an entry in. Its name carries the entry's fingerprint, so a
  /// leftover can be told from a folder another run is still building (``removeLeftovers()``).
  public func makeTemporaryDirectory(stage: String, fingerprint: Fingerprint) throws -> URL {
    let folder = root.appending(path: stage, directoryHint: .isDirectory)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let name = "\(Self.temporaryPrefix)\(fingerprint.hex)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
    let directory = folder.appending(path: name, directoryHint: .isDirectory)
    try? FileManager.default.removeItem(at: directory)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
    return directory
  }

  /// Checksums the files in `temporary`, writes the manifest, and renames the folder into place
  /// (replacing a damaged entry of the same fingerprint, if any).
  @discardableResult
  public func commit(
    temporary: URL, stage: String, version: Int, fingerprint: Fingerprint, parameters: String,
    inputs: [String: Fingerprint], externalFiles: [String: Fingerprint], seconds: Double,
    machine: [String]? = nil, pipeline: String? = nil
  ) throws -> Manifest {
    let names = try FileManager.default.contentsOfDirectory(atPath: temporary.path).sorted()
    let files = try names.map { name in
      let url = temporary.appending(path: name)
      let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
      return Manifest.File(name: name, size: size, sha256: try Fingerprint.of(fileAt: url))
    }
    let manifest = Manifest(
      stage: stage, version: version, fingerprint: fingerprint, parameters: parameters,
      inputs: inputs, externalFiles: externalFiles, files: files, created: Date(), seconds: seconds,
      machine: machine, pipeline: pipeline)
    let encoder = JSONEncoder.iso8601
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try encoder.encode(manifest).write(to: temporary.appending(path: Manifest.fileName))

    let destination = entryDirectory(stage: stage, fingerprint: fingerprint)
    if FileManager.default.fileExists(atPath: destination.path) {
      // A damaged entry: out of the way first, so the rename below stays a single atomic step.
      try remove(EntryID(stage: stage, fingerprint: fingerprint))
    }
    try FileManager.default.moveItem(at: temporary, to: destination)
    return manifest
  }

  /// Removes temporary folders left by runs that were killed: those of entries nobody holds the
  /// lock of, since a run building an entry holds its lock until the folder is renamed into
  /// place or removed.
  public func removeLeftovers() -> [URL] {
    var removed: [URL] = []
    for stage in stageNames() {
      let folder = root.appending(path: stage, directoryHint: .isDirectory)
      for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
      where name.hasPrefix(Self.temporaryPrefix) {
        let hex = name.dropFirst(Self.temporaryPrefix.count).prefix { $0 != "-" }
        // A name without a whole fingerprint is from before entry locks, when a run held the
        // whole output folder: nothing can be building it now.
        let lock = hex.count == 64 ? try? entryLock(stage: stage, fingerprint: Fingerprint(hex: String(hex))) : nil
        if hex.count == 64, (try? lock?.lock(.exclusive, wait: false)) != true { continue }
        let url = folder.appending(path: name)
        if (try? FileManager.default.removeItem(at: url)) != nil { removed.append(url) }
        withExtendedLifetime(lock) {}
      }
    }
    return removed
  }
}

/// Manifests' dates: ISO 8601 with milliseconds, so entries made within one second still sort in
/// the order they were made (`exp show`, `status`); whole seconds, as older manifests have
/// them, still read.
extension JSONDecoder {
  static var iso8601: JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .custom { decoder in
      let text = try decoder.singleValueContainer().decode(String.self)
      guard let date = (try? Date(text, strategy: ManifestDate.precise)) ?? (try? Date(text, strategy: ManifestDate.seconds)) else {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 date: \(text)"))
      }
      return date
    }
    return decoder
  }
}

extension JSONEncoder {
  static var iso8601: JSONEncoder {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .custom { date, encoder in
      var container = encoder.singleValueContainer()
      try container.encode(date.formatted(ManifestDate.precise))
    }
    return encoder
  }
}

private enum ManifestDate {
  static let precise = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
  static let seconds = Date.ISO8601FormatStyle()
}
