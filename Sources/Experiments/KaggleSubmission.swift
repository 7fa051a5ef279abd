import Foundation
import Pipeline

#if canImport(Glibc)
import Glibc
#endif

/// One upload to Kaggle that its command line tool accepted, as `pipeline submit` records it.
public struct KaggleSubmission: Codable, Sendable, Equatable {
  public var submitted: Date
  public var competition: String
  /// The run: its evaluate entry's fingerprint, the id `exp show` prints.
  public var run: Fingerprint
  /// The predict entry whose submission.csv was uploaded.
  public var predict: Fingerprint
  /// SHA-256 of the uploaded file.
  public var sha256: Fingerprint
  public var message: String
  /// The last line Kaggle's tool printed on standard output: its verdict ("Successfully
  /// submitted to Digit Recognizer"), after any progress lines.
  public var kaggle: String

  public init(
    submitted: Date, competition: String, run: Fingerprint, predict: Fingerprint, sha256: Fingerprint,
    message: String, kaggle: String
  ) {
    self.submitted = submitted
    self.competition = competition
    self.run = run
    self.predict = predict
    self.sha256 = sha256
    self.message = message
    self.kaggle = kaggle
  }
}

/// `<cache>/submissions.jsonl`: every submission made from the cache's runs, one JSON object a
/// line, oldest first. It sits in the cache, not in an output folder, so that every output
/// folder sharing the cache sees it; it is no stage (``CacheStore/stageNames()`` lists folders),
/// so `gc` never removes it, and a record outlives the entries of its run. `clean` removes it
/// with the rest of the cache (Kaggle keeps its own list:
/// `kaggle competitions submissions digit-recognizer`).
public enum SubmissionLog {
  public static let fileName = "submissions.jsonl"

  public static func url(in cache: CacheStore) -> URL { cache.root.appending(path: fileName) }

  /// Appends one line in one `write(2)` to a file opened with `O_APPEND`, so that submissions
  /// made at once from several output folders never interleave.
  public static func append(_ submission: KaggleSubmission, to cache: CacheStore) throws {
    let path = url(in: cache).path
    let line = Array(try encoder.encode(submission) + Data("\n".utf8))
    let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw PipelineError("\(path): cannot open to append (\(String(cString: strerror(errno))))") }
    defer { close(descriptor) }
    var written: Int
    repeat { written = write(descriptor, line, line.count) } while written < 0 && errno == EINTR
    guard written == line.count else {
      throw PipelineError("\(path): cannot append the record (\(written < 0 ? String(cString: strerror(errno)) : "short write"))")
    }
  }

  /// Every record that reads, oldest first; a line that does not (cut short by a full disk, edited
  /// by hand) is skipped: the log annotates runs and is never worth failing `exp show` over.
  public static func load(from cache: CacheStore) -> [KaggleSubmission] {
    guard let data = try? Data(contentsOf: url(in: cache)) else { return [] }
    return data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(KaggleSubmission.self, from: Data($0)) }
  }

  private static var encoder: JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return encoder
  }

  private static var decoder: JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return decoder
  }
}
