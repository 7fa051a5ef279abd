import Foundation

/// A grid of runs from `--set` values with commas: `--set train.epochs=10,20,30 --set seed=42,43`
/// is six runs. Commas inside a YAML list, mapping or quoted string (`layers=[a, b]`,
/// `name="a,b"`) do not split.
public enum Sweep {
  /// Each run's overrides, in grid order: the first swept key varies slowest. Without a comma
  /// anywhere, the one point is `overrides` itself.
  public static func points(_ overrides: [String]) throws -> [[String]] {
    var points: [[String]] = [[]]
    for override in overrides {
      guard let equals = override.firstIndex(of: "=") else {
        points = points.map { $0 + [override] }  // PipelineFile reports the malformed override
        continue
      }
      let key = override[..<equals]
      let values = try alternatives(String(override[override.index(after: equals)...]), in: override)
      points = points.flatMap { point in values.map { point + ["\(key)=\($0)"] } }
    }
    return points
  }

  /// `10,20,30` → three values; `[1, 2]` → one.
  static func alternatives(_ value: String, in override: String) throws -> [String] {
    var values: [String] = []
    var current = ""
    var depth = 0
    var quote: Character?
    for character in value {
      if let open = quote {
        if character == open { quote = nil }
      } else if character == "\"" || character == "'" {
        quote = character
      } else if "[{".contains(character) {
        depth += 1
      } else if "]}".contains(character) {
        depth -= 1
      } else if character == ",", depth == 0 {
        values.append(current)
        current = ""
        continue
      }
      current.append(character)
    }
    values.append(current)
    guard values.count > 1 else { return [value] }
    let trimmed = values.map { $0.trimmingCharacters(in: .whitespaces) }
    if let empty = trimmed.firstIndex(where: \.isEmpty) {
      throw PipelineError("--set \(override): value \(empty + 1) of the sweep is empty")
    }
    return trimmed
  }
}
