import Foundation

/// Zip files, read and written through libarchive's streaming API (no shelling out to `unzip`,
/// no whole-archive buffering).
public enum ZipArchive {
  /// Names of the regular-file members, in archive order. Directory entries are left out.
  public static func memberNames(of zip: URL) throws -> [String] {
    let reader = try ZipReader(url: zip)
    var names: [String] = []
    while let entry = try reader.nextEntry() {
      if entry.isRegularFile { names.append(entry.path) }
    }
    return names
  }

  /// Streams each named member into `directory/<member name>`; returns member name -> written URL.
  ///
  /// Names match the entry path exactly. Every requested member is checked to exist before any
  /// file is written, and each one is written under a temporary name and renamed when complete,
  /// so a failure never leaves a half-written file under a final name. When the archive holds the
  /// same path twice, the first one wins.
  ///
  /// Throws `DataIOError` when the file is not a readable zip, or a requested member is missing.
  public static func extract(members: [String], from zip: URL, to directory: URL) throws -> [String: URL] {
    // Pass 1: headers only (libarchive's seekable zip reader walks the central directory, so this
    // costs a few reads, not a decompression).
    let available = try memberNames(of: zip)
    let availableSet = Set(available)
    if let missing = members.first(where: { !availableSet.contains($0) }) {
      throw DataIOError(file: zip.path, message: "no member named \(DataIOError.quote(missing.utf8, limit: 200)) (members: \(listing(available)))")
    }

    // Pass 2: stream the wanted members out.
    var pending = Set(members)
    var written: [String: URL] = [:]
    let reader = try ZipReader(url: zip)
    while !pending.isEmpty, let entry = try reader.nextEntry() {
      guard entry.isRegularFile, pending.contains(entry.path) else { continue }
      let destination = try destinationURL(for: entry.path, in: directory, zip: zip)
      try FileManager.default.createDirectory(
        at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
      try FileIO.writeAtomically(to: destination) { fd in
        try reader.readData { chunk in
          // The place for a later size limit (zip-bomb check): every byte written passes here.
          try FileIO.writeAll(fd, chunk, path: destination.path)
        }
      }
      pending.remove(entry.path)
      written[entry.path] = destination
    }
    if let missing = pending.first {
      // The archive changed between the two passes.
      throw DataIOError(file: zip.path, message: "member \(DataIOError.quote(missing.utf8, limit: 200)) vanished while extracting")
    }
    return written
  }

  /// Writes `members` as a new zip at `url` (replacing it atomically), in the given order.
  /// Uncompressed ("stored") unless `compressed`, in which case members are deflated.
  public static func write(_ members: [(name: String, bytes: [UInt8])], to url: URL, compressed: Bool = false) throws {
    var seen = Set<String>()
    for member in members where !seen.insert(member.name).inserted {
      throw DataIOError(file: url.path, message: "duplicate member name \(DataIOError.quote(member.name.utf8, limit: 200))")
    }
    try FileIO.writeAtomically(to: url) { fd in
      let writer = try ZipWriter(fd: fd, file: url.path, compressed: compressed)
      for member in members {
        try member.bytes.withUnsafeBytes { try writer.add(name: member.name, chunks: [$0]) }
      }
      try writer.finish()
    }
  }

  /// Where a member goes on disk. Today: the member path under `directory`. This is the one place
  /// a later path-traversal check (absolute paths, `..`) belongs.
  static func destinationURL(for member: String, in directory: URL, zip: URL) throws -> URL {
    guard !member.isEmpty else {
      throw DataIOError(file: zip.path, message: "member with an empty name")
    }
    return directory.appendingPathComponent(member, isDirectory: false)
  }

  /// A member list for an error message, cut short for archives with many members.
  private static func listing(_ names: [String]) -> String {
    if names.isEmpty { return "none" }
    let shown = names.prefix(10).joined(separator: ", ")
    return names.count > 10 ? "\(shown), … \(names.count - 10) more" : shown
  }
}
