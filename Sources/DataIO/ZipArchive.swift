import Foundation

/// Zip files, read and written through libarchive's streaming API (no shelling out to `unzip`,
/// no whole-archive buffering).
///
/// Reading treats every archive as hostile, with bsdtar's `--secure` defaults and a size budget:
/// nothing is written outside the destination directory, nothing but regular files is created,
/// and nothing is left behind when extraction fails.
public enum ZipArchive {
  /// How much extraction may write, counted in bytes actually decompressed (a header's claimed
  /// size is checked too, up front, but a zip bomb can lie about it).
  public struct Limits: Sendable, Equatable {
    /// The most any one member may expand to.
    public var maxMemberBytes: Int
    /// The most all extracted members together may expand to.
    public var maxTotalBytes: Int

    public init(maxMemberBytes: Int = 1 << 30, maxTotalBytes: Int = 1 << 30) {
      self.maxMemberBytes = maxMemberBytes
      self.maxTotalBytes = maxTotalBytes
    }

    /// 1 GiB per member and in total: Kaggle's train.csv and test.csv are 73 + 49 MB.
    public static let `default` = Limits()
  }

  /// Names of the regular-file members, in archive order. Directory entries are left out.
  public static func memberNames(of zip: URL) throws -> [String] {
    try entries(of: zip).filter(\.isRegularFile).map(\.path)
  }

  /// Streams each named member into `directory/<member name>`; returns member name -> written URL.
  ///
  /// A name matches the member with exactly that path or, failing that, the member with that path
  /// inside one top-level folder (`digit-recognizer/train.csv` for `train.csv`); see
  /// `resolve(members:among:archive:)`. Either way the file is written as `directory/<name>`.
  ///
  /// Before anything is written, the whole archive's headers are checked, and extraction is
  /// refused with a one-line `DataIOError` naming the archive and the member when:
  /// - any member has an absolute path or a `..` component, or is a symbolic link, a hard link,
  ///   a device file, a FIFO or a socket (the archive is treated as hostile, even when that member
  ///   was not asked for);
  /// - a requested member is missing, present twice, encrypted, or claims more than `limits`.
  ///
  /// While streaming, a member that expands past `limits` (counted in bytes written), or an
  /// archive that turns out truncated or corrupt, stops extraction. Members are written under
  /// temporary names and renamed into place only when all of them are complete, so a failure
  /// leaves `directory` as it was: no partial files, no temporary files.
  public static func extract(
    members: [String], from zip: URL, to directory: URL, limits: Limits = .default
  ) throws -> [String: URL] {
    var wanted: [String] = []
    for name in members where !wanted.contains(name) {
      try checkSafePath(name, zip: zip)
      wanted.append(name)
    }

    // Pass 1: headers only (libarchive's seekable zip reader walks the central directory, so this
    // costs a few reads, not a decompression). Every member is vetted, requested or not.
    let all = try entries(of: zip)
    for entry in all { try checkSafeEntry(entry, zip: zip) }
    let resolved = try resolve(members: wanted, among: all.map { $0.isRegularFile ? $0.path : nil }, archive: zip.path)
    var claimedTotal = 0
    for name in wanted {
      let entry = all[resolved[name]!]
      if entry.isEncrypted {
        throw DataIOError(file: zip.path, message: "member \(quote(entry.path)) is encrypted; decrypt the archive first")
      }
      if let size = entry.size {
        guard size <= limits.maxMemberBytes else {
          throw DataIOError(file: zip.path, message: "member \(quote(entry.path)) claims \(size) bytes, over the \(limits.maxMemberBytes)-byte limit")
        }
        claimedTotal += size
        guard claimedTotal <= limits.maxTotalBytes else {
          throw DataIOError(file: zip.path, message: "members claim \(claimedTotal) bytes together, over the \(limits.maxTotalBytes)-byte limit")
        }
      }
    }

    // Pass 2: stream the wanted members out, each into a temporary file beside its final name.
    let nameForIndex = Dictionary(uniqueKeysWithValues: resolved.map { ($0.value, $0.key) })
    var pending: [(name: String, file: FileIO.PendingFile)] = []
    defer { for item in pending { item.file.discard() } }  // after a commit, a no-op
    var total = 0
    let reader = try ZipReader(url: zip)
    var index = 0
    while pending.count < wanted.count, let entry = try reader.nextEntry() {
      defer { index += 1 }
      guard let name = nameForIndex[index] else { continue }
      guard entry.path == all[index].path, entry.isRegularFile else {
        throw DataIOError(file: zip.path, message: "member \(quote(all[index].path)) changed while extracting")
      }
      let destination = directory.appendingPathComponent(name, isDirectory: false)
      try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
      let file = try FileIO.PendingFile(destination)
      pending.append((name, file))
      var written = 0
      try reader.readData { chunk in
        // Every byte written passes here: the zip-bomb check counts what arrives, not what the
        // header said.
        written += chunk.count
        total += chunk.count
        guard written <= limits.maxMemberBytes else {
          throw DataIOError(file: zip.path, message: "member \(quote(entry.path)) expands past the \(limits.maxMemberBytes)-byte limit")
        }
        guard total <= limits.maxTotalBytes else {
          throw DataIOError(file: zip.path, message: "members expand past the \(limits.maxTotalBytes)-byte limit together, at \(quote(entry.path))")
        }
        try FileIO.writeAll(file.fd, chunk, path: destination.path)
      }
    }
    if let missing = wanted.first(where: { name in !pending.contains { $0.name == name } }) {
      // The archive changed between the two passes.
      throw DataIOError(file: zip.path, message: "member \(quote(missing)) vanished while extracting")
    }
    var written: [String: URL] = [:]
    for item in pending {
      try item.file.commit()
      written[item.name] = item.file.url
    }
    return written
  }

  /// Which archive member each wanted name refers to: name -> index into `paths`.
  ///
  /// `paths` are the archive's members in order, nil for those that are not regular files. A
  /// name matches the member with exactly that path; when there is none, it matches
  /// `<folder>/<name>` for a single top-level folder (Kaggle's downloads are sometimes packed as
  /// `digit-recognizer/train.csv`; macOS's `__MACOSX/` metadata folder is never that folder).
  /// All names must come from the same place: all at the top, or all from the same one folder.
  ///
  /// Throws `DataIOError` naming `archive` when a name has no match, when it matches two members
  /// (two copies of `train.csv` would make the result depend on which one a tool picks), or when
  /// the names come from different folders.
  public static func resolve(members wanted: [String], among paths: [String?], archive: String) throws -> [String: Int] {
    var result: [String: Int] = [:]
    var folders = Set<String>()
    for name in wanted {
      var matches = paths.indices.filter { paths[$0] == name }
      var folder = ""
      if matches.isEmpty {
        matches = paths.indices.filter { index in
          guard let path = paths[index], path.hasSuffix("/" + name) else { return false }
          let prefix = path.dropLast(name.count + 1)
          return !prefix.isEmpty && !prefix.contains("/") && prefix != "__MACOSX"
        }
        if let first = matches.first { folder = String(paths[first]!.dropLast(name.count + 1)) }
      }
      switch matches.count {
      case 0:
        throw DataIOError(file: archive, message: "no member named \(quote(name)) (members: \(listing(paths.compactMap { $0 })))")
      case 1:
        result[name] = matches[0]
        folders.insert(folder)
      default:
        let found = matches.map { quote(paths[$0]!) }
        let copies = Set(found).count == 1 ? "\(matches.count) copies of \(found[0])" : found.joined(separator: ", ")
        throw DataIOError(file: archive, message: "member \(quote(name)) is ambiguous: the archive holds \(copies)")
      }
    }
    guard folders.count <= 1 else {
      let places = folders.sorted().map { $0.isEmpty ? "the top level" : quote($0 + "/") }
      throw DataIOError(file: archive, message: "requested members are in different folders (\(places.joined(separator: ", "))); expected one place")
    }
    return result
  }

  /// Writes `members` as a new zip at `url` (replacing it atomically), in the given order.
  /// Uncompressed ("stored") unless `compressed`, in which case members are deflated.
  public static func write(_ members: [(name: String, bytes: [UInt8])], to url: URL, compressed: Bool = false) throws {
    var seen = Set<String>()
    for member in members where !seen.insert(member.name).inserted {
      throw DataIOError(file: url.path, message: "duplicate member name \(quote(member.name))")
    }
    try FileIO.writeAtomically(to: url) { fd in
      let writer = try ZipWriter(fd: fd, file: url.path, compressed: compressed)
      for member in members {
        try member.bytes.withUnsafeBytes { try writer.add(name: member.name, chunks: [$0]) }
      }
      try writer.finish()
    }
  }

  // MARK: - Checks

  /// Every member's header, in archive order.
  static func entries(of zip: URL) throws -> [ZipReader.Entry] {
    let reader = try ZipReader(url: zip)
    var entries: [ZipReader.Entry] = []
    while let entry = try reader.nextEntry() { entries.append(entry) }
    return entries
  }

  /// Refuses members that could write outside the destination or create anything but a file.
  static func checkSafeEntry(_ entry: ZipReader.Entry, zip: URL) throws {
    try checkSafePath(entry.path, zip: zip)
    let what: String
    switch entry.kind {
    case .regularFile, .directory: return
    case .symlink: what = "a symbolic link"
    case .hardlink: what = "a hard link"
    case .special(0o010000): what = "a FIFO"
    case .special(0o020000), .special(0o060000): what = "a device file"
    case .special(0o140000): what = "a socket"
    case .special(let bits): what = "a special file (type 0o\(String(bits, radix: 8)))"
    }
    throw DataIOError(file: zip.path, message: "member \(quote(entry.path)) is \(what); only regular files are extracted")
  }

  /// Refuses an empty path, an absolute one, and one with a `..` component: the checks bsdtar
  /// makes by default (`-P` turns them off there; nothing does here). Backslashes count as
  /// separators too, since Windows tools write them and some extractors honour them.
  static func checkSafePath(_ path: String, zip: URL) throws {
    guard !path.isEmpty else {
      throw DataIOError(file: zip.path, message: "member with an empty name")
    }
    let components = path.split(omittingEmptySubsequences: false) { $0 == "/" || $0 == "\\" }
    if path.hasPrefix("/") || path.hasPrefix("\\") || (components.first?.count == 2 && components.first?.last == ":") {
      throw DataIOError(file: zip.path, message: "member \(quote(path)) has an absolute path; refusing to write outside the destination")
    }
    if components.contains("..") {
      throw DataIOError(file: zip.path, message: "member \(quote(path)) has a \"..\" component; refusing to write outside the destination")
    }
  }

  private static func quote(_ name: String) -> String { DataIOError.quote(name.utf8, limit: 200) }

  /// A member list for an error message, cut short for archives with many members.
  private static func listing(_ names: [String]) -> String {
    if names.isEmpty { return "none" }
    let shown = names.prefix(10).joined(separator: ", ")
    return names.count > 10 ? "\(shown), … \(names.count - 10) more" : shown
  }
}
