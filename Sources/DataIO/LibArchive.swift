import CArchive
import Foundation

// The two owners of libarchive handles. Everything that touches `struct archive *` lives here, so
// the rest of the module sees entries, names and byte chunks, never C pointers or status codes.

/// Reads a zip file entry by entry through libarchive, streaming: at most one 64 KiB block of
/// member data is in memory at a time.
final class ZipReader {
  /// One member's header, as libarchive reports it.
  struct Entry {
    /// What kind of file system object a member is. Only `.regularFile` is ever extracted.
    enum Kind: Equatable {
      case regularFile, directory, symlink, hardlink
      /// Device files, FIFOs, sockets: their POSIX type bits (`S_IFMT`).
      case special(UInt32)
    }

    var path: String
    var kind: Kind
    /// The uncompressed size when the archive records it.
    var size: Int?
    /// The member's data or metadata is encrypted (ZIP traditional encryption or AES).
    var isEncrypted: Bool

    var isRegularFile: Bool { kind == .regularFile }
  }

  private let handle: OpaquePointer
  /// The zip's path as given, for messages.
  let file: String
  /// The member whose header was read last, for messages about its data.
  private var currentPath: String?

  /// Opens `url` as a zip. Throws when the file cannot be read or is not a zip.
  init(url: URL) throws {
    file = url.path
    guard let handle = archive_read_new() else {
      throw DataIOError(file: url.path, message: "cannot allocate a libarchive reader")
    }
    self.handle = handle
    archive_read_support_format_zip(handle)
    // libarchive happily "opens" a 0-byte file and only fails at the first header with a vague
    // message; the empty case is common enough (an interrupted download) to name it plainly.
    if let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
      (attributes[.size] as? NSNumber)?.intValue == 0
    {
      throw DataIOError(file: file, message: "not a zip archive (empty file)")
    }
    guard archive_read_open_filename(handle, url.path, 64 * 1024) == ARCHIVE_OK else {
      if !FileManager.default.fileExists(atPath: url.path) {
        throw DataIOError(file: file, message: "cannot open: no such file")
      }
      throw DataIOError(file: file, message: "not a zip archive (libarchive: \(lastError))")
    }
  }

  deinit { archive_read_free(handle) }

  private var lastError: String {
    archive_error_string(handle).map { String(cString: $0) } ?? "unknown error"
  }

  /// The next member's header, or nil at the end of the archive.
  func nextEntry() throws -> Entry? {
    var entry: OpaquePointer?
    let status = archive_read_next_header(handle, &entry)
    if status == ARCHIVE_EOF { return nil }
    // ARCHIVE_WARN still delivers a usable header (e.g. an unusual extra field); only worse stops.
    guard status >= ARCHIVE_WARN, let entry else {
      throw DataIOError(file: file, message: "corrupt zip archive (libarchive: \(lastError))")
    }
    let cPath = archive_entry_pathname_utf8(entry) ?? archive_entry_pathname(entry)
    let path = cPath.map { String(cString: $0) } ?? ""
    // The AE_IF* constants are cast macros that Swift does not import; their values are POSIX's.
    let kind: Entry.Kind
    if archive_entry_hardlink(entry) != nil {
      kind = .hardlink  // a hard link's own type bits may well say "regular file"
    } else {
      switch UInt32(archive_entry_filetype(entry)) & 0o170000 {
      case 0o100000: kind = .regularFile
      case 0o040000: kind = .directory
      case 0o120000: kind = .symlink
      case let other: kind = .special(other)
      }
    }
    let size = archive_entry_size_is_set(entry) != 0 ? Int(archive_entry_size(entry)) : nil
    let encrypted = archive_entry_is_encrypted(entry) != 0
    currentPath = path
    return Entry(path: path, kind: kind, size: size, isEncrypted: encrypted)
  }

  /// Streams the current member's data to `sink`, one chunk at a time, in order.
  func readData(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
    let capacity = 64 * 1024
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    defer { buffer.deallocate() }
    while true {
      let n = archive_read_data(handle, buffer, capacity)
      if n == 0 { return }
      guard n > 0 else {
        let member = currentPath.map { " in member \(DataIOError.quote($0.utf8, limit: 200))" } ?? ""
        throw DataIOError(file: file, message: "corrupt zip archive\(member) (libarchive: \(lastError))")
      }
      try sink(UnsafeRawBufferPointer(start: buffer, count: n))
    }
  }

  /// The current member's data as one array; for small members such as `.npy` arrays in a `.npz`.
  /// Throws when the data grows past `limit` bytes (whatever the header claimed).
  func readData(expectedSize: Int?, limit: Int) throws -> [UInt8] {
    var bytes: [UInt8] = []
    // Trust the recorded size only as a hint, and only up to a sane bound, so a lying header
    // cannot make us reserve gigabytes before any data arrives.
    if let expectedSize, expectedSize > 0 { bytes.reserveCapacity(min(expectedSize, limit, 1 << 30)) }
    try readData { chunk in
      guard chunk.count <= limit - bytes.count else {
        let member = DataIOError.quote((currentPath ?? "").utf8, limit: 200)
        throw DataIOError(file: file, message: "member \(member) expands past the \(limit)-byte limit")
      }
      bytes.append(contentsOf: chunk)
    }
    return bytes
  }
}

/// Writes a zip file through libarchive, member by member, with sizes recorded up front.
final class ZipWriter {
  private let handle: OpaquePointer
  private let file: String

  /// Starts writing a zip to the open descriptor `fd` (which the caller owns and closes).
  init(fd: Int32, file: String, compressed: Bool) throws {
    self.file = file
    guard let handle = archive_write_new() else {
      throw DataIOError(file: file, message: "cannot allocate a libarchive writer")
    }
    self.handle = handle
    archive_write_set_format_zip(handle)
    if compressed {
      archive_write_zip_set_compression_deflate(handle)
    } else {
      archive_write_zip_set_compression_store(handle)
    }
    // libarchive pads output to 10 KiB blocks by default (a tape heritage); a zip must end
    // exactly at its end-of-central-directory record.
    archive_write_set_bytes_in_last_block(handle, 1)
    guard archive_write_open_fd(handle, fd) == ARCHIVE_OK else { throw failure("cannot start the zip") }
  }

  deinit { archive_write_free(handle) }

  private func failure(_ what: String) -> DataIOError {
    let detail = archive_error_string(handle).map { String(cString: $0) } ?? "unknown error"
    return DataIOError(file: file, message: "\(what) (libarchive: \(detail))")
  }

  /// What `add` writes: a regular file (the only kind this project makes), or, for tests of the
  /// reader's defences, a directory or a link.
  enum MemberKind {
    case regularFile, directory
    case symlink(to: String)
    case hardlink(to: String)
  }

  /// Adds one member (a regular file unless `kind` says otherwise). Timestamps and owners are
  /// fixed so that the same members always make the same bytes: cached outputs are fingerprinted.
  func add(name: String, chunks: [UnsafeRawBufferPointer], kind: MemberKind = .regularFile) throws {
    guard let entry = archive_entry_new() else { throw failure("cannot allocate an entry") }
    defer { archive_entry_free(entry) }
    let size = chunks.reduce(0) { $0 + $1.count }
    archive_entry_set_pathname_utf8(entry, name)
    switch kind {
    case .regularFile: archive_entry_set_filetype(entry, 0o100000)  // S_IFREG
    case .directory: archive_entry_set_filetype(entry, 0o040000)  // S_IFDIR
    case .symlink(let target):
      archive_entry_set_filetype(entry, 0o120000)  // S_IFLNK
      archive_entry_set_symlink_utf8(entry, target)
    case .hardlink(let target):
      archive_entry_set_filetype(entry, 0o100000)
      archive_entry_set_hardlink_utf8(entry, target)
    }
    archive_entry_set_perm(entry, 0o644)
    archive_entry_set_size(entry, Int64(size))
    // The Unix epoch: libarchive converts mtime to a DOS date in *local* time, which would make
    // the bytes depend on the machine's time zone, but it clamps every date before 1980 to
    // 1980-01-01 00:00, and 1970 is before 1980 in every zone.
    archive_entry_set_mtime(entry, 0, 0)
    archive_entry_set_uid(entry, 0)
    archive_entry_set_gid(entry, 0)
    guard archive_write_header(handle, entry) == ARCHIVE_OK else { throw failure("cannot write member \(name)") }
    for chunk in chunks where chunk.count > 0 {
      var offset = 0
      while offset < chunk.count {
        let n = archive_write_data(handle, chunk.baseAddress! + offset, chunk.count - offset)
        guard n > 0 else { throw failure("cannot write member \(name)") }
        offset += n
      }
    }
    guard archive_write_finish_entry(handle) == ARCHIVE_OK else { throw failure("cannot write member \(name)") }
  }

  /// Writes the central directory. Must be called once, after the last member.
  func finish() throws {
    guard archive_write_close(handle) == ARCHIVE_OK else { throw failure("cannot finish the zip") }
  }
}

/// The libarchive this process linked, as it names itself with the libraries it was built with
/// (`archive_version_details`: "libarchive 3.6.2 zlib/1.2.13 liblzma/5.4.1 ...").
public let libarchiveVersion: String = String(cString: archive_version_details())
