/// The one error type of DataIO: a message that names the file and, for text files, the place.
///
/// `description` is a single line in the compiler's `file:line:column: message` shape, so a person
/// (or an editor) can jump straight to the offending byte:
///
///     train.csv:17:42: expected an integer 0-255, found "abc"
///     input/x.zip: no member named "test.csv" (members: train.csv, sample_submission.csv)
public struct DataIOError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The path or name as the caller gave it.
  public var file: String
  /// 1-based line number, for CSV.
  public var line: Int?
  /// 1-based character column within the line, for CSV.
  public var column: Int?
  /// What is wrong, without the location prefix.
  public var message: String

  public init(file: String, line: Int? = nil, column: Int? = nil, message: String) {
    self.file = file
    self.line = line
    self.column = column
    self.message = message
  }

  public var description: String {
    var place = file
    if let line {
      place += ":\(line)"
      if let column { place += ":\(column)" }
    }
    // Messages are built from quoted (escaped) text, but guard the one-line promise anyway:
    // a log line that wraps is a log line that gets misread.
    let oneLine = message.replacingOccurrences(of: "\n", with: "\\n")
      .replacingOccurrences(of: "\r", with: "\\r")
    return "\(place): \(oneLine)"
  }
}

extension DataIOError {
  /// Quotes untrusted text for a message: escaped like a Swift literal, cut to `limit` characters
  /// with an ellipsis, so a binary file or a 10 MB line cannot blow up a one-line error. Only the
  /// first few bytes are ever decoded, so quoting a huge field costs nothing.
  static func quote(_ bytes: some Collection<UInt8>, limit: Int = 40) -> String {
    // A character is at most 4 bytes (an invalid byte decodes to one replacement character), so
    // this prefix holds more than `limit` characters whenever it is not the whole text.
    let head = bytes.prefix(4 * limit + 4)
    let text = String(decoding: head, as: UTF8.self)
    if text.count <= limit && head.count == bytes.count { return text.debugDescription }
    return String(text.prefix(limit)).debugDescription + "…"
  }
}
