import Foundation
import Yams

/// Reads a pipeline file (YAML) into a typed configuration, with `--set key.path=value`
/// overrides applied first.
///
/// Strict on purpose: a key that the configuration does not know (a typo such as `epochz`) is an
/// error naming the file, line and column, not a setting silently ignored.
public enum PipelineFile {
  public static func load<Configuration: Codable>(
    _ type: Configuration.Type, from url: URL, overrides: [String] = []
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
    return try decode(type, yaml: text, fileName: url.path, overrides: overrides)
  }

  public static func decode<Configuration: Codable>(
    _ type: Configuration.Type, yaml text: String, fileName: String, overrides: [String] = []
  ) throws -> Configuration {
    var root: Node
    do {
      guard let node = try Yams.compose(yaml: text) else {
        throw PipelineError("\(fileName): the pipeline file is empty")
      }
      root = node
    } catch let error as YamlError {
      throw PipelineError("\(fileName):\(describe(error))")
    }
    for override in overrides {
      try apply(override: override, to: &root)
    }

    let configuration: Configuration
    do {
      configuration = try YAMLDecoder().decode(type, from: root)
    } catch let error as DecodingError {
      throw PipelineError(describe(error, in: root, fileName: fileName))
    }
    // Anything the user wrote must survive a round trip through the typed configuration.
    let known = try JSONSerialization.jsonObject(with: JSONEncoder().encode(configuration))
    try checkKnownKeys(root, against: known, path: [], fileName: fileName)
    return configuration
  }

  // MARK: - Overrides

  /// `train.epochs=3`: the value is read as YAML, so `3` is a number, `[1, 2]` a list and `adam`
  /// a string. Missing mappings along the path are created; the key check then catches typos.
  static func apply(override: String, to root: inout Node) throws {
    guard let equals = override.firstIndex(of: "="), equals != override.startIndex else {
      throw PipelineError("--set \(override): expected KEY=VALUE, e.g. train.epochs=3")
    }
    let path = override[..<equals].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    guard !path.contains(where: \.isEmpty) else {
      throw PipelineError("--set \(override): empty key in '\(override[..<equals])'")
    }
    let valueText = String(override[override.index(after: equals)...])
    let value: Node
    do {
      value = try Yams.compose(yaml: valueText) ?? Node("", Tag(.null))
    } catch let error as YamlError {
      throw PipelineError("--set \(override): the value is not valid YAML (\(describe(error)))")
    }
    try set(value, at: path[...], in: &root, override: override)
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

  // MARK: - Strict keys

  private static func checkKnownKeys(_ node: Node, against known: Any, path: [String], fileName: String) throws {
    switch node {
    case .mapping(let mapping):
      guard let knownKeys = known as? [String: Any] else { return }
      for (keyNode, child) in mapping {
        guard let key = keyNode.string else { continue }
        guard let knownChild = knownKeys[key] else {
          let place = (path + [key]).joined(separator: ".")
          let choices = knownKeys.keys.sorted().joined(separator: ", ")
          throw PipelineError(
            "\(location(of: keyNode, fileName: fileName)): unknown key '\(place)'"
              + (choices.isEmpty ? "" : " (known here: \(choices))"))
        }
        try checkKnownKeys(child, against: knownChild, path: path + [key], fileName: fileName)
      }
    case .sequence(let sequence):
      guard let knownItems = known as? [Any], knownItems.count == sequence.count else { return }
      for (index, item) in sequence.enumerated() {
        try checkKnownKeys(item, against: knownItems[index], path: path + [String(index)], fileName: fileName)
      }
    case .scalar, .alias:
      return
    }
  }

  // MARK: - Messages

  private static func location(of node: Node?, fileName: String) -> String {
    guard let mark = node?.mark else { return "\(fileName) (from --set)" }
    return "\(fileName):\(mark.line):\(mark.column)"
  }

  private static func describe(_ error: YamlError) -> String {
    switch error {
    case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
         .composer(_, let problem, let mark, _):
      return "\(mark.line):\(mark.column): \(problem)"
    default:
      return " \(error)"
    }
  }

  private static func describe(_ error: DecodingError, in root: Node, fileName: String) -> String {
    func dotted(_ path: [any CodingKey]) -> String {
      path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
    func node(at path: [any CodingKey]) -> Node? {
      path.reduce(Optional(root)) { node, key in
        guard let node else { return nil }
        if let index = key.intValue, case .sequence(let sequence) = node {
          return sequence.indices.contains(index) ? sequence[index] : nil
        }
        return node[key.stringValue]
      }
    }
    switch error {
    case .keyNotFound(let key, let context):
      let place = dotted(context.codingPath + [key])
      return "\(location(of: node(at: context.codingPath), fileName: fileName)): missing key '\(place)'"
    case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
      return "\(location(of: node(at: context.codingPath), fileName: fileName)): '\(dotted(context.codingPath))' should be \(describe(type))"
    case .dataCorrupted(let context):
      return "\(location(of: node(at: context.codingPath), fileName: fileName)): '\(dotted(context.codingPath))': \(context.debugDescription)"
    @unknown default:
      return "\(fileName): \(error)"
    }
  }

  private static func describe(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type, is Int64.Type, is UInt64.Type, is UInt32.Type: return "a whole number"
    case is Float.Type, is Double.Type: return "a number"
    case is Bool.Type: return "true or false"
    case is String.Type: return "a string"
    default: return "a \(type)"
    }
  }
}
