import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on an output folder, so two runs never build the same cache at once.
///
/// It is an `flock(2)` on `<output>/.lock`: the kernel releases it when the process exits, however
/// it exits, so a killed run never leaves a stale lock behind (DVC's most common complaint).
public final class OutputLock: Sendable {
  private let descriptor: Int32

  /// Takes the lock, waiting for another run to finish when `wait` is true (after calling
  /// `onWait` once), or throwing at once when it is false.
  public init(directory: URL, wait: Bool, onWait: () -> Void = {}) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let path = directory.appending(path: ".lock").path
    let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw PipelineError("\(path): cannot open the lock file (\(String(cString: strerror(errno))))")
    }
    if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
      guard errno == EWOULDBLOCK, wait else {
        close(descriptor)
        throw PipelineError("\(directory.path): another run is using this output folder")
      }
      onWait()
      while flock(descriptor, LOCK_EX) != 0 {
        guard errno == EINTR else {
          close(descriptor)
          throw PipelineError("\(path): cannot lock (\(String(cString: strerror(errno))))")
        }
      }
    }
    self.descriptor = descriptor
  }

  deinit {
    flock(descriptor, LOCK_UN)
    close(descriptor)
  }
}
