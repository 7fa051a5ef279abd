import Foundation

/// Where the competition's `train.csv` and `test.csv` are: inside a zip, or as plain files.
///
/// Users hand the pipeline whatever they downloaded: Kaggle's zip, the folder they unzipped it
/// into, or one of the CSV files. `locate` turns any of those into one of two cases, and
/// `unpack(into:)` puts the two files into a directory, so the stages after it never care:
///
///     let source = try DigitSource.locate(input)          // throws a one-line DataIOError
///     let files = try source.unpack(into: outputDirectory) // files.train, files.test
///
/// `inputFiles` names the files the result depends on (for fingerprinting by content).
public enum DigitSource: Sendable, Equatable {
  /// A zip holding `train.csv` and `test.csv`, at its top level or in one top-level folder.
  case zip(URL)
  /// The two CSV files on disk.
  case files(train: URL, test: URL)

  /// The file names the pipeline uses for the two tables.
  public static let trainName = "train.csv"
  public static let testName = "test.csv"

  /// Resolves `url` to a source:
  /// - a directory: its `train.csv` and `test.csv` (both must exist); when it holds neither but
  ///   exactly one zip, that zip;
  /// - a file whose name ends in `.csv`: that file and its sibling. `train.csv` pairs with
  ///   `test.csv` and back; other names pair by swapping the last "train" for "test" or back
  ///   (`mnist_train.csv` with `mnist_test.csv`);
  /// - any other file: a zip (whether it really is one is checked when it is read).
  ///
  /// Throws `DataIOError` naming the path when nothing is there or a needed file is missing.
  public static func locate(_ url: URL) throws -> DigitSource {
    let path = url.path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw DataIOError(file: path, message: "no such file or directory; expected a zip, a folder with \(trainName) and \(testName), or one of those CSV files")
    }
    if isDirectory.boolValue {
      let train = url.appendingPathComponent(trainName)
      let test = url.appendingPathComponent(testName)
      let hasTrain = isFile(train)
      let hasTest = isFile(test)
      if hasTrain && hasTest { return .files(train: train, test: test) }
      if !hasTrain && !hasTest {
        let zips = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.lowercased().hasSuffix(".zip") }
        if zips.count == 1 { return .zip(url.appendingPathComponent(zips[0])) }
        throw DataIOError(file: path, message: "folder has no \(trainName) and \(testName)\(zips.count > 1 ? " and \(zips.count) zips (pick one)" : "")")
      }
      throw DataIOError(file: path, message: "folder has \(hasTrain ? trainName : testName) but no \(hasTrain ? testName : trainName)")
    }
    let name = url.lastPathComponent
    guard name.lowercased().hasSuffix(".csv") else { return .zip(url) }
    let (train, test): (URL, URL)
    if let sibling = siblingName(of: name, from: "train", to: "test") {
      (train, test) = (url, url.deletingLastPathComponent().appendingPathComponent(sibling))
    } else if let sibling = siblingName(of: name, from: "test", to: "train") {
      (train, test) = (url.deletingLastPathComponent().appendingPathComponent(sibling), url)
    } else {
      throw DataIOError(file: path, message: "cannot tell whether this is the training or the test file; name it \(trainName) or \(testName)")
    }
    for needed in [train, test] where !isFile(needed) {
      throw DataIOError(file: needed.path, message: "missing: \(name) needs it beside it")
    }
    return .files(train: train, test: test)
  }

  /// The files the tables come from, by role: `["archive": zip]`, or `["train": …, "test": …]`.
  public var inputFiles: [String: URL] {
    switch self {
    case .zip(let zip): ["archive": zip]
    case .files(let train, let test): ["train": train, "test": test]
    }
  }

  /// Writes `train.csv` and `test.csv` into `directory`, extracting them from the zip (with all
  /// of `ZipArchive.extract`'s checks and `limits`) or copying the plain files. All or nothing:
  /// both files appear, or neither changes.
  public func unpack(into directory: URL, limits: ZipArchive.Limits = .default) throws -> (train: URL, test: URL) {
    let names = [Self.trainName, Self.testName]
    switch self {
    case .zip(let zip):
      let written = try ZipArchive.extract(members: names, from: zip, to: directory, limits: limits)
      return (written[Self.trainName]!, written[Self.testName]!)
    case .files(let train, let test):
      let pending = try Swift.zip([train, test], names).map { source, name in
        let file = try FileIO.PendingFile(directory.appendingPathComponent(name))
        try copy(source, into: file, limit: limits.maxMemberBytes)
        return file
      }
      for file in pending { try file.commit() }
      return (pending[0].url, pending[1].url)
    }
  }

  // MARK: - Helpers

  private static func isFile(_ url: URL) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
  }

  /// `name` with its last `from` (any case) replaced by `to`, or nil when it has none.
  private static func siblingName(of name: String, from: String, to: String) -> String? {
    guard let range = name.range(of: from, options: [.caseInsensitive, .backwards]) else { return nil }
    return name.replacingCharacters(in: range, with: to)
  }

  /// Streams `source` into `file` in 1 MiB blocks.
  private func copy(_ source: URL, into file: FileIO.PendingFile, limit: Int) throws {
    guard let handle = FileHandle(forReadingAtPath: source.path) else {
      throw DataIOError(file: source.path, message: "cannot open for reading")
    }
    defer { try? handle.close() }
    var total = 0
    while true {
      let block: Data
      do {
        block = try handle.read(upToCount: 1 << 20) ?? Data()
      } catch {
        throw DataIOError(file: source.path, message: "cannot read (\(error.localizedDescription))")
      }
      if block.isEmpty { return }
      total += block.count
      guard total <= limit else { throw DataIOError(file: source.path, message: "larger than the \(limit)-byte limit") }
      try block.withUnsafeBytes { try FileIO.writeAll(file.fd, $0, path: file.url.path) }
    }
  }
}
