import Crypto
import Foundation

/// A SHA-256 digest, as 64 lowercase hex characters: the identity of a cache entry.
public struct Fingerprint: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
  public let hex: String

  public init(hex: String) { self.hex = hex }

  public var description: String { hex }
  /// The first 12 characters, enough to tell entries apart in messages.
  public var short: String { String(hex.prefix(12)) }

  public static func < (lhs: Fingerprint, rhs: Fingerprint) -> Bool { lhs.hex < rhs.hex }

  public init(from decoder: any Decoder) throws {
    hex = try decoder.singleValueContainer().decode(String.self)
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(hex)
  }

  /// SHA-256 of some bytes.
  public static func of(bytes: some DataProtocol) -> Fingerprint {
    Fingerprint(digest: SHA256.hash(data: bytes))
  }

  /// SHA-256 of a file's content, read in 4 MiB chunks so memory stays flat for large files.
  public static func of(fileAt url: URL) throws -> Fingerprint {
    let handle = try FileHandle(forReadingFrom: url)
    defer { try? handle.close() }
    var hasher = SHA256()
    while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
      hasher.update(data: chunk)
    }
    return Fingerprint(digest: hasher.finalize())
  }

  /// The fingerprint of a stage: SHA-256 over its name, code version, canonical parameters, and
  /// the fingerprints of what it reads. Computable before anything runs, because an upstream
  /// entry's fingerprint stands for its content (the same inputs make the same artifacts).
  public static func ofStage(
    name: String, version: Int, canonicalParameters: String,
    inputs: [String: Fingerprint], externalFiles: [String: Fingerprint]
  ) -> Fingerprint {
    let identity = StageIdentity(
      stage: name, version: version, parameters: canonicalParameters,
      inputs: inputs, externalFiles: externalFiles)
    return .of(bytes: try! canonicalJSON(identity))  // encoding plain strings and maps cannot fail
  }

  private init(digest: SHA256.Digest) {
    hex = digest.map { byte in
      let digits = String(byte, radix: 16)
      return byte < 16 ? "0" + digits : digits
    }.joined()
  }
}

/// What a stage's fingerprint is computed over; kept in the manifest so a person can see why
/// two entries differ.
struct StageIdentity: Codable, Sendable {
  var stage: String
  var version: Int
  var parameters: String
  var inputs: [String: Fingerprint]
  var externalFiles: [String: Fingerprint]
}

/// JSON with sorted keys and no insignificant white space: the same value always gives the same
/// bytes, which is what a fingerprint needs.
public func canonicalJSON(_ value: some Encodable) throws -> Data {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
  return try encoder.encode(value)
}

/// JSON for people and scripts (`--json`): indented, keys sorted, dates in ISO 8601, so the same
/// value always prints the same text.
public func readableJSON(_ value: some Encodable) throws -> String {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
  encoder.dateEncodingStrategy = .iso8601
  return String(decoding: try encoder.encode(value), as: UTF8.self)
}
