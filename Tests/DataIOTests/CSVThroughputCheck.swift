import Foundation
import Testing

@testable import DataIO

/// A by-hand throughput check, not a timed unit test: it runs only when `DIGITS_CSV_BENCH` names
/// a real train.csv, and it prints MB/s instead of asserting a number a busy machine could miss.
///
///     unzip -p input/digit-recognizer.zip train.csv > /tmp/train.csv
///     DIGITS_CSV_BENCH=/tmp/train.csv swift test -c release -Xswiftc -enable-testing \
///       --scratch-path .build --filter CSVThroughputCheck
///
/// (`-enable-testing` because the other test files use `@testable import`, which a release build
/// refuses without it.)
@Suite struct CSVThroughputCheck {
  static let path = ProcessInfo.processInfo.environment["DIGITS_CSV_BENCH"]

  @Test(.enabled(if: path != nil, "set DIGITS_CSV_BENCH to a train.csv to measure"))
  func parse_printsThroughputOnRealTrainCSV() throws {
    let url = URL(fileURLWithPath: Self.path!)
    let bytes = Array(try Data(contentsOf: url))
    let megabytes = Double(bytes.count) / 1e6
    var rows = 0
    // Best of 5: the machine is shared, and the best run is the one least disturbed by others.
    func best(chunks: Int?) throws -> Double {
      var best = Double.infinity
      for _ in 0..<5 {
        let start = ContinuousClock.now
        rows = try DigitCSV.parse(bytes: bytes, fileName: url.path, hasLabels: true, chunks: chunks).rowCount
        let elapsed = ContinuousClock.now - start
        best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
      }
      return best
    }
    for (label, chunks) in [("1 thread", 1), ("default split", nil)] as [(String, Int?)] {
      let seconds = try best(chunks: chunks)
      print(
        "DigitCSV \(label): \(rows) rows, \(String(format: "%.1f", megabytes)) MB in "
          + "\(String(format: "%.1f", seconds * 1000)) ms = \(Int(megabytes / seconds)) MB/s (best of 5, in memory)")
    }
    let fileStart = ContinuousClock.now
    let table: DigitTable? = try DigitCSV.parse(contentsOf: url, hasLabels: true)
    print("DigitCSV from disk, read included: \(ContinuousClock.now - fileStart)")
    #expect(table!.rowCount > 0)
  }
}
