import Foundation
import Testing

import DataIO

/// A by-hand throughput check, not a timed unit test: it runs only when `DIGITS_CSV_BENCH` names
/// a real train.csv, and it prints MB/s instead of asserting a number a busy machine could miss.
///
///     unzip -p input/digit-recognizer.zip train.csv > /tmp/train.csv
///     DIGITS_CSV_BENCH=/tmp/train.csv swift test -c release --scratch-path .build \
///       --filter CSVThroughputCheck
@Suite struct CSVThroughputCheck {
  static let path = ProcessInfo.processInfo.environment["DIGITS_CSV_BENCH"]

  @Test(.enabled(if: path != nil, "set DIGITS_CSV_BENCH to a train.csv to measure"))
  func parse_printsThroughputOnRealTrainCSV() throws {
    let url = URL(fileURLWithPath: Self.path!)
    let bytes = Array(try Data(contentsOf: url))
    var best = Double.infinity
    var table: DigitTable?
    for _ in 0..<5 {
      let start = ContinuousClock.now
      table = try DigitCSV.parse(bytes: bytes, fileName: url.path, hasLabels: true)
      let elapsed = ContinuousClock.now - start
      best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
    let fileStart = ContinuousClock.now
    _ = try DigitCSV.parse(contentsOf: url, hasLabels: true)
    let fileElapsed = ContinuousClock.now - fileStart
    let megabytes = Double(bytes.count) / 1e6
    print(
      "DigitCSV: \(table!.rowCount) rows, \(String(format: "%.1f", megabytes)) MB, best of 5 in memory "
        + "\(String(format: "%.1f", best * 1000)) ms = \(Int(megabytes / best)) MB/s; "
        + "from disk incl. read \(fileElapsed)")
    #expect(table!.rowCount > 0)
  }
}
