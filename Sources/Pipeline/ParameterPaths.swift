import Foundation

/// A stage's canonical parameters (the JSON its manifest keeps) as flat `path → value` pairs, so
/// that runs can be listed, filtered and compared one setting at a time (`exp show`, `status`).
///
/// Objects nest with dots (`optimizer.learning_rate`); a list is one value, written as a pipeline
/// file writes it (`[{dense: 10}, relu, {dense: 10}]`); strings are bare. A stage made from a
/// section of the pipeline file keeps that section under `settings`, and its keys are lifted, so
/// the paths read like the file's: `epochs`, not `settings.epochs`.
public enum ParameterPaths {
  /// `[:]` when the text is not JSON (it always is in a manifest the runner wrote).
  public static func flatten(_ canonicalJSON: String) -> [String: String] {
    guard let value = liftedTop(canonicalJSON) else { return [:] }
    var paths: [String: String] = [:]
    guard case .object(let top) = value else {
      paths[""] = value.text
      return paths
    }
    if !top.isEmpty { add(.object(top), at: "", to: &paths) }
    return paths
  }

  /// One JSON value as a pipeline file writes it: `[{dense: 128}, relu, {dense: 10}]` for the
  /// layers of a model section; nil when the text is not JSON.
  public static func flowText(_ json: String) -> String? {
    (try? JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)))?.text
  }

  /// What changed between two stages' canonical parameters, one line each, in path order:
  /// `epochs 12 → 30`, `+ shift 2` for a path only `new` has, `- shift 2` for one only `old`
  /// had. Paths are `flatten`'s, except that two lists of the same length are compared element
  /// by element, so a padding changed in one layer reads `model.layers[3].conv2d.padding 1 → 0`
  /// rather than as both whole lists; lists of different lengths are shown whole.
  public static func changes(from oldJSON: String, to newJSON: String) -> [String] {
    var lines: [String] = []
    compare(liftedTop(oldJSON) ?? .object([:]), liftedTop(newJSON) ?? .object([:]), at: "", into: &lines)
    return lines
  }

  /// The top-level object with the `settings` section's keys lifted, as `flatten` reads it.
  private static func liftedTop(_ canonicalJSON: String) -> JSONValue? {
    guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(canonicalJSON.utf8)) else { return nil }
    guard case .object(var top) = value else { return value }
    if case .object(let settings)? = top["settings"] {
      top["settings"] = nil
      top.merge(settings) { outer, _ in outer }
    }
    return .object(top)
  }

  private static func compare(_ old: JSONValue?, _ new: JSONValue?, at path: String, into lines: inout [String]) {
    switch (old, new) {
    case let (.object(before)?, .object(after)?): compareMembers(before, after, at: path, into: &lines)
    // A section only one side has is flattened as `flatten` would: `+ optimizer.learning_rate 0.001`.
    case let (nil, .object(after)?) where !after.isEmpty: compareMembers([:], after, at: path, into: &lines)
    case let (.object(before)?, nil) where !before.isEmpty: compareMembers(before, [:], at: path, into: &lines)
    case let (.array(before)?, .array(after)?) where before.count == after.count:
      for (index, (a, b)) in zip(before, after).enumerated() { compare(a, b, at: "\(path)[\(index)]", into: &lines) }
    case let (before?, after?):
      if before.text != after.text { lines.append("\(path) \(before.text) → \(after.text)") }
    case let (nil, after?): lines.append("+ \(path) \(after.text)")
    case let (before?, nil): lines.append("- \(path) \(before.text)")
    case (nil, nil): break
    }
  }

  private static func compareMembers(
    _ before: [String: JSONValue], _ after: [String: JSONValue], at path: String, into lines: inout [String]
  ) {
    for key in Set(before.keys).union(after.keys).sorted() {
      compare(before[key], after[key], at: path.isEmpty ? key : "\(path).\(key)", into: &lines)
    }
  }

  private static func add(_ value: JSONValue, at path: String, to paths: inout [String: String]) {
    guard case .object(let members) = value, !members.isEmpty else {
      paths[path] = value.text
      return
    }
    for (key, member) in members {
      add(member, at: path.isEmpty ? key : "\(path).\(key)", to: &paths)
    }
  }
}

/// Just enough JSON to read parameters back: numbers keep their value, not their spelling, which
/// the canonical encoder makes unique anyway.
private indirect enum JSONValue: Decodable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let bool = try? container.decode(Bool.self) {
      self = .bool(bool)
    } else if let number = try? container.decode(Double.self) {
      self = .number(number)
    } else if let string = try? container.decode(String.self) {
      self = .string(string)
    } else if let array = try? container.decode([JSONValue].self) {
      self = .array(array)
    } else {
      self = .object(try container.decode([String: JSONValue].self))
    }
  }

  /// YAML flow style, as a pipeline file would spell the value.
  var text: String {
    switch self {
    case .null: return "null"
    case .bool(let bool): return String(bool)
    case .number(let number):
      return number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    case .string(let string):
      let plain = !string.isEmpty && string.trimmingCharacters(in: .whitespaces) == string
        && !string.contains(where: { ",:[]{}\"#'".contains($0) })
      return plain ? string : String(decoding: try! JSONEncoder().encode(string), as: UTF8.self)
    case .array(let elements):
      return "[" + elements.map(\.text).joined(separator: ", ") + "]"
    case .object(let members):
      return "{" + members.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.text)" }.joined(separator: ", ") + "}"
    }
  }
}

extension Manifest {
  /// What the entry's fingerprint covers, as flat paths: its parameters, and each external file
  /// it read under its role (`archive`, `model`) as the start of its content hash. The one
  /// spelling of an entry's settings in `exp show` and the report.
  public var flatParameters: [String: String] {
    var paths = ParameterPaths.flatten(parameters)
    for (role, hash) in externalFiles { paths[role] = hash.short }
    return paths
  }
}
