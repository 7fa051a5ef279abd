import DataIO
import Foundation
import Pipeline

/// Puts `train.csv` and `test.csv` into the cache from whatever the user has: the competition's
/// zip (streamed through libarchive, every entry checked before anything is written), the
/// folder it was unzipped into, or one of the CSV files with its sibling (see ``DigitSource``).
public struct UnpackStage: Stage {
  public struct Parameters: Codable, Sendable, Hashable {
    public var members: [String] = UnpackedFiles.fileNames
  }
  public typealias Output = UnpackedFiles

  /// 2: also reads folders and plain CSV files; rejects hostile archives.
  public static let version = 2
  public let name = StageName.unpack
  public let parameters = Parameters()
  public let source: DigitSource
  /// The zip-bomb guard: how much one member, and all of them, may expand to.
  public let limits: ZipArchive.Limits

  /// Throws a one-line error naming `input` when there is nothing usable there.
  public init(input: URL, limits: ZipArchive.Limits = .default) throws {
    self.source = try DigitSource.locate(input)
    self.limits = limits
  }

  /// The zip (or the two CSV files) enter the fingerprint by content, so moving or renaming
  /// them changes nothing.
  public var externalFiles: [String: URL] { source.inputFiles }

  public func run(_ context: StageContext) throws {
    context.progress("reading \(source.inputFiles.values.map(\.lastPathComponent).sorted().joined(separator: ", "))")
    _ = try source.unpack(into: context.outputDirectory, limits: limits)
  }
}
