import Foundation

/// What the runner and the stages tell the user, as events; the command line decides how they
/// look (a redrawn status line on a terminal, plain lines in a log).
public enum RunEvent: Sendable {
  case stageSkipped(stage: String, fingerprint: Fingerprint)
  case stageStarted(stage: String, fingerprint: Fingerprint, reason: String)
  case stageFinished(stage: String, seconds: Double)
  case log(stage: String, message: String)
  case progress(stage: String, message: String)
  case warning(String)
  case info(String)
}

public protocol Reporter: Sendable {
  func report(_ event: RunEvent)
}

/// Drops every event; for tests and library callers that only want the result.
public struct SilentReporter: Reporter {
  public init() {}
  public func report(_ event: RunEvent) {}
}
