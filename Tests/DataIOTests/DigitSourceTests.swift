import Foundation
import TestSupport
import Testing

@testable import DataIO

@Suite struct DigitSourceTests {
  private func touch(_ url: URL, _ text: String) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
  }

  @Test func locate_findsZipFolderAndCSVFiles() throws {
    try withTemporaryDirectory { directory in
      let zip = directory.appendingPathComponent("digits.zip")
      try HandMadeZip(files: [("train.csv", "a\n"), ("test.csv", "b\n")]).write(to: zip)
      #expect(try DigitSource.locate(zip) == .zip(zip))

      let folder = directory.appendingPathComponent("unzipped")
      let train = folder.appendingPathComponent("train.csv")
      let test = folder.appendingPathComponent("test.csv")
      try touch(train, "a\n")
      try touch(test, "b\n")
      #expect(try DigitSource.locate(folder) == .files(train: train, test: test))
      #expect(try DigitSource.locate(train) == .files(train: train, test: test))
      #expect(try DigitSource.locate(test) == .files(train: train, test: test))

      let other = directory.appendingPathComponent("other")
      try touch(other.appendingPathComponent("mnist_train.csv"), "a\n")
      try touch(other.appendingPathComponent("mnist_test.csv"), "b\n")
      #expect(
        try DigitSource.locate(other.appendingPathComponent("mnist_test.csv"))
          == .files(train: other.appendingPathComponent("mnist_train.csv"), test: other.appendingPathComponent("mnist_test.csv")))

      // A folder with just the download in it.
      let downloads = directory.appendingPathComponent("downloads")
      try touch(downloads.appendingPathComponent("digit-recognizer.zip"), "")
      #expect(try DigitSource.locate(downloads) == .zip(downloads.appendingPathComponent("digit-recognizer.zip")))
    }
  }

  @Test func locate_namesWhatIsMissing() throws {
    try withTemporaryDirectory { directory in
      #expect(expectDataIOError { _ = try DigitSource.locate(directory.appendingPathComponent("nope.zip")) }?.message.hasPrefix("no such file") == true)
      #expect(expectDataIOError { _ = try DigitSource.locate(directory) }?.message == "folder has no train.csv and test.csv")
      let train = directory.appendingPathComponent("train.csv")
      try touch(train, "a\n")
      #expect(expectDataIOError { _ = try DigitSource.locate(directory) }?.message == "folder has train.csv but no test.csv")
      let error = expectDataIOError { _ = try DigitSource.locate(train) }
      #expect(error == DataIOError(file: directory.appendingPathComponent("test.csv").path, message: "missing: train.csv needs it beside it"))
      let odd = directory.appendingPathComponent("digits.csv")
      try touch(odd, "")
      #expect(expectDataIOError { _ = try DigitSource.locate(odd) }?.message.hasPrefix("cannot tell whether") == true)
    }
  }

  @Test func unpack_writesBothFilesFromEitherSource() throws {
    try withTemporaryDirectory { directory in
      let zip = directory.appendingPathComponent("digits.zip")
      try HandMadeZip(files: [("digit-recognizer/train.csv", "a\n"), ("digit-recognizer/test.csv", "b\n")]).write(to: zip)
      let fromZip = directory.appendingPathComponent("fromZip")
      try FileManager.default.createDirectory(at: fromZip, withIntermediateDirectories: true)
      let unzipped = try DigitSource.locate(zip).unpack(into: fromZip)
      #expect(try String(contentsOf: unzipped.train, encoding: .utf8) == "a\n")
      #expect(try String(contentsOf: unzipped.test, encoding: .utf8) == "b\n")

      let copies = directory.appendingPathComponent("copies")
      try FileManager.default.createDirectory(at: copies, withIntermediateDirectories: true)
      let source = DigitSource.files(train: unzipped.train, test: unzipped.test)
      #expect(source.inputFiles == ["train": unzipped.train, "test": unzipped.test])
      let copied = try source.unpack(into: copies)
      #expect(copied.train == copies.appendingPathComponent("train.csv"))
      #expect(try String(contentsOf: copied.test, encoding: .utf8) == "b\n")
      #expect(try FileManager.default.contentsOfDirectory(atPath: copies.path).sorted() == ["test.csv", "train.csv"])

      // Over the limit: neither file appears.
      let limited = directory.appendingPathComponent("limited")
      try FileManager.default.createDirectory(at: limited, withIntermediateDirectories: true)
      #expect(expectDataIOError { _ = try source.unpack(into: limited, limits: .init(maxMemberBytes: 1)) } != nil)
      #expect(try FileManager.default.contentsOfDirectory(atPath: limited.path).isEmpty)
    }
  }
}
