import Foundation
import TestSupport
import Testing

@testable import DataIO

/// Hostile and damaged archives: each is refused with a one-line error naming the archive and the
/// member, and nothing is written, inside the destination or out of it.
@Suite struct ZipArchiveHostileTests {
  private let wanted = ["train.csv", "test.csv"]

  /// Writes `zip` into a fresh directory, extracts `wanted` into `<dir>/out`, and returns the
  /// error; checks that `out` is still empty and nothing appeared beside it.
  private func refusal(
    _ zip: HandMadeZip, members: [String]? = nil, limits: ZipArchive.Limits = .default,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> DataIOError? {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("x.zip")
      try zip.write(to: url)
      return try refusal(url, members: members, limits: limits, sourceLocation: sourceLocation)
    }
  }

  private func refusal(
    _ url: URL, members: [String]? = nil, limits: ZipArchive.Limits = .default,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> DataIOError? {
    let directory = url.deletingLastPathComponent()
    let out = directory.appendingPathComponent("out/inner", isDirectory: true)
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    let error = expectDataIOError(
      { _ = try ZipArchive.extract(members: members ?? wanted, from: url, to: out, limits: limits) },
      sourceLocation: sourceLocation)
    #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty, sourceLocation: sourceLocation)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("out").path) == ["inner"], sourceLocation: sourceLocation)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == [url.lastPathComponent, "out"].sorted(), sourceLocation: sourceLocation)
    #expect(error?.file == url.path, sourceLocation: sourceLocation)
    #expect(error.map { !$0.description.contains("\n") } ?? true, sourceLocation: sourceLocation)
    return error
  }

  private func zip(_ extra: HandMadeZip.Member) -> HandMadeZip {
    HandMadeZip([
      .init(name: "train.csv", data: Array("a\n".utf8)), extra, .init(name: "test.csv", data: Array("b\n".utf8)),
    ])
  }

  // MARK: Paths and file types

  @Test(arguments: ["../evil.csv", "a/../../evil.csv", "..", "a\\..\\..\\evil.csv"])
  func extract_refusesDotDotComponents(path: String) throws {
    let error = try refusal(zip(.init(name: path, data: [1])))
    // libarchive turns a Windows tool's backslashes into slashes before we see the name.
    let seen = path.replacingOccurrences(of: "\\", with: "/")
    #expect(error?.message == "member \(seen.debugDescription) has a \"..\" component; refusing to write outside the destination")
  }

  @Test(arguments: ["/tmp/evil.csv", "\\evil.csv", "C:/evil.csv"])
  func extract_refusesAbsolutePaths(path: String) throws {
    let error = try refusal(zip(.init(name: path, data: [1])))
    let seen = path.replacingOccurrences(of: "\\", with: "/")
    #expect(error?.message == "member \(seen.debugDescription) has an absolute path; refusing to write outside the destination")
  }

  @Test func extract_refusesDotDotInRequestedNames() throws {
    let error = try refusal(zip(.init(name: "x", data: [1])), members: ["../train.csv"])
    #expect(error?.message.contains("has a \"..\" component") == true)
  }

  @Test func extract_refusesSymlinkMembers() throws {
    // A symlink named like a wanted member, pointing outside: the classic overwrite-/etc attack.
    let hand = HandMadeZip([.init(name: "train.csv", data: Array("/etc/passwd".utf8), mode: 0o120777), .init(name: "test.csv", data: [1])])
    #expect(try refusal(hand)?.message == #"member "train.csv" is a symbolic link; only regular files are extracted"#)
    // The same through libarchive's own writer, and for a member nobody asked for.
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("x.zip")
      try writeWithLibarchive(to: url, extra: ("link", .symlink(to: "../../outside")))
      #expect(try refusal(url)?.message == #"member "link" is a symbolic link; only regular files are extracted"#)
    }
  }

  @Test func extract_hardLinksCannotReachTheDisk() throws {
    // Zip has no hard links: libarchive's writer stores one as an empty regular file, and its
    // reader never reports one. The `.hardlink` refusal stays as a defence (for a libarchive that
    // learns them); here, check the link arrives as the harmless empty file it is.
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("x.zip")
      try writeWithLibarchive(to: url, extra: ("link", .hardlink(to: "/etc/passwd")))
      let link = try ZipArchive.entries(of: url).first { $0.path == "link" }
      #expect(link?.kind == .regularFile)
      #expect(link?.size == 0)
      let out = directory.appendingPathComponent("out")
      try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
      let written = try ZipArchive.extract(members: ["link"], from: url, to: out)
      #expect(try Data(contentsOf: written["link"]!).isEmpty)
      let type = try FileManager.default.attributesOfItem(atPath: written["link"]!.path)[.type] as? FileAttributeType
      #expect(type == .typeRegular)
    }
  }

  @Test(arguments: [(UInt32(0o020644), "a device file"), (0o060644, "a device file"), (0o140644, "a socket")])
  func extract_refusesSpecialFiles(mode: UInt32, what: String) throws {
    let error = try refusal(zip(.init(name: "dev", data: [], mode: mode)))
    #expect(error?.message == "member \"dev\" is \(what); only regular files are extracted")
  }

  @Test func extract_writesFIFOModeMemberAsPlainFile() throws {
    // libarchive's zip reader itself reports a FIFO mode as a regular file; whatever the mode
    // says, what lands on disk is an ordinary file with the member's bytes, never a FIFO.
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("x.zip")
      try HandMadeZip([.init(name: "train.csv", data: [1, 2], mode: 0o010644), .init(name: "test.csv", data: [3])]).write(to: url)
      let written = try ZipArchive.extract(members: wanted, from: url, to: directory)
      let type = try FileManager.default.attributesOfItem(atPath: written["train.csv"]!.path)[.type] as? FileAttributeType
      #expect(type == .typeRegular)
      #expect(try Data(contentsOf: written["train.csv"]!) == Data([1, 2]))
    }
  }

  // MARK: Size limits

  @Test func extract_refusesMemberWhoseHeaderClaimsTooMuch() throws {
    let hand = HandMadeZip(files: [("train.csv", "a\n"), ("test.csv", String(repeating: "x", count: 100))])
    let error = try refusal(hand, limits: .init(maxMemberBytes: 50))
    #expect(error?.message == #"member "test.csv" claims 100 bytes, over the 50-byte limit"#)
    let total = try refusal(hand, limits: .init(maxMemberBytes: 100, maxTotalBytes: 101))
    #expect(total?.message == "members claim 102 bytes together, over the 101-byte limit")
  }

  @Test func extract_countsBytesWrittenNotBytesClaimed() throws {
    // The header says 10 bytes; 300,000 arrive. The limit must stop the stream, not trust the header.
    let liar = HandMadeZip([
      .init(name: "train.csv", data: [UInt8](repeating: 55, count: 300_000), claimedSize: 10),
      .init(name: "test.csv", data: [1]),
    ])
    let error = try refusal(liar, limits: .init(maxMemberBytes: 100_000))
    #expect(error?.message == #"member "train.csv" expands past the 100000-byte limit"#)
  }

  @Test func extract_enforcesTotalLimitOnCompressedMembers() throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("bomb.zip")
      // 2 MB of zeros deflates to a few KB: a small bomb.
      let zeros = [UInt8](repeating: 0, count: 2_000_000)
      try ZipArchive.write([("train.csv", zeros), ("test.csv", zeros)], to: url, compressed: true)
      let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int
      #expect((size ?? .max) < 100_000)
      let error = try refusal(url, limits: .init(maxMemberBytes: 1_000_000))
      #expect(error?.message == #"member "train.csv" claims 2000000 bytes, over the 1000000-byte limit"#)
      let total = try refusal(url, limits: .init(maxMemberBytes: 2_000_000, maxTotalBytes: 3_000_000))
      #expect(total?.message == "members claim 4000000 bytes together, over the 3000000-byte limit")
    }
  }

  // MARK: Damage, encryption, duplicates

  @Test func extract_refusesEncryptedMember() throws {
    let hand = HandMadeZip([.init(name: "train.csv", data: Array("a\n".utf8), flags: 1), .init(name: "test.csv", data: [1])])
    #expect(try refusal(hand)?.message == #"member "train.csv" is encrypted; decrypt the archive first"#)
  }

  @Test func extract_refusesDuplicateMember() throws {
    let hand = HandMadeZip(files: [("train.csv", "a\n"), ("test.csv", "b\n"), ("train.csv", "evil\n")])
    #expect(try refusal(hand)?.message == #"member "train.csv" is ambiguous: the archive holds 2 copies of "train.csv""#)
  }

  @Test func extract_leavesNothingWhenALaterMemberIsCorrupt() throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("x.zip")
      var bytes = HandMadeZip(files: [("train.csv", "first member\n"), ("test.csv", String(repeating: "second ", count: 50))]).bytes
      // Damage the second member's data: its CRC no longer matches.
      let at = bytes.count - 150
      bytes[at] ^= 0xFF
      try Data(bytes).write(to: url)
      let error = try refusal(url)
      #expect(error?.message.hasPrefix(#"corrupt zip archive in member "test.csv" (libarchive: ZIP bad CRC"#) == true)
    }
  }

  @Test func extract_keepsExistingFilesWhenFailing() throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("x.zip")
      try HandMadeZip(files: [("train.csv", "new\n")]).write(to: url)
      try Data("old\n".utf8).write(to: directory.appendingPathComponent("train.csv"))
      #expect(expectDataIOError { _ = try ZipArchive.extract(members: wanted, from: url, to: directory) } != nil)
      #expect(try String(contentsOf: directory.appendingPathComponent("train.csv"), encoding: .utf8) == "old\n")
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["train.csv", "x.zip"])
    }
  }

  @Test func extract_refusesTruncatedArchiveAtEveryLength() throws {
    // Cut a real deflated zip at many points: every cut is refused or (when only the central
    // directory is lost and the local headers still hold everything) read correctly.
    try withTemporaryDirectory { directory in
      let source = directory.appendingPathComponent("full.zip")
      let train = Array(String(repeating: "1,2,3\n", count: 20_000).utf8)
      try ZipArchive.write([("train.csv", train), ("test.csv", Array("t\n".utf8))], to: source, compressed: true)
      let full = try Data(contentsOf: source)
      try FileManager.default.removeItem(at: source)
      for length in stride(from: 0, to: full.count, by: max(1, full.count / 37)) {
        let cut = directory.appendingPathComponent("cut.zip")
        try full.prefix(length).write(to: cut)
        let out = directory.appendingPathComponent("out")
        try? FileManager.default.removeItem(at: out)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        do {
          let written = try ZipArchive.extract(members: wanted, from: cut, to: out)
          #expect(try Data(contentsOf: written["train.csv"]!) == Data(train))
        } catch let error as DataIOError {
          #expect(error.file == cut.path)
          #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty, "cut at \(length): \(error)")
        }
      }
    }
  }

  // MARK: One top-level folder

  @Test func extract_findsMembersInsideOneTopLevelFolder() throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("x.zip")
      try HandMadeZip(files: [
        ("digit-recognizer/", ""), ("__MACOSX/digit-recognizer/._train.csv", "junk"), ("__MACOSX/train.csv", "junk"),
        ("digit-recognizer/train.csv", "a\n"), ("digit-recognizer/test.csv", "b\n"),
      ]).write(to: url)
      let written = try ZipArchive.extract(members: wanted, from: url, to: directory)
      #expect(written == ["train.csv": directory.appendingPathComponent("train.csv"), "test.csv": directory.appendingPathComponent("test.csv")])
      #expect(try String(contentsOf: written["train.csv"]!, encoding: .utf8) == "a\n")
    }
  }

  @Test func resolve_prefersExactPathAndRefusesMixedOrAmbiguousFolders() throws {
    #expect(try ZipArchive.resolve(members: ["a"], among: ["x/a", "a"], archive: "z") == ["a": 1])
    #expect(try ZipArchive.resolve(members: ["a"], among: [nil, "x/a"], archive: "z") == ["a": 1])
    // Deeper than one folder is not found.
    #expect(throws: DataIOError.self) { try ZipArchive.resolve(members: ["a"], among: ["x/y/a"], archive: "z") }
    let twoFolders = #expect(throws: DataIOError.self) { try ZipArchive.resolve(members: ["a"], among: ["x/a", "y/a"], archive: "z") }
    #expect(twoFolders?.message == #"member "a" is ambiguous: the archive holds "x/a", "y/a""#)
    let mixed = #expect(throws: DataIOError.self) { try ZipArchive.resolve(members: ["a", "b"], among: ["a", "y/b"], archive: "z") }
    #expect(mixed?.message == #"requested members are in different folders (the top level, "y/"); expected one place"#)
  }

  /// A zip made by libarchive's writer: the wanted members plus one odd `extra` member.
  private func writeWithLibarchive(to url: URL, extra: (String, ZipWriter.MemberKind)) throws {
    try FileIO.writeAtomically(to: url) { fd in
      let writer = try ZipWriter(fd: fd, file: url.path, compressed: false)
      let data: [UInt8] = Array("a\n".utf8)
      try data.withUnsafeBytes { bytes in
        try writer.add(name: "train.csv", chunks: [bytes])
        try writer.add(name: extra.0, chunks: [], kind: extra.1)
        try writer.add(name: "test.csv", chunks: [bytes])
      }
      try writer.finish()
    }
  }
}

@Suite struct NumpyArchiveLimitTests {
  @Test func read_refusesArraysPastTheLimit() throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("big.npz")
      try NumpyArchive.write([("a", NumpyArray(shape: [1000], values: [Float](repeating: 0, count: 1000)))], to: url)
      let error = expectDataIOError { _ = try NumpyArchive.read(from: url, limits: .init(maxMemberBytes: 1000)) }
      #expect(error == DataIOError(file: url.path, message: #"member "a.npy" expands past the 1000-byte limit"#))
      #expect(try NumpyArchive.read(from: url).count == 1)
    }
  }
}
