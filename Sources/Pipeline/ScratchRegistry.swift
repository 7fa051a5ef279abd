import Foundation

/// The temporary files and folders a run is building right now, so that an interrupted process
/// (Ctrl-C, SIGTERM) can remove them before it exits and leave the cache as it was.
///
/// Shared between the thread running a stage and the thread handling the signal, hence the lock.
public final class ScratchRegistry: @unchecked Sendable {
  private let lock = NSLock()
  private var paths: Set<URL> = []

  public init() {}

  func register(_ url: URL) { lock.withLock { _ = paths.insert(url) } }
  func unregister(_ url: URL) { lock.withLock { _ = paths.remove(url) } }

  /// Removes everything registered; returns what it removed. Safe to call from any thread.
  @discardableResult
  public func removeAll() -> [URL] {
    let removed = lock.withLock {
      defer { paths.removeAll() }
      return Array(paths)
    }
    for url in removed { try? FileManager.default.removeItem(at: url) }
    return removed
  }
}
