import Dispatch
import Foundation

/// The rows of a Kaggle digit CSV file: 28×28 greyscale images, one per row.
public struct DigitTable: Sendable, Equatable {
  /// Number of images (data rows; the header is not counted).
  public var rowCount: Int
  /// `rowCount * 784` pixel values, row-major: image `i` is `pixels[i*784 ..< (i+1)*784]`.
  public var pixels: [UInt8]
  /// `rowCount` labels 0...9 when the file has a label column (train.csv), else nil (test.csv).
  public var labels: [UInt8]?

  public init(rowCount: Int, pixels: [UInt8], labels: [UInt8]?) {
    precondition(pixels.count == rowCount * DigitCSV.pixelCount, "pixels must hold rowCount * 784 values")
    precondition(labels.map { $0.count == rowCount } ?? true, "labels must hold rowCount values")
    self.rowCount = rowCount
    self.pixels = pixels
    self.labels = labels
  }
}

/// Parser for Kaggle's Digit Recognizer CSV files.
///
/// train.csv has the header `label,pixel0,...,pixel783`, test.csv has `pixel0,...,pixel783`; every
/// other line is one image. The format is strict and the files are big (train.csv is 73 MB), so the
/// parser is a hand-written single pass over the bytes:
///
/// - a fast path per row that handles only the common shape (1-3 digit fields, `,` separators,
///   `\n` or `\r\n` ends) and bails out on anything else;
/// - a slow path that re-reads a bailed-out row field by field and either accepts it (leading
///   zeros, quotes, `12.0`, a blank line) or names exactly what is wrong and where.
///
/// Rows are split into chunks at line boundaries and parsed concurrently; each chunk writes its
/// own slice of the output, so the result does not depend on scheduling, and when several chunks
/// hold errors the one earliest in the file is reported.
///
/// Accepted:
/// - a UTF-8 byte order mark before the header, `\r\n` line ends, a missing newline after the
///   last row, a header-only file (rowCount 0);
/// - pixel columns named `pixel1`...`pixel784` instead of `pixel0`...`pixel783` (other MNIST CSV
///   exports number them so);
/// - RFC 4180 quoting: `"12"` is 12, and header names may be quoted too (a quoted field may not
///   span lines);
/// - whole numbers written as decimals: `12.0`, `12.`, `255.000`;
/// - blank lines (empty, or a lone `\r`), anywhere after the header: they are skipped, not rows,
///   and later errors still name the right line. A trailing blank line is what many editors
///   leave; one in the middle is most likely a concatenation seam, and refusing the whole file
///   over it would help nobody.
///
/// Rejected with a `DataIOError` naming line and column and quoting the text (cut to 40
/// characters): an empty file, a header that is not the expected names, a row with too few or too
/// many fields (checked before the fields themselves; a trailing comma is named as such), an
/// empty field, a pixel that is not an integer 0-255 (signs, spaces, exponents, `12.5`), a label
/// not in 0-9, a NUL byte, an unterminated quote or text after a closing quote.
public enum DigitCSV {
  /// Pixels per image: 28 × 28.
  public static let pixelCount = 784
  /// Label classes: the digits 0-9.
  public static let classCount = 10

  /// Parses train.csv (header `label,pixel0,...,pixel783`) when `hasLabels`, else test.csv
  /// (header `pixel0,...,pixel783`). Errors name the file by `url.path`.
  public static func parse(contentsOf url: URL, hasLabels: Bool) throws -> DigitTable {
    let bytes = try FileIO.readAll(url)
    return try parse(bytes: bytes, fileName: url.path, hasLabels: hasLabels)
  }

  /// Same, on bytes already in memory; `fileName` is used in error messages.
  public static func parse(bytes: [UInt8], fileName: String, hasLabels: Bool) throws -> DigitTable {
    try parse(bytes: bytes, fileName: fileName, hasLabels: hasLabels, chunks: nil)
  }

  /// `chunks` forces the number of concurrently parsed pieces (tests use it to exercise the
  /// chunk seams on small inputs); nil picks one by size and core count.
  static func parse(bytes: [UInt8], fileName: String, hasLabels: Bool, chunks: Int?) throws -> DigitTable {
    let layout = RowLayout(hasLabels: hasLabels)
    return try bytes.withUnsafeBufferPointer { buffer in
      try parse(buffer, layout: layout, fileName: fileName, chunks: chunks)
    }
  }

  // MARK: - Whole file

  private static func parse(_ buffer: UnsafeBufferPointer<UInt8>, layout: RowLayout, fileName: String, chunks: Int?) throws -> DigitTable {
    let end = buffer.count
    var start = 0
    if end >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { start = 3 }
    guard start < end else {
      throw DataIOError(file: fileName, line: 1, column: 1, message: "empty file; expected the header \(layout.headerSummary)")
    }

    // Header: line 1.
    var headerEnd = start
    while headerEnd < end && buffer[headerEnd] != newline { headerEnd += 1 }
    let headerLine = UnsafeBufferPointer(rebasing: buffer[start..<headerEnd])
    if let problem = CSVDiagnostics.checkHeader(CSVDiagnostics.strippingCR(headerLine), layout: layout) {
      throw DataIOError(file: fileName, line: 1, column: problem.column, message: problem.message)
    }
    let bodyStart = min(headerEnd + 1, end)

    // Body: lines that end in '\n' are parsed in place; an unterminated last line is copied with a
    // '\n' appended, so the row parser can always rely on a '\n' ahead and never bounds-check.
    var lastNewline = end - 1
    while lastNewline >= bodyStart && buffer[lastNewline] != newline { lastNewline -= 1 }
    let terminated = UnsafeBufferPointer(rebasing: buffer[bodyStart..<(lastNewline + 1)])
    let tailBytes = Array(buffer[(lastNewline + 1)..<end]) + (lastNewline + 1 < end ? [newline] : [])

    return try tailBytes.withUnsafeBufferPointer { tail in
      var regions = split(terminated, parts: chunks ?? chunkCount(for: terminated.count))
      if tail.count > 0 { regions.append(tail) }
      return try parseRegions(regions, layout: layout, fileName: fileName)
    }
  }

  /// Two chunks per core is pointless on a 2-core machine that is shared; one per core, and
  /// none below a few MB, where thread start-up would cost more than it saves.
  private static func chunkCount(for byteCount: Int) -> Int {
    let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
    return max(1, min(cores, 8, byteCount / (4 << 20)))
  }

  /// Splits `region` (which ends in '\n') into about `parts` pieces, each ending in '\n'.
  private static func split(_ region: UnsafeBufferPointer<UInt8>, parts: Int) -> [UnsafeBufferPointer<UInt8>] {
    guard region.count > 0 else { return [] }
    var pieces: [UnsafeBufferPointer<UInt8>] = []
    var start = 0
    for part in 1..<max(parts, 1) {
      var cut = max(start, region.count * part / parts)
      while cut < region.count && region[cut] != newline { cut += 1 }
      guard cut < region.count - 1 else { break }
      pieces.append(UnsafeBufferPointer(rebasing: region[start...cut]))
      start = cut + 1
    }
    pieces.append(UnsafeBufferPointer(rebasing: region[start...]))
    return pieces
  }

  /// What one chunk produced: its row count and line count (blank lines are lines, not rows),
  /// or the first bad line in it.
  private struct ChunkResult {
    var rows = 0
    var lines = 0
    var problem: (line: Int, column: Int, message: String)?
  }

  private static func parseRegions(_ regions: [UnsafeBufferPointer<UInt8>], layout: RowLayout, fileName: String) throws -> DigitTable {
    // A valid row is at least 2 bytes per field ("0," ... "0\n"), which bounds the rows in a chunk,
    // so each chunk can own a fixed slice of the output before anyone knows the real counts.
    let capacities = regions.map { $0.count / (2 * layout.fieldCount) + 1 }
    let firstRow = capacities.reduce(into: [0]) { $0.append($0.last! + $1) }
    let maxRows = firstRow.last!
    var results = [ChunkResult](repeating: ChunkResult(), count: regions.count)
    var labels = layout.hasLabels ? [UInt8](repeating: 0, count: maxRows) : []
    var rowCount = 0

    var pixels = [UInt8](unsafeUninitializedCapacity: maxRows * pixelCount) { pixelBuffer, initialized in
      labels.withUnsafeMutableBufferPointer { labelBuffer in
        results.withUnsafeMutableBufferPointer { resultBuffer in
          let job = ChunkJob(
            regions: regions, layout: layout, capacities: capacities, firstRow: firstRow,
            results: resultBuffer.baseAddress!, pixels: pixelBuffer.baseAddress!, labels: layout.hasLabels ? labelBuffer.baseAddress : nil)
          if regions.count > 1 {
            DispatchQueue.concurrentPerform(iterations: regions.count) { job.run($0) }
          } else if regions.count == 1 {
            job.run(0)
          }
        }
        // Close the gaps between chunks' slices. Stop at the first chunk with an error: the
        // caller throws, and the rows after it do not matter.
        for (index, result) in results.enumerated() {
          if firstRow[index] != rowCount {
            (pixelBuffer.baseAddress! + rowCount * pixelCount).update(
              from: pixelBuffer.baseAddress! + firstRow[index] * pixelCount, count: result.rows * pixelCount)
            if layout.hasLabels {
              (labelBuffer.baseAddress! + rowCount).update(from: labelBuffer.baseAddress! + firstRow[index], count: result.rows)
            }
          }
          rowCount += result.rows
          if result.problem != nil { break }
        }
      }
      initialized = rowCount * pixelCount
    }

    var linesBefore = 0
    for result in results {
      if let problem = result.problem {
        // Line 1 is the header, so body line l (0-based) of the file is line l + 2.
        throw DataIOError(file: fileName, line: linesBefore + problem.line + 2, column: problem.column, message: problem.message)
      }
      linesBefore += result.lines
    }
    if pixels.capacity > pixels.count * 2 { pixels = Array(pixels) }  // do not keep a mostly-empty allocation alive
    if layout.hasLabels { labels.removeSubrange(rowCount...) }
    return DigitTable(rowCount: rowCount, pixels: pixels, labels: layout.hasLabels ? labels : nil)
  }

  // MARK: - One chunk

  /// Everything the worker threads need, in one value. `@unchecked Sendable` because it carries raw
  /// pointers: sound here because chunk `i` writes only `results[i]` and its own output slice.
  private struct ChunkJob: @unchecked Sendable {
    var regions: [UnsafeBufferPointer<UInt8>]
    var layout: RowLayout
    var capacities: [Int]
    var firstRow: [Int]
    var results: UnsafeMutablePointer<ChunkResult>
    var pixels: UnsafeMutablePointer<UInt8>
    var labels: UnsafeMutablePointer<UInt8>?

    func run(_ index: Int) {
      results[index] = parseChunk(
        regions[index], layout: layout, capacity: capacities[index],
        pixels: pixels + firstRow[index] * pixelCount,
        labels: labels.map { $0 + firstRow[index] })
    }
  }

  /// Parses the rows of `region` (which ends in '\n') into consecutive slots of `pixels`/`labels`.
  private static func parseChunk(
    _ region: UnsafeBufferPointer<UInt8>, layout: RowLayout, capacity: Int,
    pixels: UnsafeMutablePointer<UInt8>, labels: UnsafeMutablePointer<UInt8>?
  ) -> ChunkResult {
    guard var p = region.baseAddress, region.count > 0 else { return ChunkResult() }
    let end = p + region.count
    var row = 0
    var line = 0
    while p < end {
      precondition(row < capacity, "row bound violated")  // cannot happen: see parseRegions
      let rowPixels = pixels + row * pixelCount
      let rowLabel = labels.map { $0 + row }
      if let next = parseRowFast(p, pixels: rowPixels, label: rowLabel) {
        p = next
        row += 1
      } else {
        // Unusual or bad row: find its end and let the careful parser decide.
        var lineEnd = p
        while lineEnd.pointee != newline { lineEnd += 1 }
        let text = UnsafeBufferPointer(start: p, count: lineEnd - p)
        switch CSVDiagnostics.parseRow(text, layout: layout, pixels: rowPixels, label: rowLabel) {
        case .row: row += 1
        case .blank: break
        case .problem(let problem): return ChunkResult(rows: row, lines: line, problem: (line, problem.column, problem.message))
        }
        p = lineEnd + 1
      }
      line += 1
    }
    return ChunkResult(rows: row, lines: line)
  }

  /// The hot loop: one row of 1-3 digit fields. Returns the start of the next line, or nil when
  /// the row is anything but plain (the slow path then re-reads it from the start).
  ///
  /// Safe without bounds checks because the region always ends in '\n': every read past a byte
  /// happens only after that byte was seen to be a digit, ',' or '\r', so never past the '\n'.
  @inline(__always)
  private static func parseRowFast(
    _ start: UnsafePointer<UInt8>, pixels: UnsafeMutablePointer<UInt8>, label: UnsafeMutablePointer<UInt8>?
  ) -> UnsafePointer<UInt8>? {
    var p = start
    if let label {
      let digit = p[0] &- zero
      guard digit <= 9, p[1] == comma else { return nil }
      label.pointee = digit
      p += 2
    }
    for index in 0..<pixelCount {
      // `byte &- zero <= 9` is the one-compare digit test: bytes below '0' wrap to large values.
      var value = UInt32(p[0] &- zero)
      guard value <= 9 else { return nil }
      let d1 = UInt32(p[1] &- zero)
      if d1 <= 9 {
        value = value &* 10 &+ d1
        let d2 = UInt32(p[2] &- zero)
        if d2 <= 9 {
          value = value &* 10 &+ d2
          guard value <= 255, p[3] &- zero > 9 else { return nil }
          p += 3
        } else {
          p += 2
        }
      } else {
        p += 1
      }
      pixels[index] = UInt8(truncatingIfNeeded: value)
      if index < pixelCount - 1 {
        guard p[0] == comma else { return nil }
        p += 1
      }
    }
    if p[0] == newline { return p + 1 }
    if p[0] == carriageReturn && p[1] == newline { return p + 2 }
    return nil
  }
}

// MARK: - Shared constants

let newline = UInt8(ascii: "\n")
let carriageReturn = UInt8(ascii: "\r")
let comma = UInt8(ascii: ",")
let zero = UInt8(ascii: "0")
let quote = UInt8(ascii: "\"")
let dot = UInt8(ascii: ".")

/// Which columns a row has: an optional label, then the 784 pixels.
struct RowLayout: Sendable {
  var hasLabels: Bool
  var fieldCount: Int { DigitCSV.pixelCount + (hasLabels ? 1 : 0) }
  /// The column names, with the pixels numbered from `firstPixel` (0 as Kaggle, or 1).
  func headerNames(firstPixel: Int = 0) -> [String] {
    (hasLabels ? ["label"] : []) + (0..<DigitCSV.pixelCount).map { "pixel\($0 + firstPixel)" }
  }
  var headerSummary: String { hasLabels ? "label,pixel0,...,pixel783" : "pixel0,...,pixel783" }
}
