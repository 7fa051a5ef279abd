import Foundation
import Pipeline

/// Prints run events on standard error, keeping standard output for results (tables, JSON).
/// On a terminal, progress redraws one status line in place; otherwise (a log file, CI,
/// `TERM=dumb`) progress is dropped, every other event is a plain line, and nothing is an escape.
final class ConsoleReporter: Reporter, @unchecked Sendable {
  enum Verbosity: Sendable {
    /// Warnings only.
    case quiet
    case normal
    /// Normal, and the command adds what it computes on and where each entry is.
    case verbose
  }

  private let lock = NSLock()
  private let verbosity: Verbosity
  private let redrawsInPlace = ConsoleReporter.isInteractive
  private var statusLineShown = false

  init(verbosity: Verbosity = .normal) { self.verbosity = verbosity }

  /// Standard error is a terminal that understands escapes.
  static var isInteractive: Bool {
    isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
  }

  func report(_ event: RunEvent) {
    lock.lock()
    defer { lock.unlock() }
    if case .warning(let message) = event {
      clearStatusLine()
      Self.printError("warning: \(message)")
      return
    }
    guard verbosity != .quiet else { return }
    switch event {
    case .stageSkipped(let stage, let fingerprint):
      line("[\(stage)] cached (\(fingerprint.short))")
    case .stageStarted(let stage, let fingerprint, let reason):
      line("[\(stage)] running: \(reason) (\(fingerprint.short))")
    case .stageFinished(let stage, let seconds):
      line(String(format: "[%@] done in %.1fs", stage, seconds))
    case .log(let stage, let message):
      line("[\(stage)] \(message)")
    case .progress(let stage, let message):
      guard redrawsInPlace else { return }
      FileHandle.standardError.write(Data("\r\u{1B}[2K[\(stage)] \(message)".utf8))
      statusLineShown = true
    case .info(let message):
      line(message)
    case .warning:
      break  // printed above, whatever the verbosity
    }
  }

  /// Ends a status line left on screen, before the summary is printed.
  func finishLine() {
    lock.lock()
    defer { lock.unlock() }
    clearStatusLine()
  }

  static func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
  }

  private func line(_ text: String) {
    clearStatusLine()
    Self.printError(text)
  }

  private func clearStatusLine() {
    guard statusLineShown else { return }
    FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    statusLineShown = false
  }
}
