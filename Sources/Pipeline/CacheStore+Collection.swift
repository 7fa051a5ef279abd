import Foundation

/// One cache entry by name: its stage and fingerprint.
public struct EntryID: Hashable, Sendable, Comparable {
  public var stage: String
  public var fingerprint: Fingerprint

  public init(stage: String, fingerprint: Fingerprint) {
    self.stage = stage
    self.fingerprint = fingerprint
  }

  public static func < (lhs: EntryID, rhs: EntryID) -> Bool {
    (lhs.stage, lhs.fingerprint) < (rhs.stage, rhs.fingerprint)
  }
}

extension Manifest {
  public var id: EntryID { EntryID(stage: stage, fingerprint: fingerprint) }
  /// The bytes the entry takes: its files and the manifest.
  public var bytes: Int { files.reduce(0) { $0 + $1.size } }
}

extension CacheStore {
  /// Every entry with a readable manifest, stage by stage.
  public func allManifests() -> [Manifest] {
    stageNames().flatMap(manifests(stage:))
  }

  /// What garbage collection keeps: `roots` and every entry they were made from.
  public func kept(roots: Set<EntryID>, among entries: [Manifest]) -> Set<EntryID> {
    let byID = Dictionary(entries.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    var kept = Set<EntryID>()
    var pending = Array(roots)
    while let id = pending.popLast() {
      guard kept.insert(id).inserted, let manifest = byID[id] else { continue }
      pending += manifest.inputs.map { EntryID(stage: $0.key, fingerprint: $0.value) }
    }
    return kept
  }

  /// Deletes one entry unless a run holds its lock (builds or uses it); with `dryRun`, only says
  /// whether it would. Returns whether it was (or would be) removed.
  public func removeUnlessInUse(_ id: EntryID, dryRun: Bool = false) throws -> Bool {
    let lock = try entryLock(stage: id.stage, fingerprint: id.fingerprint)
    guard try lock.lock(.exclusive, wait: false) else { return false }
    // Gone already (another gc): nothing to do.
    guard FileManager.default.fileExists(atPath: entryDirectory(stage: id.stage, fingerprint: id.fingerprint).path) else { return true }
    if !dryRun { try remove(id) }
    return true
  }

  /// Deletes one entry: renamed aside first, so a reader never sees it half removed. The caller
  /// holds the entry's lock, or knows no other run can.
  public func remove(_ id: EntryID) throws {
    let directory = entryDirectory(stage: id.stage, fingerprint: id.fingerprint)
    let aside = try makeTemporaryDirectory(stage: id.stage, fingerprint: id.fingerprint)
    try FileManager.default.removeItem(at: aside)
    try FileManager.default.moveItem(at: directory, to: aside)
    try? FileManager.default.removeItem(at: aside)  // a leftover is removed by the next run
  }
}
