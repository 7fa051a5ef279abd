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
    let finalPath = url.path
    let directory = url.deletingLastPathComponent().path
    var template = Array("\(directory)/.\(url.lastPathComponent).partial-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { throw posixError(finalPath, "cannot create a temporary file in \(directory)") }
    let tempPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    var renamed = false
    defer { if !renamed { unlink(tempPath) } }
    do {
      try body(fd)
    } catch {
      close(fd)
      throw error
    }
    // mkstemp makes 0600 files; outputs are ordinary data files, so give them the usual 0644.
    fchmod(fd, 0o644)
    guard close(fd) == 0 else { throw posixError(finalPath, "cannot write") }
    guard rename(tempPath, finalPath) == 0 else { throw posixError(finalPath, "cannot rename into place") }
    renamed = true
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
