import Foundation
import Pipeline

/// Prints run events: on a terminal, progress redraws one status line in place; otherwise
/// (a log file, CI) progress is dropped and every other event is a plain line.
final class ConsoleReporter: Reporter, @unchecked Sendable {
  private let lock = NSLock()
  private let isTerminal = isatty(STDOUT_FILENO) == 1
  private var statusLineShown = false

  func report(_ event: RunEvent) {
    lock.lock()
    defer { lock.unlock() }
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
      guard isTerminal else { return }
      let text = "[\(stage)] \(message)"
      FileHandle.standardOutput.write(Data("\r\u{1B}[2K\(text)".utf8))
      statusLineShown = true
    case .warning(let message):
      clearStatusLine()
      Self.printError("warning: \(message)")
    case .info(let message):
      line(message)
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
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
  }

  private func clearStatusLine() {
    guard statusLineShown else { return }
    FileHandle.standardOutput.write(Data("\r\u{1B}[2K".utf8))
    statusLineShown = false
  }
}
