import DataIO
import Foundation
import Pipeline
import Tensor

/// Kaggle's Digit Recognizer submission format: what the predict stage writes, and what
/// `pipeline submit` checks before it uploads a file.
public enum Submission {
  public static let header = "ImageId,Label"
  /// The competition, as Kaggle's addresses and its command line name it.
  public static let competition = "digit-recognizer"
  /// The rows Kaggle scores: its test.csv has 28,000 images, and it refuses a file with any other
  /// count.
  public static let kaggleRows = 28_000

  /// The most probable class of each row (the first, on a tie).
  public static func labels(from probabilities: Tensor) -> [Int] { argmaxRows(probabilities) }

  /// `ImageId,Label` then one line per test row, ImageId counting from 1, LF line endings.
  public static func csv(labels: [Int]) -> String {
    var text = header + "\n"
    text.reserveCapacity(16 * labels.count)
    for (index, label) in labels.enumerated() {
      text += "\(index + 1),\(label)\n"
    }
    return text
  }

  /// The labels of a submission, checked line by line against what ``csv(labels:)`` writes: the
  /// header, then exactly `rows` lines `ImageId,Label`, ImageId 1, 2, 3, … in order and Label a
  /// digit 0-9, every line ending in LF.
  /// - Throws: a ``PipelineError`` `file:line: what is wrong` at the first line that is.
  public static func labels(in data: Data, file: String, rows: Int) throws -> [Int] {
    func failure(_ line: Int, _ problem: String) -> PipelineError { PipelineError("\(file):\(line): \(problem)") }
    var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    guard !data.isEmpty else { throw failure(1, "empty; a submission starts with the header \(header)") }
    if let last = lines.popLast(), !last.isEmpty {
      throw failure(lines.count + 1, "no newline at the end of the file (was it cut short?)")
    }
    guard String(decoding: lines[0], as: UTF8.self) == header else {
      throw failure(1, "the header is \(quoted(lines[0])), expected \(header)")
    }
    let classes = 0..<DigitCSV.classCount
    var labels: [Int] = []
    labels.reserveCapacity(rows)
    for (offset, line) in lines.dropFirst().enumerated() {
      let number = offset + 2
      guard labels.count < rows else {
        throw failure(number, "a row after the \(rows) expected (ImageId 1 to \(rows))")
      }
      let fields = line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
      guard fields.count == 2, let id = decimal(fields[0]), let label = decimal(fields[1]) else {
        throw failure(number, "\(quoted(line)) is not ImageId,Label (two whole numbers)")
      }
      guard id == offset + 1 else {
        throw failure(number, "ImageId \(id) where \(offset + 1) belongs (ImageIds count 1, 2, 3, … in order)")
      }
      guard classes.contains(label) else {
        throw failure(number, "label \(label) is not a digit \(classes.lowerBound)-\(classes.upperBound - 1)")
      }
      labels.append(label)
    }
    guard labels.count == rows else {
      throw failure(lines.count + 1, "the file ends after \(labels.count) rows, expected \(rows) (ImageId 1 to \(rows))")
    }
    return labels
  }

  /// Digits only: no sign, no spaces, at most nine of them.
  private static func decimal(_ bytes: Data.SubSequence) -> Int? {
    guard (1...9).contains(bytes.count), bytes.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
      return nil
    }
    return bytes.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
  }

  /// A line as Swift would write it, escapes and all (a stray CR shows as \r), cut to 40 characters.
  private static func quoted(_ bytes: Data.SubSequence) -> String {
    let text = String(decoding: bytes, as: UTF8.self)
    return String(reflecting: text.count <= 40 ? text : String(text.prefix(39)) + "…")
  }
}
