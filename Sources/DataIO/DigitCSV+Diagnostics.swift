/// The careful half of the CSV parser: header checks, and rows the fast path would not take.
///
/// Speed does not matter here (it runs on the header and on odd rows only); saying exactly what is
/// wrong and where does. Problems carry a 1-based character column; the caller adds the line.
enum CSVDiagnostics {
  struct Problem: Equatable {
    var column: Int
    var message: String
  }

  /// The line without one trailing '\r' (a CRLF file's line end).
  static func strippingCR(_ line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
    if let last = line.last, last == carriageReturn { return UnsafeBufferPointer(rebasing: line.dropLast()) }
    return line
  }

  /// 1-based character column of byte `offset` in `line`: UTF-8 continuation bytes do not start a
  /// character, so a stray "é" earlier in the line does not shift the column an editor shows.
  static func column(of offset: Int, in line: UnsafeBufferPointer<UInt8>) -> Int {
    line[..<offset].reduce(1) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
  }

  /// Byte ranges of the comma-separated fields of `line`.
  static func fields(of line: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
    var ranges: [Range<Int>] = []
    var start = 0
    for (offset, byte) in line.enumerated() where byte == comma {
      ranges.append(start..<offset)
      start = offset + 1
    }
    ranges.append(start..<line.count)
    return ranges
  }

  /// Nil when the header line (without its line end) is exactly the expected column names.
  static func checkHeader(_ line: UnsafeBufferPointer<UInt8>, layout: RowLayout) -> Problem? {
    let expected = layout.headerNames
    let found = fields(of: line)
    for (index, range) in found.enumerated() {
      let text = UnsafeBufferPointer(rebasing: line[range])
      guard index < expected.count else {
        return Problem(
          column: column(of: range.lowerBound, in: line),
          message: "bad header: expected \(expected.count) columns, found \(found.count); unexpected \(DataIOError.quote(text))")
      }
      if !text.elementsEqual(expected[index].utf8) {
        return Problem(
          column: column(of: range.lowerBound, in: line),
          message: "bad header: expected \(DataIOError.quote(expected[index].utf8)), found \(DataIOError.quote(text))")
      }
    }
    if found.count < expected.count {
      return Problem(
        column: column(of: line.count, in: line),
        message: "bad header: expected \(expected.count) columns, found \(found.count); missing \(DataIOError.quote(expected[found.count].utf8))")
    }
    return nil
  }

  /// Parses one data row (without its '\n') into `pixels`/`label`, or says what is wrong with it.
  ///
  /// The field count is checked first: when a row is ragged, "expected 785 fields, found 784" is
  /// the useful message, not a complaint about whichever field happens to be misaligned.
  static func parseRow(
    _ rawLine: UnsafeBufferPointer<UInt8>, layout: RowLayout,
    pixels: UnsafeMutablePointer<UInt8>, label: UnsafeMutablePointer<UInt8>?
  ) -> Problem? {
    let line = strippingCR(rawLine)
    if line.isEmpty {
      return Problem(column: 1, message: "blank line; expected \(layout.fieldCount) fields")
    }
    let ranges = fields(of: line)
    if ranges.count > layout.fieldCount {
      let extra = ranges[layout.fieldCount]
      return Problem(
        column: column(of: extra.lowerBound, in: line),
        message: "expected \(layout.fieldCount) fields, found \(ranges.count); extra field \(DataIOError.quote(line[extra]))")
    }
    if ranges.count < layout.fieldCount {
      let lastField = ranges[ranges.count - 1]
      return Problem(
        column: column(of: line.count, in: line),
        message: "expected \(layout.fieldCount) fields, found \(ranges.count); line ends after \(DataIOError.quote(line[lastField]))")
    }

    for (index, range) in ranges.enumerated() {
      let isLabel = layout.hasLabels && index == 0
      let (limit, expectation) = isLabel ? (9, "a label 0-9") : (255, "an integer 0-255")
      let text = line[range]
      if text.isEmpty {
        return Problem(column: column(of: range.lowerBound, in: line), message: "empty field; expected \(expectation)")
      }
      var value = 0
      for byte in text {
        let digit = Int(byte &- zero)
        guard digit <= 9 else {
          return Problem(column: column(of: range.lowerBound, in: line), message: "expected \(expectation), found \(DataIOError.quote(text))")
        }
        value = min(value * 10 + digit, 1_000)  // saturate: "99999999999999999999" must not overflow
      }
      guard value <= limit else {
        return Problem(column: column(of: range.lowerBound, in: line), message: "expected \(expectation), found \(DataIOError.quote(text))")
      }
      if isLabel {
        label?.pointee = UInt8(value)
      } else {
        pixels[index - (layout.hasLabels ? 1 : 0)] = UInt8(value)
      }
    }
    return nil
  }
}
