import Foundation
import TestSupport
import Testing

@testable import DataIO

@Suite struct ZipArchiveTests {
  static let hasPython: Bool = (try? Python.run("import zipfile")) != nil

  private let members: [(name: String, bytes: [UInt8])] = [
    ("train.csv", Array("label,pixel0\n1,0\n".utf8)),
    ("test.csv", Array(repeating: UInt8(ascii: "7"), count: 200_000)),  // several 64 KiB blocks
    ("sample_submission.csv", Array("ImageId,Label\n".utf8)),
  ]

  @Test(arguments: [false, true])
  func extract_writesRequestedMembers(compressed: Bool) throws {
    try withTemporaryDirectory { directory in
      let zip = directory.appendingPathComponent("digits.zip")
      try ZipArchive.write(members, to: zip, compressed: compressed)
      #expect(try ZipArchive.memberNames(of: zip) == ["train.csv", "test.csv", "sample_submission.csv"])

      let out = directory.appendingPathComponent("out")
      try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
      let written = try ZipArchive.extract(members: ["test.csv", "train.csv"], from: zip, to: out)
      #expect(written == ["train.csv": out.appendingPathComponent("train.csv"), "test.csv": out.appendingPathComponent("test.csv")])
      #expect(try Data(contentsOf: written["train.csv"]!) == Data(members[0].bytes))
      #expect(try Data(contentsOf: written["test.csv"]!) == Data(members[1].bytes))
      // Only the requested files, and no temporary leftovers.
      #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted() == ["test.csv", "train.csv"])
    }
  }

  @Test func extract_createsSubdirectoriesForNestedMembers() throws {
    try withTemporaryDirectory { directory in
      let zip = directory.appendingPathComponent("nested.zip")
      try ZipArchive.write([("data/train.csv", [1, 2, 3])], to: zip)
      let written = try ZipArchive.extract(members: ["data/train.csv"], from: zip, to: directory)
      #expect(try Data(contentsOf: written["data/train.csv"]!) == Data([1, 2, 3]))
    }
  }

  @Test func extract_rejectsMissingMemberBeforeWritingAnything() throws {
    try withTemporaryDirectory { directory in
      let zip = directory.appendingPathComponent("x.zip")
      try ZipArchive.write([members[0], members[2]], to: zip)
      let out = directory.appendingPathComponent("out")
      try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
      let error = expectDataIOError { _ = try ZipArchive.extract(members: ["train.csv", "test.csv"], from: zip, to: out) }
      #expect(error == DataIOError(file: zip.path, message: #"no member named "test.csv" (members: train.csv, sample_submission.csv)"#))
      #expect(error?.description == #"\#(zip.path): no member named "test.csv" (members: train.csv, sample_submission.csv)"#)
      #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
    }
  }

  @Test func open_rejectsNonZipFile() throws {
    try withTemporaryDirectory { directory in
      let notZip = directory.appendingPathComponent("x.zip")
      try Data("label,pixel0\n1,0\n".utf8).write(to: notZip)
      let error = expectDataIOError { _ = try ZipArchive.memberNames(of: notZip) }
      #expect(error?.file == notZip.path)
      #expect(error?.message.hasPrefix("not a zip archive (libarchive: ") == true)
      #expect(expectDataIOError { _ = try ZipArchive.extract(members: ["a"], from: notZip, to: directory) } != nil)
    }
  }

  @Test func open_rejectsEmptyFile() throws {
    try withTemporaryDirectory { directory in
      let empty = directory.appendingPathComponent("empty.zip")
      try Data().write(to: empty)
      let error = expectDataIOError { _ = try ZipArchive.memberNames(of: empty) }
      #expect(error == DataIOError(file: empty.path, message: "not a zip archive (empty file)"))
    }
  }

  @Test func open_rejectsMissingFile() {
    let error = expectDataIOError { _ = try ZipArchive.memberNames(of: URL(fileURLWithPath: "/nonexistent/x.zip")) }
    #expect(error?.file == "/nonexistent/x.zip")
  }

  @Test func open_rejectsTruncatedZip() throws {
    try withTemporaryDirectory { directory in
      let zip = directory.appendingPathComponent("cut.zip")
      try ZipArchive.write(members, to: zip, compressed: true)
      let bytes = try Data(contentsOf: zip)
      try bytes.prefix(bytes.count / 2).write(to: zip)
      #expect(expectDataIOError { _ = try ZipArchive.extract(members: ["test.csv"], from: zip, to: directory) } != nil)
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["cut.zip"])
    }
  }

  @Test func write_rejectsDuplicateNames() throws {
    try withTemporaryDirectory { directory in
      let zip = directory.appendingPathComponent("d.zip")
      let error = expectDataIOError { try ZipArchive.write([("a", [1]), ("a", [2])], to: zip) }
      #expect(error?.message == #"duplicate member name "a""#)
      #expect(!FileManager.default.fileExists(atPath: zip.path))
    }
  }

  @Test(.enabled(if: hasPython, "needs python3"))
  func extract_readsPythonZipWithDirectoriesAndDeflate() throws {
    try withTemporaryDirectory { directory in
      let zip = directory.appendingPathComponent("py.zip")
      try Python.run(
        """
        import sys, zipfile
        with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
            z.writestr('data/', '')
            z.writestr('train.csv', 'label,pixel0\\n' * 1000)
            z.writestr('data/test.csv', 'x')
        """, arguments: [zip.path])
      #expect(try ZipArchive.memberNames(of: zip) == ["train.csv", "data/test.csv"])
      let written = try ZipArchive.extract(members: ["train.csv"], from: zip, to: directory)
      #expect(try String(contentsOf: written["train.csv"]!, encoding: .utf8) == String(repeating: "label,pixel0\n", count: 1000))
      let error = expectDataIOError { _ = try ZipArchive.extract(members: ["data/"], from: zip, to: directory) }
      #expect(error?.message.hasPrefix(#"no member named "data/""#) == true)
    }
  }

  @Test(.enabled(if: hasPython, "needs python3"))
  func write_makesZipsPythonReads() throws {
    try withTemporaryDirectory { directory in
      let zip = directory.appendingPathComponent("w.zip")
      try ZipArchive.write(members, to: zip, compressed: true)
      let output = try Python.run(
        """
        import sys, zipfile
        with zipfile.ZipFile(sys.argv[1]) as z:
            assert z.testzip() is None
            print(','.join(f'{i.filename}:{len(z.read(i))}' for i in z.infolist()))
        """, arguments: [zip.path])
      #expect(output == "train.csv:17,test.csv:200000,sample_submission.csv:14\n")
    }
  }
}
