import DataIO
import Foundation

/// A small, learnable stand-in for the competition data, made in the test: digit k is a bright
/// horizontal bar on row 2k+4 over faint seeded noise, in Kaggle's CSV layout.
struct TinyDataset {
  var trainRows = 300
  var testRows = 40
  var seed: UInt64 = 7

  struct Row {
    var label: Int
    var pixels: [Int]
  }

  func rows(count: Int, salt: UInt64) -> [Row] {
    var state = seed &+ salt
    func next() -> UInt64 {  // splitmix64: enough for test data
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    return (0..<count).map { _ in
      let label = Int(next() % 10)
      var pixels = (0..<784).map { _ in Int(next() % 40) }
      let row = 2 * label + 4
      for column in 4..<24 { pixels[row * 28 + column] = 200 + Int(next() % 56) }
      return Row(label: label, pixels: pixels)
    }
  }

  var trainCSV: String {
    let header = "label," + (0..<784).map { "pixel\($0)" }.joined(separator: ",")
    let lines = rows(count: trainRows, salt: 1).map { row in
      ([row.label] + row.pixels).map(String.init).joined(separator: ",")
    }
    return ([header] + lines).joined(separator: "\n") + "\n"
  }

  var testCSV: String {
    let header = (0..<784).map { "pixel\($0)" }.joined(separator: ",")
    let lines = rows(count: testRows, salt: 2).map { row in row.pixels.map(String.init).joined(separator: ",") }
    return ([header] + lines).joined(separator: "\n") + "\n"
  }

  /// The labels of the test rows, which Kaggle keeps secret but a test may know.
  var testLabels: [Int] { rows(count: testRows, salt: 2).map(\.label) }
}




/// A deflated zip of the given members, as Kaggle's download is.
func writeZip(_ members: [String: Data], to url: URL) throws {
  let sorted = members.sorted { $0.key < $1.key }.map { (name: $0.key, bytes: [UInt8]($0.value)) }
  try ZipArchive.write(sorted, to: url, compressed: true)
}
