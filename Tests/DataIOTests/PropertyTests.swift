import Foundation
import PropertyBased
import TestSupport
import Testing

@testable import DataIO

/// SplitMix64: a tiny seeded generator, so a property's input is fully determined by the seeds
/// PropertyBased picks (and prints on failure).
private struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Writes `table` as CSV text the way some writer might: every choice the parser promises to
/// accept is made at random (line ends, BOM, quoting, whole decimals, leading zeros, blank lines,
/// pixel numbering, a missing final newline).
private func formatCSV(_ table: DigitTable, using rng: inout SplitMix) -> [UInt8] {
  func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
  let crlf = chance(0.5)
  let quoteAll = chance(0.2)
  let messy = chance(0.5)  // per-field variety below
  func field(_ text: String) -> String {
    var text = text
    if messy && chance(0.05) { text = "0" + text }
    if messy && chance(0.05) { text += [".", ".0", ".000"].randomElement(using: &rng)! }
    return quoteAll || (messy && chance(0.05)) ? "\"\(text)\"" : text
  }
  let firstPixel = chance(0.3) ? 1 : 0
  var lines: [String] = []
  let names = (table.labels != nil ? ["label"] : []) + (0..<784).map { "pixel\($0 + firstPixel)" }
  lines.append(names.map(field).joined(separator: ","))
  for row in 0..<table.rowCount {
    if messy && chance(0.1) { lines.append("") }
    var fields: [String] = []
    if let labels = table.labels { fields.append(field(String(labels[row]))) }
    for pixel in table.pixels[(row * 784)..<((row + 1) * 784)] { fields.append(field(String(pixel))) }
    lines.append(fields.joined(separator: ","))
  }
  let end = crlf ? "\r\n" : "\n"
  var text = lines.joined(separator: end)
  if chance(0.8) { text += end }
  if messy && chance(0.2) { text += end }
  return (chance(0.3) ? [0xEF, 0xBB, 0xBF] : []) + Array(text.utf8)
}

private func randomTable(rows: Int, hasLabels: Bool, using rng: inout SplitMix) -> DigitTable {
  // Mostly small values (like real digits: many 0s), some of every width.
  let pixels = (0..<(rows * 784)).map { _ in
    Bool.random(using: &rng) ? 0 : UInt8.random(in: 0...255, using: &rng)
  }
  let labels = hasLabels ? (0..<rows).map { _ in UInt8.random(in: 0...9, using: &rng) } : nil
  return DigitTable(rowCount: rows, pixels: pixels, labels: labels)
}

@Suite struct PropertyTests {
  @Test func csv_formatThenParseIsIdentity() async {
    await propertyCheck(count: 40, input: Gen.int(in: 0...6), Gen.bool, Gen.uint64(in: 0 ... .max), Gen.int(in: 1...4)) {
      rows, hasLabels, seed, chunks throws in
      var rng = SplitMix(state: seed)
      let table = randomTable(rows: rows, hasLabels: hasLabels, using: &rng)
      let bytes = formatCSV(table, using: &rng)
      #expect(try DigitCSV.parse(bytes: bytes, fileName: "p.csv", hasLabels: hasLabels, chunks: chunks) == table)
    }
  }

  @Test func csv_anyBytesGiveATableOrAOneLineError() async {
    // Damage a valid file at random: the parser must return (any table) or throw a DataIOError
    // with a place inside the file; never crash, never another error type.
    await propertyCheck(count: 150, input: Gen.uint64(in: 0 ... .max), Gen.int(in: 1...5)) { seed, edits in
      var rng = SplitMix(state: seed)
      let table = randomTable(rows: 3, hasLabels: true, using: &rng)
      var bytes = formatCSV(table, using: &rng)
      let alphabet = Array("0123456789,\"\r\n.\u{0} -x".utf8)
      for _ in 0..<edits where !bytes.isEmpty {
        let at = Int.random(in: 0..<bytes.count, using: &rng)
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: bytes[at] = alphabet.randomElement(using: &rng)!
        case 1: bytes.remove(at: at)
        default: bytes.insert(alphabet.randomElement(using: &rng)!, at: at)
        }
      }
      do {
        let parsed = try DigitCSV.parse(bytes: bytes, fileName: "p.csv", hasLabels: true, chunks: Int.random(in: 1...3, using: &rng))
        #expect(parsed.pixels.count == parsed.rowCount * 784)
      } catch let error as DataIOError {
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
        #expect((1...max(1, lines)).contains(error.line ?? 0), "\(error)")
        #expect(!error.description.contains("\n"))
      } catch {
        Issue.record("unexpected error type: \(error)")
      }
    }
  }

  @Test func npy_encodeThenDecodeIsIdentity() async {
    let descrs = ["|u1", "|i1", "<u2", "<i2", "<u4", "<i4", "<u8", "<i8", "<f4", "<f8", "|b1", "<U3"]
    await propertyCheck(count: 100, input: Gen.int(in: 0...4).array(of: 0...4), Gen.int(in: 0...(descrs.count - 1)), Gen.uint64(in: 0 ... .max)) {
      shape, descrIndex, seed throws in
      let descr = descrs[descrIndex]
      var rng = SplitMix(state: seed)
      let itemSize = DType(descr)!.itemSize
      let bytes = (0..<(shape.reduce(1, *) * itemSize)).map { _ in UInt8.random(in: 0...255, using: &rng) }
      let array = NumpyArray(shape: shape, descr: descr, rawBytes: bytes)
      let encoded = NumpyFile.encode(array)
      #expect(encoded.count % 64 == bytes.count % 64)  // numpy's alignment: the data starts on a 64-byte boundary
      #expect(try NumpyFile.decode(encoded, fileName: "p.npy") == array)
      // Any cut of the file is an error, never a crash or a wrong array.
      let cut = Int.random(in: 0..<encoded.count, using: &rng)
      #expect(throws: DataIOError.self) { try NumpyFile.decode(Array(encoded[..<cut]), fileName: "p.npy") }
    }
  }

  @Test func npz_writeThenReadIsIdentity() async throws {
    try await withTemporaryDirectoryAsync { directory in
      await propertyCheck(count: 20, input: Gen.int(in: 0...3), Gen.uint64(in: 0 ... .max)) { count, seed throws in
        var rng = SplitMix(state: seed)
        let arrays = (0..<count).map { index in
          let shape = (0..<Int.random(in: 0...3, using: &rng)).map { _ in Int.random(in: 0...5, using: &rng) }
          let values = (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1...1, using: &rng) }
          return (name: "a\(index)", array: NumpyArray(shape: shape, values: values))
        }
        let url = directory.appendingPathComponent("p.npz")
        try NumpyArchive.write(arrays, to: url)
        let read = try NumpyArchive.read(from: url)
        #expect(read.map(\.name) == arrays.map(\.name))
        #expect(read.map(\.array) == arrays.map(\.array))
      }
    }
  }
}

/// `withTemporaryDirectory` for an async body.
func withTemporaryDirectoryAsync<R>(_ body: (URL) async throws -> R) async throws -> R {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("DataIOTests-\(UUID().uuidString)", isDirectory: true)
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: url) }
  return try await body(url)
}
