import DataIO
import Foundation
import Pipeline

/// Extracts `train.csv` and `test.csv` from the competition's zip, streaming through libarchive.
public struct UnpackStage: Stage {
  public struct Parameters: Codable, Sendable, Hashable {
    public var members: [String] = UnpackedFiles.fileNames
  }
  public typealias Output = UnpackedFiles

  public static let version = 1
  public let name = "unpack"
  public let parameters = Parameters()
  public let inputs: [String] = []
  public let archive: URL

  public init(archive: URL) { self.archive = archive }

  /// The zip enters the fingerprint by content, so moving or renaming it changes nothing.
  public var externalFiles: [String: URL] { ["archive": archive] }

  public func run(_ context: StageContext) throws {
    context.progress("reading \(archive.lastPathComponent)")
    _ = try ZipArchive.extract(members: parameters.members, from: archive, to: context.outputDirectory)
  }
}
