import Foundation

/// Written last into every cache entry: what made it and the checksum of each file. An entry
/// without a readable manifest is incomplete and ignored.
public struct Manifest: Codable, Sendable, Equatable {
  public struct File: Codable, Sendable, Equatable {
    public var name: String
    public var size: Int
    public var sha256: Fingerprint
  }

  public var stage: String
  public var version: Int
  public var fingerprint: Fingerprint
  /// The stage's parameters as canonical JSON.
  public var parameters: String
  public var inputs: [String: Fingerprint]
  public var externalFiles: [String: Fingerprint]
  public var files: [File]
  public var created: Date
  /// How long the stage took to run, for reports and for planning.
  public var seconds: Double
  /// What computed it, one fact a line (`pipeline doctor`'s: CPU, BLAS kernels, threads,
  /// versions), as the runner was given it; nil in entries made before manifests recorded it.
  /// Results are repeatable for a machine and thread count, so this says which ones these are.
  public var machine: [String]?
  /// The name of the pipeline (its file's `name:`) whose run made the entry, for `exp show`; not
  /// part of the fingerprint, so an entry two pipelines share keeps the first one's name. Nil in
  /// entries made before manifests recorded it.
  public var pipeline: String?

  public static let fileName = "manifest.json"
}
