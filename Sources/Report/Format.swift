import Foundation

/// Fixed number formats, the same in the HTML, the SVG and the terminal, so a reader (or a test)
/// finds "97.52%" and not "97.5" in one place and "0.9752" in another. POSIX formatting: never a
/// decimal comma, whatever the machine's locale.
public enum Format {
  /// `fraction` as a percentage: `percent(0.97519, decimals: 2) == "97.52%"`.
  public static func percent(_ fraction: Double, decimals: Int = 2) -> String {
    fixed(fraction * 100, decimals: decimals) + "%"
  }

  /// `decimals` digits after the point; "-0.00" is written "0.00"; NaN and infinities as "–".
  public static func fixed(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return "–" }
    let text = String(format: "%.\(decimals)f", value)
    return text.hasPrefix("-") && text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) ? String(text.dropFirst()) : text
  }

  /// Thousands separated by a thin space (U+2009), which cannot be mistaken for a decimal mark:
  /// `grouped(42000) == "42 000"`.
  public static func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var result = ""
    for (index, digit) in digits.enumerated() {
      if index > 0 && (digits.count - index) % 3 == 0 { result += "\u{2009}" }
      result.append(digit)
    }
    return value < 0 ? "-" + result : result
  }

  /// A size in binary units, one decimal: `bytes(1_572_864) == "1.5 MiB"`.
  public static func bytes(_ count: Int) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(count)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    return unit == 0 ? "\(count) bytes" : fixed(value, decimals: 1) + " " + units[unit]
  }

  /// A text table for the terminal: each column padded to its widest cell, two spaces apart,
  /// no trailing blanks.
  public static func alignedColumns(_ rows: [[String]]) -> String {
    let widths = (rows.first ?? []).indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
      row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
        .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n")
  }
}
