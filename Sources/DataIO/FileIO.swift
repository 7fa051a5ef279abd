import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain POSIX file reads and writes, kept in one place.
///
/// Why not `Data(contentsOf:)` / `Data.write`: the CSV and `.npy` files are tens to hundreds of MB,
/// and going through `Data` costs an extra full copy each way. Why temp-then-rename: a reader (or a
/// crashed run) must never see a half-written file under its final name.
enum FileIO {
  /// The whole file as bytes, read straight into the array's storage.
  static func readAll(_ url: URL) throws -> [UInt8] {
    let path = url.path
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw posixError(path, "cannot open for reading") }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw posixError(path, "cannot stat") }
    let size = Int(info.st_size)
    var failure: DataIOError?
    let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
      count = 0
      while count < size {
        let n = read(fd, buffer.baseAddress! + count, size - count)
        if n < 0 && errno == EINTR { continue }
        if n < 0 { failure = posixError(path, "cannot read"); return }
        if n == 0 { break }  // the file shrank under us: return what is there
        count += n
      }
    }
    if let failure { throw failure }
    return bytes
  }

  /// Creates a temporary file beside `url`, lets `body` write into its descriptor, then renames it
  /// onto `url`. On any error the temporary file is removed and `url` is left untouched.
  static func writeAtomically(to url: URL, _ body: (Int32) throws -> Void) throws {
    let file = try PendingFile(url)
    do {
      try body(file.fd)
    } catch {
      file.discard()
      throw error
    }
    try file.commit()
  }

  /// A file being written under a temporary name beside its final one (`.name.partial-XXXXXX`), so
  /// that several files can be written first and renamed into place together, all or nothing.
  /// Dropped without `commit()`, it removes itself: no error path can leave a partial file behind.
  final class PendingFile {
    let url: URL
    private(set) var fd: Int32
    private let tempPath: String
    private var finished = false

    init(_ url: URL) throws {
      self.url = url
      let directory = url.deletingLastPathComponent().path
      var template = Array("\(directory)/.\(url.lastPathComponent).partial-XXXXXX".utf8CString)
      fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
      guard fd >= 0 else { throw posixError(url.path, "cannot create a temporary file in \(directory)") }
      tempPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    deinit { discard() }

    /// Closes the file and renames it onto `url`.
    func commit() throws {
      precondition(!finished, "a pending file is committed or discarded once")
      // mkstemp makes 0600 files; outputs are ordinary data files, so give them the usual 0644.
      fchmod(fd, 0o644)
      let closed = close(fd) == 0
      fd = -1
      guard closed else { discard(); throw posixError(url.path, "cannot write") }
      guard rename(tempPath, url.path) == 0 else {
        let error = posixError(url.path, "cannot rename into place")
        discard()
        throw error
      }
      finished = true
    }

    /// Closes and removes the temporary file; `url` is left untouched. Safe to call twice.
    func discard() {
      guard !finished else { return }
      finished = true
      if fd >= 0 { close(fd) }
      fd = -1
      unlink(tempPath)
    }
  }

  /// Writes all of `bytes`, retrying short writes (pipes, signals, full page caches all cause them).
  static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
    guard var base = bytes.baseAddress else { return }
    var remaining = bytes.count
    while remaining > 0 {
      let n = write(fd, base, remaining)
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { throw posixError(path, "cannot write") }
      base += n
      remaining -= n
    }
  }

  static func posixError(_ path: String, _ what: String) -> DataIOError {
    DataIOError(file: path, message: "\(what): \(String(cString: strerror(errno)))")
  }
}
