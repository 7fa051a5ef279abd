import Foundation
import TestSupport
import Testing

@testable import DataIO

/// Builds CSV text for tests: a header and rows of 784 pixels (plus a label), where pixel `j` of
/// row `i` is `(i * 31 + j) % 256`, so every value 0-255 and every digit count appears.
private struct CSVBuilder {
  var hasLabels: Bool
  var lineEnd = "\n"

  var header: String {
    ((hasLabels ? ["label"] : []) + (0..<784).map { "pixel\($0)" }).joined(separator: ",")
  }

  func pixels(row: Int) -> [UInt8] { (0..<784).map { UInt8((row * 31 + $0) % 256) } }

  func fields(row: Int) -> [String] {
    (hasLabels ? ["\(row % 10)"] : []) + pixels(row: row).map(String.init)
  }

  func text(rows: Int, trailingNewline: Bool = true, editRow: (Int, inout [String]) -> Void = { _, _ in }) -> String {
    var lines = [header]
    for row in 0..<rows {
      var fields = fields(row: row)
      editRow(row, &fields)
      lines.append(fields.joined(separator: ","))
    }
    return lines.joined(separator: lineEnd) + (trailingNewline ? lineEnd : "")
  }

  func expectedTable(rows: Int) -> DigitTable {
    DigitTable(
      rowCount: rows, pixels: (0..<rows).flatMap { pixels(row: $0) },
      labels: hasLabels ? (0..<rows).map { UInt8($0 % 10) } : nil)
  }
}

@Suite struct DigitCSVTests {
  private func parse(_ text: String, hasLabels: Bool = true, chunks: Int? = nil) throws -> DigitTable {
    try DigitCSV.parse(bytes: Array(text.utf8), fileName: "train.csv", hasLabels: hasLabels, chunks: chunks)
  }

  private func parseError(
    _ text: String, hasLabels: Bool = true, chunks: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation
  ) -> DataIOError? {
    expectDataIOError({ _ = try parse(text, hasLabels: hasLabels, chunks: chunks) }, sourceLocation: sourceLocation)
  }

  // MARK: Good input

  @Test func parse_readsLabelledRows() throws {
    let csv = CSVBuilder(hasLabels: true)
    #expect(try DigitCSV.parse(bytes: Array(csv.text(rows: 5).utf8), fileName: "t", hasLabels: true) == csv.expectedTable(rows: 5))
  }

  @Test func parse_readsUnlabelledRows() throws {
    let csv = CSVBuilder(hasLabels: false)
    let table = try parse(csv.text(rows: 3), hasLabels: false)
    #expect(table == csv.expectedTable(rows: 3))
    #expect(table.labels == nil)
  }

  @Test func parse_acceptsCRLFLineEnds() throws {
    let csv = CSVBuilder(hasLabels: true, lineEnd: "\r\n")
    #expect(try parse(csv.text(rows: 4)) == csv.expectedTable(rows: 4))
    #expect(try parse(csv.text(rows: 4, trailingNewline: false)) == csv.expectedTable(rows: 4))
  }

  @Test func parse_acceptsByteOrderMark() throws {
    let csv = CSVBuilder(hasLabels: false)
    #expect(try parse("\u{FEFF}" + csv.text(rows: 2), hasLabels: false) == csv.expectedTable(rows: 2))
  }

  @Test func parse_acceptsMissingTrailingNewline() throws {
    let csv = CSVBuilder(hasLabels: true)
    #expect(try parse(csv.text(rows: 3, trailingNewline: false)) == csv.expectedTable(rows: 3))
    #expect(try parse(csv.text(rows: 1, trailingNewline: false)) == csv.expectedTable(rows: 1))
  }

  @Test func parse_headerOnlyIsEmptyTable() throws {
    let labelled = CSVBuilder(hasLabels: true)
    #expect(try parse(labelled.header) == DigitTable(rowCount: 0, pixels: [], labels: []))
    #expect(try parse(labelled.header + "\r\n") == DigitTable(rowCount: 0, pixels: [], labels: []))
    let unlabelled = CSVBuilder(hasLabels: false)
    #expect(try parse(unlabelled.header + "\n", hasLabels: false) == DigitTable(rowCount: 0, pixels: [], labels: nil))
  }

  @Test func parse_acceptsLeadingZeros() throws {
    let csv = CSVBuilder(hasLabels: true)
    let text = csv.text(rows: 2) { row, fields in
      if row == 1 { fields[0] = "01"; fields[1] = "0000"; fields[784] = "00255" }
    }
    let table = try parse(text)
    #expect(table.labels == [0, 1])
    #expect(table.pixels[784] == 0)
    #expect(table.pixels[784 + 783] == 255)
  }

  @Test(arguments: [1, 2, 3, 7, 40])
  func parse_sameResultForAnyChunkCount(chunks: Int) throws {
    // Rows must come back in file order whatever the split, and an unusual row next to a seam
    // must still go through the slow path correctly.
    let csv = CSVBuilder(hasLabels: true, lineEnd: chunks % 2 == 0 ? "\r\n" : "\n")
    let text = csv.text(rows: 23, trailingNewline: chunks != 3) { row, fields in
      if row % 5 == 2 { fields[3] = "000" + fields[3] }
    }
    #expect(try parse(text, chunks: chunks) == csv.expectedTable(rows: 23))
  }

  @Test func parse_readsFileFromDisk() throws {
    let csv = CSVBuilder(hasLabels: false)
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("test.csv")
      try Data(csv.text(rows: 2).utf8).write(to: url)
      #expect(try DigitCSV.parse(contentsOf: url, hasLabels: false) == csv.expectedTable(rows: 2))
    }
  }

  // MARK: Errors, each with its exact place

  @Test func parse_rejectsEmptyFile() {
    let error = parseError("")
    #expect(error?.line == 1)
    #expect(error?.column == 1)
    #expect(error?.message.hasPrefix("empty file") == true)
    #expect(parseError("\u{FEFF}")?.message.hasPrefix("empty file") == true)
  }

  @Test func parse_rejectsMisspelledHeaderName() {
    let header = CSVBuilder(hasLabels: true).header.replacingOccurrences(of: "pixel2,", with: "pixle2,")
    let error = parseError(header + "\n")
    // "label,pixel0,pixel1," is 20 characters, so the bad name starts in column 21.
    #expect(error == DataIOError(file: "train.csv", line: 1, column: 21, message: #"bad header: expected "pixel2", found "pixle2""#))
    #expect(error?.description == #"train.csv:1:21: bad header: expected "pixel2", found "pixle2""#)
  }

  @Test func parse_rejectsTestHeaderWhenLabelsExpected() {
    let error = parseError(CSVBuilder(hasLabels: false).header + "\n")
    #expect(error == DataIOError(file: "train.csv", line: 1, column: 1, message: #"bad header: expected "label", found "pixel0""#))
  }

  @Test func parse_rejectsHeaderWithMissingOrExtraColumns() {
    let header = CSVBuilder(hasLabels: false).header
    let short = parseError(header.replacingOccurrences(of: ",pixel783", with: "") + "\n", hasLabels: false)
    #expect(short?.line == 1)
    #expect(short?.column == header.count - ",pixel783".count + 1)
    #expect(short?.message == #"bad header: expected 784 columns, found 783; missing "pixel783""#)
    let long = parseError(header + ",extra\r\n", hasLabels: false)
    #expect(long?.column == header.count + 2)
    #expect(long?.message == #"bad header: expected 784 columns, found 785; unexpected "extra""#)
  }

  @Test func parse_rejectsRaggedRowWithTooFewFields() {
    let csv = CSVBuilder(hasLabels: true)
    var shortLine = ""
    let text = csv.text(rows: 3) { row, fields in
      if row == 1 { fields.removeLast(); shortLine = fields.joined(separator: ",") }
    }
    let error = parseError(text)
    #expect(error?.line == 3)
    #expect(error?.column == shortLine.count + 1)
    #expect(error?.message == #"expected 785 fields, found 784; line ends after "45""#)
  }

  @Test func parse_rejectsRaggedRowWithTooManyFields() {
    let csv = CSVBuilder(hasLabels: true, lineEnd: "\r\n")
    var fullLine = ""
    let text = csv.text(rows: 2, trailingNewline: false) { row, fields in
      if row == 1 { fullLine = fields.joined(separator: ","); fields.append("7") }
    }
    let error = parseError(text)
    #expect(error?.line == 3)
    #expect(error?.column == fullLine.count + 2)
    #expect(error?.message == #"expected 785 fields, found 786; extra field "7""#)
  }

  @Test func parse_rejectsNonIntegerPixel() {
    let csv = CSVBuilder(hasLabels: true)
    // Row 2 is on line 4; fields[3] is its third pixel.
    let text = csv.text(rows: 4) { row, fields in if row == 2 { fields[3] = "abc" } }
    let column = csv.fields(row: 2)[0..<3].joined(separator: ",").count + 2
    let error = parseError(text)
    #expect(error == DataIOError(file: "train.csv", line: 4, column: column, message: #"expected an integer 0-255, found "abc""#))
    #expect(error?.description == #"train.csv:4:\#(column): expected an integer 0-255, found "abc""#)
  }

  @Test(arguments: ["-1", "+1", " 1", "1 ", "1e2", "1\r2", ".5", "1.2.3", "1.x", "\"1\"\"\"", "1\"2"])
  func parse_rejectsSignsDecimalsAndSpaces(bad: String) {
    let csv = CSVBuilder(hasLabels: false)
    let text = csv.text(rows: 1) { _, fields in fields[0] = bad }
    let error = parseError(text, hasLabels: false)
    #expect(error?.line == 2)
    #expect(error?.column == 1)
    #expect(error?.message == "expected an integer 0-255, found \(bad.debugDescription)")
  }

  @Test func parse_rejectsOutOfRangePixel() {
    let csv = CSVBuilder(hasLabels: false)
    let text = csv.text(rows: 2, trailingNewline: false) { row, fields in if row == 1 { fields[783] = "256" } }
    let error = parseError(text, hasLabels: false)
    #expect(error?.line == 3)
    #expect(error?.column == csv.fields(row: 1).dropLast().joined(separator: ",").count + 2)
    #expect(error?.message == #"expected an integer 0-255, found "256""#)
    // A huge number must not overflow on the way to being rejected.
    let huge = csv.text(rows: 1) { _, fields in fields[0] = "99999999999999999999999" }
    #expect(parseError(huge, hasLabels: false)?.message.hasPrefix("expected an integer 0-255") == true)
  }

  @Test func parse_rejectsLabelOutOfRange() {
    let csv = CSVBuilder(hasLabels: true)
    let text = csv.text(rows: 3) { row, fields in if row == 0 { fields[0] = "10" } }
    #expect(parseError(text) == DataIOError(file: "train.csv", line: 2, column: 1, message: #"expected a label 0-9, found "10""#))
    let letter = csv.text(rows: 1) { _, fields in fields[0] = "x" }
    #expect(parseError(letter)?.message == #"expected a label 0-9, found "x""#)
  }

  @Test func parse_rejectsEmptyField() {
    let csv = CSVBuilder(hasLabels: true)
    let text = csv.text(rows: 2) { row, fields in if row == 1 { fields[1] = "" } }
    // Line 3 is "1,,...": the empty field starts right after the label's comma.
    #expect(parseError(text) == DataIOError(file: "train.csv", line: 3, column: 3, message: "empty field; expected an integer 0-255"))
    let noLabel = csv.text(rows: 1) { _, fields in fields[0] = "" }
    #expect(parseError(noLabel) == DataIOError(file: "train.csv", line: 2, column: 1, message: "empty field; expected a label 0-9"))
  }

  @Test func parse_countsColumnsInCharactersNotBytes() {
    let csv = CSVBuilder(hasLabels: false)
    // "é" is 2 bytes but 1 character: the bad field after it starts in column 3, not 4.
    let text = csv.text(rows: 1) { _, fields in fields[0] = "é"; fields[1] = "x" }
    #expect(parseError(text, hasLabels: false)?.column == 1)
    let header = csv.header.replacingOccurrences(of: "pixel0,pixel1,", with: "pixel0é,pixel1,")
    #expect(parseError(header + "\n", hasLabels: false)?.column == 1)
    let later = "pixel0,é" + csv.header.dropFirst("pixel0,pixel1".count) + "\n"
    #expect(parseError(later, hasLabels: false)?.column == 8)
  }

  @Test func parse_reportsEarliestErrorAcrossChunks() {
    // Two bad rows far apart, so they land in different chunks; the first one in the file wins,
    // with its line counted across the rows of the chunks before it.
    let csv = CSVBuilder(hasLabels: true)
    let text = csv.text(rows: 30) { row, fields in
      if row == 17 || row == 27 { fields[5] = "bad" }
    }
    for chunks in [1, 2, 4] {
      #expect(parseError(text, chunks: chunks)?.line == 19)
    }
  }

  @Test func parse_quotesLongGarbageShortly() {
    let csv = CSVBuilder(hasLabels: false)
    let text = csv.text(rows: 1) { _, fields in fields[0] = String(repeating: "z", count: 1_000) }
    let message = parseError(text, hasLabels: false)?.message ?? ""
    #expect(message.count < 80)
    #expect(message.hasSuffix("…"))
  }

  // MARK: Blank lines (skipped), quotes and decimals (accepted when whole)

  @Test func parse_skipsBlankLinesAndKeepsLineNumbers() throws {
    let csv = CSVBuilder(hasLabels: true)
    let rows = (0..<3).map { csv.fields(row: $0).joined(separator: ",") }
    let text = csv.header + "\n" + rows[0] + "\n\n" + rows[1] + "\r\n\r\n" + rows[2] + "\n\n\n"
    for chunks in [1, 2, 3, 5] {
      #expect(try parse(text, chunks: chunks) == csv.expectedTable(rows: 3))
    }
    #expect(try parse(csv.header + "\n\n") == DigitTable(rowCount: 0, pixels: [], labels: []))
    // An error after blank lines names its real line: header, row, blank, blank, row, bad row.
    var bad = csv.fields(row: 5)
    bad[9] = "x"
    let withError = csv.header + "\n" + rows[0] + "\n\n\n" + rows[1] + "\n" + bad.joined(separator: ",") + "\n"
    for chunks in [1, 2, 4] {
      #expect(parseError(withError, chunks: chunks)?.line == 6)
    }
  }

  @Test func parse_acceptsQuotedFieldsAndHeader() throws {
    let csv = CSVBuilder(hasLabels: true, lineEnd: "\r\n")
    let quotedHeader = csv.header.split(separator: ",").map { "\"\($0)\"" }.joined(separator: ",")
    let text = csv.text(rows: 3) { row, fields in
      if row == 1 { fields = fields.map { "\"\($0)\"" } }
      if row == 2 { fields[0] = "\"\(fields[0])\""; fields[784] = "\"\(fields[784])\"" }
    }
    let expected = csv.expectedTable(rows: 3)
    #expect(try parse(text) == expected)
    #expect(try parse(quotedHeader + text[text.range(of: "\r\n")!.lowerBound...]) == expected)
  }

  @Test func parse_rejectsBrokenQuotes() {
    let csv = CSVBuilder(hasLabels: false)
    let open = parseError(csv.text(rows: 1) { _, fields in fields[2] = "\"12" }, hasLabels: false)
    #expect(open?.line == 2)
    #expect(open?.column == csv.fields(row: 0)[0..<2].joined(separator: ",").count + 2)
    #expect(open?.message.hasPrefix(#"unterminated quoted field "\"12,"#) == true)
    #expect(open?.message.hasSuffix("…; quoted fields cannot span lines") == true)
    let after = parseError(csv.text(rows: 1) { _, fields in fields[0] = "\"12\"3" }, hasLabels: false)
    #expect(after == DataIOError(file: "train.csv", line: 2, column: 5, message: #"unexpected text after the closing quote of "\"12\""; expected a comma"#))
    let empty = parseError(csv.text(rows: 1) { _, fields in fields[1] = "\"\"" }, hasLabels: false)
    #expect(empty?.message == "empty field; expected an integer 0-255")
  }

  @Test func parse_acceptsWholeDecimals() throws {
    let csv = CSVBuilder(hasLabels: true)
    let text = csv.text(rows: 2) { row, fields in
      if row == 1 { fields[0] = "1.0"; fields[1] = "\(fields[1])."; fields[2] = "\"\(fields[2]).000\""; fields[784] = "0255.000" }
    }
    let table = try parse(text)
    var expected = csv.expectedTable(rows: 2)
    expected.pixels[784 + 783] = 255
    #expect(table == expected)
  }

  @Test func parse_rejectsFractionsByName() {
    let csv = CSVBuilder(hasLabels: true)
    let pixel = parseError(csv.text(rows: 1) { _, fields in fields[1] = "12.5" })
    #expect(pixel == DataIOError(file: "train.csv", line: 2, column: 3, message: #"expected an integer 0-255, found "12.5", which is not a whole number"#))
    let label = parseError(csv.text(rows: 1) { _, fields in fields[0] = "1.01" })
    #expect(label?.message == #"expected a label 0-9, found "1.01", which is not a whole number"#)
    let big = parseError(csv.text(rows: 1) { _, fields in fields[1] = "256.0" })
    #expect(big?.message == #"expected an integer 0-255, found "256.0""#)
  }

  // MARK: Trailing commas, NUL bytes, huge lines, other headers

  @Test func parse_namesTrailingComma() {
    let csv = CSVBuilder(hasLabels: true)
    var line = ""
    let row = parseError(csv.text(rows: 2) { row, fields in if row == 1 { line = fields.joined(separator: ","); fields.append("") } })
    #expect(row == DataIOError(file: "train.csv", line: 3, column: line.count + 1, message: "trailing comma: expected 785 fields, found 786 (the last one empty)"))
    let header = parseError(csv.header + ",\n")
    #expect(header?.column == csv.header.count + 1)
    #expect(header?.message == #"bad header: trailing comma after "pixel783" makes an empty column 786; expected 785 columns"#)
  }

  @Test func parse_rejectsNULWithItsPosition() {
    let csv = CSVBuilder(hasLabels: false)
    let text = csv.text(rows: 2) { row, fields in if row == 1 { fields[3] = "1\u{0}2" } }
    let error = parseError(text, hasLabels: false)
    #expect(error?.line == 3)
    #expect(error?.column == csv.fields(row: 1)[0..<3].joined(separator: ",").count + 3)
    #expect(error?.message.hasPrefix("NUL byte (0x00)") == true)
    // UTF-16 text is full of NULs; the header says so first.
    #expect(parseError("p\u{0}i\u{0}x\u{0}", hasLabels: false)?.column == 2)
  }

  @Test func parse_rejectsMegabyteLineQuicklyAndShortly() {
    let csv = CSVBuilder(hasLabels: true)
    // 500,000 fields on one line, and then a 1 MB field without a single comma.
    let many = csv.header + "\n" + String(repeating: "1,", count: 500_000) + "1\n"
    let start = ContinuousClock.now
    let error = parseError(many)
    #expect(error?.line == 2)
    #expect(error?.message == #"expected 785 fields, found 500001; extra field "1""#)
    let one = csv.header + "\n" + String(repeating: "7", count: 1 << 20) + "\n"
    let single = parseError(one)
    #expect(single?.message == #"expected 785 fields, found 1; line ends after "7777777777777777777777777777777777777777"…"#)
    #expect((single?.description.count ?? .max) < 120)
    #expect(ContinuousClock.now - start < .seconds(5))
  }

  @Test func parse_acceptsOneBasedPixelNames() throws {
    for hasLabels in [true, false] {
      let csv = CSVBuilder(hasLabels: hasLabels)
      let header = ((hasLabels ? ["label"] : []) + (1...784).map { "pixel\($0)" }).joined(separator: ",")
      let body = csv.text(rows: 2).drop(while: { $0 != "\n" })
      #expect(try parse(header + body, hasLabels: hasLabels) == csv.expectedTable(rows: 2))
    }
    // One numbering throughout: pixel1 then pixel1 again is wrong.
    let mixed = "label,pixel1,pixel1" + (3...784).map { ",pixel\($0)" }.joined() + "\n"
    #expect(parseError(mixed)?.message == #"bad header: expected "pixel2", found "pixel1""#)
  }

  @Test func parse_namesMissingFile() {
    let error = expectDataIOError {
      _ = try DigitCSV.parse(contentsOf: URL(fileURLWithPath: "/nonexistent/train.csv"), hasLabels: true)
    }
    #expect(error?.file == "/nonexistent/train.csv")
  }
}
