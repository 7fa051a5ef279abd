import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An `flock(2)` lock on one file, shared or exclusive. The kernel releases it when the process
/// exits, however it exits, so a killed run never leaves a stale lock behind (DVC's most common
/// complaint). On a network file system Linux maps flock onto the server's byte-range locks
/// (NFSv4, or NLM for NFSv3), so processes on different machines exclude each other too.
public final class FileLock: @unchecked Sendable {
  public enum Mode: Sendable { case shared, exclusive }

  public let path: String
  /// The lock file's name, without its folder.
  public var name: String { URL(filePath: path).lastPathComponent }
  private let descriptor: Int32

  /// Opens (creating) the file; takes no lock yet.
  public init(path: String) throws {
    let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw PipelineError("\(path): cannot open the lock file (\(String(cString: strerror(errno))))")
    }
    self.path = path
    self.descriptor = descriptor
  }

  /// Takes the lock in `mode`, or converts the one held to it. Returns false when `wait` is
  /// false and another process's lock conflicts. A conversion is not atomic on Linux: the lock
  /// held is dropped first, so after a refused one nothing is held, and another process may
  /// take the lock in between.
  @discardableResult
  public func lock(_ mode: Mode, wait: Bool) throws -> Bool {
    let operation = mode == .shared ? LOCK_SH : LOCK_EX
    while flock(descriptor, operation | (wait ? 0 : LOCK_NB)) != 0 {
      if errno == EINTR { continue }
      if errno == EWOULDBLOCK && !wait { return false }
      throw PipelineError("\(path): cannot lock (\(String(cString: strerror(errno))))")
    }
    return true
  }

  /// Lets go of the lock (the file stays open, to be locked again).
  public func unlock() { flock(descriptor, LOCK_UN) }

  deinit {
    flock(descriptor, LOCK_UN)
    close(descriptor)
  }
}

/// An exclusive lock on an output folder (`<output>/.lock`), held while a run writes the
/// folder's own files (submission.csv, metrics.json, the report), all of them at once, so the
/// folder holds one run's set at a time.
public final class OutputLock: Sendable {
  private let file: FileLock

  /// Takes the lock, waiting for another run to finish when `wait` is true (after calling
  /// `onWait` once), or throwing at once when it is false.
  public init(directory: URL, wait: Bool, onWait: () -> Void = {}) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    file = try FileLock(path: directory.appending(path: ".lock").path)
    if try !file.lock(.exclusive, wait: false) {
      guard wait else { throw PipelineError("\(directory.path): another run is using this output folder") }
      onWait()
      try file.lock(.exclusive, wait: true)
    }
  }
}
