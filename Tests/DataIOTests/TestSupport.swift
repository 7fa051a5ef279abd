import Foundation
import Testing

@testable import DataIO


/// Runs `body`, records an issue unless it throws a `DataIOError`, and returns that error for
/// field-by-field checks.
func expectDataIOError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> DataIOError? {
  do {
    try body()
    Issue.record("expected a DataIOError, but nothing was thrown", sourceLocation: sourceLocation)
    return nil
  } catch let error as DataIOError {
    return error
  } catch {
    Issue.record("expected a DataIOError, got \(error)", sourceLocation: sourceLocation)
    return nil
  }
}

