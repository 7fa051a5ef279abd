import DigitsPipeline
import Foundation
import Pipeline
import Testing

/// The submission format's check: what `pipeline submit` refuses before anything is uploaded.
@Suite struct SubmissionTests {
  func labels(_ text: String, rows: Int = 3) throws -> [Int] {
    try Submission.labels(in: Data(text.utf8), file: "s.csv", rows: rows)
  }

  /// The check's one-line error for `text`.
  func error(_ text: String, rows: Int = 3) -> String {
    do {
      _ = try labels(text, rows: rows)
      return "no error"
    } catch {
      return "\(error)"
    }
  }

  @Test func whatThePredictStageWrites_passes() throws {
    #expect(try labels(Submission.csv(labels: [3, 0, 9])) == [3, 0, 9])
    let many = (0..<Submission.kaggleRows).map { $0 % 10 }
    #expect(try labels(Submission.csv(labels: many), rows: Submission.kaggleRows) == many)
  }

  @Test func eachError_namesTheFileAndLine() {
    #expect(error("") == "s.csv:1: empty; a submission starts with the header ImageId,Label")
    #expect(error("ImageId,Label\n1,3\n2,0\n3,9") == "s.csv:4: no newline at the end of the file (was it cut short?)")
    #expect(error("Id,Label\n1,3\n2,0\n3,9\n") == #"s.csv:1: the header is "Id,Label", expected ImageId,Label"#)
    #expect(error("ImageId,Label\r\n1,3\r\n") == #"s.csv:1: the header is "ImageId,Label\r", expected ImageId,Label"#)
    #expect(error("ImageId,Label\n1,3\n2,0\n") == "s.csv:4: the file ends after 2 rows, expected 3 (ImageId 1 to 3)")
    #expect(error("ImageId,Label\n1,3\n2,0\n3,9\n4,1\n") == "s.csv:5: a row after the 3 expected (ImageId 1 to 3)")
    #expect(error("ImageId,Label\n1,3\n2,12\n3,9\n") == "s.csv:3: label 12 is not a digit 0-9")
    #expect(error("ImageId,Label\n1,3\n2,x\n3,9\n") == #"s.csv:3: "2,x" is not ImageId,Label (two whole numbers)"#)
    #expect(error("ImageId,Label\n1,3\n2,0,1\n3,9\n") == #"s.csv:3: "2,0,1" is not ImageId,Label (two whole numbers)"#)
    #expect(error("ImageId,Label\n1,3\n-2,0\n3,9\n") == #"s.csv:3: "-2,0" is not ImageId,Label (two whole numbers)"#)
    #expect(error("ImageId,Label\n1,3\n3,9\n2,0\n") == "s.csv:3: ImageId 3 where 2 belongs (ImageIds count 1, 2, 3, … in order)")
    #expect(error("ImageId,Label\n1,3\n\n3,9\n") == #"s.csv:3: "" is not ImageId,Label (two whole numbers)"#)
  }
}
