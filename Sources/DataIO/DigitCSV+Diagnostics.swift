/// The careful half of the CSV parser: the header, and every row the fast path would not take.
///
/// Speed matters less here (it runs on the header and on unusual rows only); accepting what a
/// reasonable CSV writer produces, and saying exactly what is wrong and where, matter more. Still,
/// everything is linear in the line's length, so a megabyte-long line costs a millisecond, and
/// nothing allocates per field, so a file quoted throughout (pandas' `quoting=QUOTE_ALL`) parses
/// at a useful speed. Problems carry a 1-based character column; the caller adds the line.
enum CSVDiagnostics {
  struct Problem: Error, Equatable {
    var column: Int
    var message: String
  }

  /// What the careful parser made of a data line.
  enum RowOutcome: Equatable {
    /// A valid row, now in the output.
    case row
    /// An empty line (or a lone '\r'): skipped, not a row.
    case blank
    case problem(Problem)
  }

  /// One field of a line: `raw` is its whole text (quotes included), `content` the text inside
  /// the quotes. Doubled quotes inside a quoted field are left doubled in `content`: no valid
  /// pixel or column name contains a quote, so they are never worth unescaping.
  struct Field: Equatable {
    var raw: Range<Int>
    var content: Range<Int>
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

  /// The fields of `line` (without its line end), RFC 4180 style: a field that starts with `"`
  /// runs to the next lone `"`, and `""` inside it is a literal quote. A quoted field cannot span
  /// lines here (no pixel value needs a newline). A trailing comma makes a last, empty field.
  static func fields(of line: UnsafeBufferPointer<UInt8>) -> Result<[Field], Problem> {
    var fields: [Field] = []
    let count = line.count
    var i = 0
    while true {
      let start = i
      if i < count && line[i] == quote {
        i += 1
        while true {
          guard i < count else {
            return .failure(Problem(
              column: column(of: start, in: line),
              message: "unterminated quoted field \(DataIOError.quote(line[start...])); quoted fields cannot span lines"))
          }
          if line[i] == quote {
            if i + 1 < count && line[i + 1] == quote {
              i += 2
              continue
            }
            break
          }
          i += 1
        }
        fields.append(Field(raw: start..<(i + 1), content: (start + 1)..<i))
        i += 1
        if i < count && line[i] != comma {
          return .failure(Problem(
            column: column(of: i, in: line),
            message: "unexpected text after the closing quote of \(DataIOError.quote(line[start..<i])); expected a comma"))
        }
      } else {
        while i < count && line[i] != comma { i += 1 }
        fields.append(Field(raw: start..<i, content: start..<i))
      }
      if i == count { return .success(fields) }
      i += 1  // the comma
    }
  }

  /// A NUL byte means a binary or damaged file (or a UTF-16 one); say so instead of complaining
  /// about whichever field it lands in.
  static func nulProblem(_ line: UnsafeBufferPointer<UInt8>) -> Problem? {
    guard let offset = line.firstIndex(of: 0) else { return nil }
    return Problem(column: column(of: offset, in: line), message: "NUL byte (0x00): binary, damaged or UTF-16 text, not a UTF-8 CSV file")
  }

  /// Nil when the header line (without its line end) names the expected columns: `label` first
  /// when there are labels, then `pixel0`...`pixel783`, or `pixel1`...`pixel784` as some MNIST
  /// CSV exports number them. Names may be quoted.
  static func checkHeader(_ line: UnsafeBufferPointer<UInt8>, layout: RowLayout) -> Problem? {
    if let problem = nulProblem(line) { return problem }
    let found: [Field]
    switch fields(of: line) {
    case .success(let fields): found = fields
    case .failure(let problem): return Problem(column: problem.column, message: "bad header: " + problem.message)
    }
    // The numbering follows the first pixel column's name.
    let firstPixel = layout.hasLabels ? 1 : 0
    let oneBased = found.count > firstPixel && line[found[firstPixel].content].elementsEqual("pixel1".utf8)
    let expected = layout.headerNames(firstPixel: oneBased ? 1 : 0)

    if found.count == expected.count + 1, found.last!.raw.isEmpty {
      let comma = found.last!.raw.lowerBound - 1
      return Problem(
        column: column(of: comma, in: line),
        message: "bad header: trailing comma after \(DataIOError.quote(expected.last!.utf8)) makes an empty column \(found.count); expected \(expected.count) columns")
    }
    for (index, field) in found.enumerated() {
      let text = line[field.content]
      guard index < expected.count else {
        return Problem(
          column: column(of: field.raw.lowerBound, in: line),
          message: "bad header: expected \(expected.count) columns, found \(found.count); unexpected \(DataIOError.quote(text))")
      }
      if !text.elementsEqual(expected[index].utf8) {
        return Problem(
          column: column(of: field.raw.lowerBound, in: line),
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

  /// Parses one data line (without its '\n') into `pixels`/`label`, skips it when blank, or says
  /// what is wrong with it.
  ///
  /// Accepted beyond the fast path's plain digits: leading zeros, quoted fields (`"12"`), and
  /// whole numbers written as decimals (`12.0`, `12.`, `255.000`). The field count is checked
  /// before the fields: when a row is ragged, "expected 785 fields, found 784" is the useful
  /// message, not a complaint about whichever field happens to be misaligned.
  static func parseRow(
    _ rawLine: UnsafeBufferPointer<UInt8>, layout: RowLayout,
    pixels: UnsafeMutablePointer<UInt8>, label: UnsafeMutablePointer<UInt8>?
  ) -> RowOutcome {
    let line = strippingCR(rawLine)
    if line.isEmpty { return .blank }
    if let problem = nulProblem(line) { return .problem(problem) }
    let found: [Field]
    switch fields(of: line) {
    case .success(let fields): found = fields
    case .failure(let problem): return .problem(problem)
    }
    let expected = layout.fieldCount
    if found.count == expected + 1, found.last!.raw.isEmpty {
      let comma = found.last!.raw.lowerBound - 1
      return .problem(Problem(
        column: column(of: comma, in: line),
        message: "trailing comma: expected \(expected) fields, found \(found.count) (the last one empty)"))
    }
    if found.count > expected {
      let extra = found[expected].raw
      return .problem(Problem(
        column: column(of: extra.lowerBound, in: line),
        message: "expected \(expected) fields, found \(found.count); extra field \(DataIOError.quote(line[extra]))"))
    }
    if found.count < expected {
      return .problem(Problem(
        column: column(of: line.count, in: line),
        message: "expected \(expected) fields, found \(found.count); line ends after \(DataIOError.quote(line[found.last!.raw]))"))
    }

    for (index, field) in found.enumerated() {
      let isLabel = layout.hasLabels && index == 0
      let (limit, expectation) = isLabel ? (DigitCSV.classCount - 1, "a label 0-9") : (255, "an integer 0-255")
      let where_ = column(of: field.raw.lowerBound, in: line)
      if field.content.isEmpty {
        return .problem(Problem(column: where_, message: "empty field; expected \(expectation)"))
      }
      let value: Int
      switch number(in: line[field.content]) {
      case .whole(let whole) where whole <= limit: value = whole
      case .fraction:
        return .problem(Problem(column: where_, message: "expected \(expectation), found \(DataIOError.quote(line[field.raw])), which is not a whole number"))
      default:
        return .problem(Problem(column: where_, message: "expected \(expectation), found \(DataIOError.quote(line[field.raw]))"))
      }
      if isLabel {
        label?.pointee = UInt8(value)
      } else {
        pixels[index - (layout.hasLabels ? 1 : 0)] = UInt8(value)
      }
    }
    return .row
  }

  enum Number: Equatable {
    /// A whole number, saturated at 1,000 (anything that large is out of range anyway).
    case whole(Int)
    /// A well-formed decimal with a non-zero fraction, like `12.5`.
    case fraction
    case notANumber
  }

  /// Reads `digits[.digits]`: `12`, `012`, `12.`, `12.000` are whole; `12.5` is a fraction;
  /// signs, spaces, exponents and a leading `.` are not numbers.
  static func number(in text: Slice<UnsafeBufferPointer<UInt8>>) -> Number {
    var i = text.startIndex
    var value = 0
    while i < text.endIndex, text[i] &- zero <= 9 {
      value = min(value * 10 + Int(text[i] &- zero), 1_000)  // saturate: "99999999999999999999" must not overflow
      i += 1
    }
    guard i > text.startIndex else { return .notANumber }
    guard i < text.endIndex else { return .whole(value) }
    guard text[i] == dot else { return .notANumber }
    i += 1
    var fractional = false
    while i < text.endIndex, text[i] &- zero <= 9 {
      fractional = fractional || text[i] != zero
      i += 1
    }
    guard i == text.endIndex else { return .notANumber }
    return fractional ? .fraction : .whole(value)
  }
}
