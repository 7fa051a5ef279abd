import Foundation
import Yams

/// Reads a pipeline file (YAML) into a typed configuration, with `--set key.path=value`
/// overrides applied first.
///
/// Strict on purpose: a key that the configuration does not know (a typo such as `epochz`) is an
/// error naming the file, line and column, not a setting silently ignored.
public enum PipelineFile {
  /// - Parameter check: the configuration's own checks, run once it is decoded; a
  ///   `PipelineError` with a `keyPath` is reported at that setting's place in the file (or at the
  ///   `--set` that gave it), one without at the file.
  public static func load<Configuration: Codable>(
    _ type: Configuration.Type, from url: URL, overrides: [String] = [],
    check: (Configuration) throws -> Void = { _ in }
  ) throws -> Configuration {
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw PipelineError("\(url.path): no such pipeline file")
    }
    guard let data = FileManager.default.contents(atPath: url.path) else {
      throw PipelineError("\(url.path): cannot read the pipeline file")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw PipelineError("\(url.path): the pipeline file is not UTF-8 text")
    }
    return try decode(type, yaml: text, fileName: url.path, overrides: overrides, check: check)
  }

  public static func decode<Configuration: Codable>(
    _ type: Configuration.Type, yaml text: String, fileName: String, overrides: [String] = [],
    check: (Configuration) throws -> Void = { _ in }
  ) throws -> Configuration {
    var document: Document
    do {
      guard let node = try Yams.compose(yaml: text) else {
        throw PipelineError("\(fileName): the pipeline file is empty")
      }
      document = Document(root: node, fileName: fileName)
    } catch let error as YamlError {
      throw PipelineError("\(fileName):\(describe(error))")
    }
    for override in overrides {
      try document.apply(override: override)
    }

    let configuration: Configuration
    do {
      configuration = try YAMLDecoder().decode(type, from: document.root)
    } catch let error as DecodingError {
      throw PipelineError(document.describe(error))
    }
    // Anything the user wrote must survive a round trip through the typed configuration. The
    // encoder writes a number that is not finite as a marker string instead of failing, so that
    // the walk below can say where it is.
    let encoder = JSONEncoder()
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: NonFinite.positiveInfinity, negativeInfinity: NonFinite.negativeInfinity, nan: NonFinite.nan)
    let known = try JSONSerialization.jsonObject(with: encoder.encode(configuration))
    try document.checkKnownKeys(document.root, against: known, path: [])
    try document.checkFinite(known, path: [])
    do {
      try check(configuration)
    } catch let error as PipelineError {
      let place = error.keyPath.map { document.location(of: Document.path($0)) } ?? fileName
      throw PipelineError("\(place): \(error.description)")
    }
    return configuration
  }

  /// What the encoder writes for a value that is not finite; no pipeline file can spell these.
  private enum NonFinite {
    static let positiveInfinity = "\u{0}+inf"
    static let negativeInfinity = "\u{0}-inf"
    static let nan = "\u{0}nan"
  }

  /// The YAML tree with the overrides applied, and where each part of it came from: a line and
  /// column of the file, or a `--set`.
  struct Document {
    var root: Node
    let fileName: String
    /// The overrides applied, in order, with their key paths.
    private(set) var overrides: [(path: [String], text: String)] = []

    init(root: Node, fileName: String) {
      self.root = root
      self.fileName = fileName
    }

    static func path(_ dotted: String) -> [String] {
      dotted.isEmpty ? [] : dotted.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    // MARK: - Overrides

    /// `train.epochs=3`: the value is read as YAML, so `3` is a number, `[1, 2]` a list and `adam`
    /// a string. Missing mappings along the path are created; the key check then catches typos.
    mutating func apply(override: String) throws {
      guard let equals = override.firstIndex(of: "="), equals != override.startIndex else {
        throw PipelineError("--set \(override): expected KEY=VALUE, e.g. train.epochs=3")
      }
      let path = Self.path(String(override[..<equals]))
      guard !path.contains(where: \.isEmpty) else {
        throw PipelineError("--set \(override): empty key in '\(override[..<equals])'")
      }
      let valueText = String(override[override.index(after: equals)...])
      let value: Node
      do {
        value = try Yams.compose(yaml: valueText) ?? Node("", Tag(.null))
      } catch let error as YamlError {
        throw PipelineError("--set \(override): the value is not valid YAML (\(PipelineFile.describe(error)))")
      }
      try Self.set(value, at: path[...], in: &root, override: override)
      overrides.append((path, override))
    }

    private static func set(_ value: Node, at path: ArraySlice<String>, in node: inout Node, override: String) throws {
      guard let key = path.first else { node = value; return }
      if case .sequence(var sequence) = node {
        guard let index = Int(key), sequence.indices.contains(index) else {
          throw PipelineError("--set \(override): '\(key)' is not an index of that list (0..<\(sequence.count))")
        }
        try set(value, at: path.dropFirst(), in: &sequence[index], override: override)
        node = .sequence(sequence)
        return
      }
      guard case .mapping(var mapping) = node else {
        throw PipelineError("--set \(override): cannot set '\(key)' inside a single value")
      }
      var child = mapping[key] ?? Node([(Node, Node)]())
      try set(value, at: path.dropFirst(), in: &child, override: override)
      mapping[key] = child
      node = .mapping(mapping)
    }

    // MARK: - Checks of the decoded configuration

    func checkKnownKeys(_ node: Node, against known: Any, path: [String]) throws {
      switch node {
      case .mapping(let mapping):
        guard let knownKeys = known as? [String: Any] else { return }
        for (keyNode, child) in mapping {
          guard let key = keyNode.string else { continue }
          guard let knownChild = knownKeys[key] else {
            let place = (path + [key]).joined(separator: ".")
            let choices = knownKeys.keys.sorted().joined(separator: ", ")
            throw PipelineError(
              "\(location(of: path + [key], atKey: true)): unknown key '\(place)'"
                + (choices.isEmpty ? "" : " (known here: \(choices))"))
          }
          try checkKnownKeys(child, against: knownChild, path: path + [key])
        }
      case .sequence(let sequence):
        guard let knownItems = known as? [Any], knownItems.count == sequence.count else { return }
        for (index, item) in sequence.enumerated() {
          try checkKnownKeys(item, against: knownItems[index], path: path + [String(index)])
        }
      case .scalar, .alias:
        return
      }
    }

    /// Refuses NaN and the infinities in any number of the configuration, however they were
    /// spelled (`.nan`, `.inf`, `-.inf`, `nan`, `inf`) or reached (`1e39` overflows a `Float`).
    func checkFinite(_ known: Any, path: [String]) throws {
      switch known {
      case let mapping as [String: Any]:
        for key in mapping.keys.sorted() { try checkFinite(mapping[key]!, path: path + [key]) }
      case let items as [Any]:
        for (index, item) in items.enumerated() { try checkFinite(item, path: path + [String(index)]) }
      case let marker as String where [NonFinite.positiveInfinity, NonFinite.negativeInfinity, NonFinite.nan].contains(marker):
        let written = node(at: path)?.node.scalar?.string
        let problem: String
        if let written, let number = Double(written.replacingOccurrences(of: "_", with: "")), number.isFinite {
          problem = "\(written) is not a finite number as a 32-bit float (the largest is about 3.4e38)"
        } else {
          problem = "\(written ?? String(marker.dropFirst())) is not a finite number"
        }
        throw PipelineError("\(location(of: path)): \(path.joined(separator: ".")): \(problem)")
      default:
        return
      }
    }

    // MARK: - Places

    /// The node at `path` and, when it is a mapping's value, its key; nil when the tree has no
    /// such node (a setting left at its default).
    func node(at path: [String]) -> (node: Node, key: Node?)? {
      var current: (node: Node, key: Node?) = (root, nil)
      for component in path {
        switch current.node {
        case .mapping(let mapping):
          guard let pair = mapping.first(where: { $0.key.string == component }) else { return nil }
          current = (pair.value, pair.key)
        case .sequence(let sequence):
          guard let index = Int(component), sequence.indices.contains(index) else { return nil }
          current = (sequence[index], nil)
        default:
          return nil
        }
      }
      return current
    }

    /// Where the setting at `path` was written: `FILE:LINE:COLUMN` (of its value; of its key with
    /// `atKey`, and for a mapping or list, where its key is), `FILE (--set KEY=VALUE)` when an
    /// override gave it, or the nearest enclosing setting's place when the file leaves it out.
    func location(of path: [String], atKey: Bool = false) -> String {
      if let override = overrides.last(where: { path.starts(with: $0.path) }) {
        return "\(fileName) (--set \(override.text))"
      }
      let inside = overrides.last(where: { $0.path.starts(with: path) }).map { " (with --set \($0.text))" } ?? ""
      var place = path
      while true {
        if let found = node(at: place) {
          let scalar = found.node.scalar != nil
          if let mark = (atKey || !scalar ? found.key?.mark : nil) ?? found.node.mark {
            return "\(fileName):\(mark.line):\(mark.column)\(inside)"
          }
        }
        guard !place.isEmpty else { return "\(fileName)\(inside)" }
        place.removeLast()
      }
    }

    func describe(_ error: DecodingError) -> String {
      func components(_ codingPath: [any CodingKey]) -> [String] {
        codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
      }
      func dotted(_ codingPath: [any CodingKey]) -> String { components(codingPath).joined(separator: ".") }
      switch error {
      case .keyNotFound(let key, let context):
        return "\(location(of: components(context.codingPath))): missing key '\(dotted(context.codingPath + [key]))'"
      case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
        let path = components(context.codingPath)
        let written = node(at: path)?.node.scalar?.string
        return "\(location(of: path)): '\(dotted(context.codingPath))' should be \(PipelineFile.describe(type, written: written))"
      case .dataCorrupted(let context):
        return "\(location(of: components(context.codingPath))): '\(dotted(context.codingPath))': \(context.debugDescription)"
      @unknown default:
        return "\(fileName): \(error)"
      }
    }
  }

  // MARK: - Messages

  private static func describe(_ error: YamlError) -> String {
    switch error {
    case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
         .composer(_, let problem, let mark, _):
      return "\(mark.line):\(mark.column): \(problem)"
    default:
      return " \(error)"
    }
  }

  /// What a value of `type` is, for "should be ..."; for a whole number that was written as a
  /// number, the range it missed (`epochs: 1e30`, `seed: -1`).
  private static func describe(_ type: Any.Type, written: String?) -> String {
    let number = written.flatMap { Double($0.replacingOccurrences(of: "_", with: "")) }
    func whole(_ range: String) -> String {
      guard let written, let number, number.isFinite else { return "a whole number" }
      return number.rounded() == number ? "a whole number \(range) (got \(written))" : "a whole number (got \(written))"
    }
    switch type {
    case is Int.Type, is Int64.Type: return whole("from \(Int64.min) to \(Int64.max)")
    case is UInt64.Type: return whole("from 0 to \(UInt64.max)")
    case is UInt32.Type: return whole("from 0 to \(UInt32.max)")
    case is Float.Type, is Double.Type: return "a number"
    case is Bool.Type: return "true or false"
    case is String.Type: return "a string"
    default: return "a \(type)"
    }
  }
}
