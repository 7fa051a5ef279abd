/// Text made safe for XML and HTML: the five characters with meaning in markup become entities.
/// Used for every piece of text a caller gives us (titles, labels, stage names, parameters).
func escapeMarkup(_ text: String) -> String {
  var result = ""
  result.reserveCapacity(text.count)
  for character in text {
    switch character {
    case "&": result += "&amp;"
    case "<": result += "&lt;"
    case ">": result += "&gt;"
    case "\"": result += "&quot;"
    case "'": result += "&#39;"
    default: result.append(character)
    }
  }
  return result
}

/// How tick labels on a value axis are written.
public enum AxisFormat: Sendable, Equatable {
  /// The number itself, with as many decimals as the tick step needs.
  case plain
  /// A fraction shown as a percentage: 0.25 → "25%".
  case percent

  func label(_ value: Double, scale: NiceScale) -> String {
    switch self {
    case .plain: Format.fixed(value, decimals: scale.decimals())
    case .percent: Format.percent(value, decimals: scale.decimals(percent: true))
    }
  }

  /// The value written in full, for tooltips: four decimals, or a percentage with two.
  func precise(_ value: Double) -> String {
    switch self {
    case .plain: Format.fixed(value, decimals: 4)
    case .percent: Format.percent(value, decimals: 2)
    }
  }
}

/// Colours shared by the charts and the page, so a series looks the same everywhere.
public enum Palette {
  public static let blue = "#2563eb"
  public static let orange = "#ea580c"
  public static let green = "#16a34a"
  public static let red = "#dc2626"
  public static let purple = "#7c3aed"
  static let ink = "#1f2937"
  static let mutedInk = "#6b7280"
  static let grid = "#e5e7eb"
  static let axis = "#9ca3af"
}

/// Appends SVG elements to a string; every attribute value and text node goes through
/// `escapeMarkup`, so callers cannot forget it.
struct SVGWriter {
  private(set) var body = ""
  let width: Double
  let height: Double

  init(width: Double, height: Double) {
    self.width = width
    self.height = height
  }

  /// A number for a coordinate: one decimal is finer than a pixel and keeps the file small.
  static func number(_ value: Double) -> String { Format.fixed(value, decimals: 1) }

  mutating func element(_ name: String, _ attributes: KeyValuePairs<String, String>, content: String? = nil) {
    body += "<\(name)"
    for (key, value) in attributes { body += " \(key)=\"\(escapeMarkup(value))\"" }
    if let content { body += ">\(content)</\(name)>\n" } else { body += "/>\n" }
  }

  mutating func raw(_ markup: String) { body += markup }

  mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 1) {
    element("line", [
      "x1": Self.number(x1), "y1": Self.number(y1), "x2": Self.number(x2), "y2": Self.number(y2),
      "stroke": stroke, "stroke-width": Self.number(width),
    ])
  }

  enum Anchor: String { case start, middle, end }

  mutating func text(
    _ text: String, x: Double, y: Double, anchor: Anchor = .start, size: Double = 12,
    color: String = Palette.ink, weight: String = "normal", rotate: Bool = false, className: String? = nil
  ) {
    var attributes: [(String, String)] = [
      ("x", Self.number(x)), ("y", Self.number(y)), ("text-anchor", anchor.rawValue),
      ("font-size", Self.number(size)), ("fill", color),
    ]
    if weight != "normal" { attributes.append(("font-weight", weight)) }
    if rotate { attributes.append(("transform", "rotate(-90 \(Self.number(x)) \(Self.number(y)))")) }
    if let className { attributes.append(("class", className)) }
    body += "<text" + attributes.map { " \($0.0)=\"\(escapeMarkup($0.1))\"" }.joined() + ">\(escapeMarkup(text))</text>\n"
  }

  /// The finished document: self-contained (system fonts, no scripts, no external references),
  /// valid both on its own and inline in HTML.
  func svg(title: String) -> String {
    let w = Self.number(width)
    let h = Self.number(height)
    return """
      <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(w) \(h)" width="\(w)" height="\(h)" \
      role="img" aria-label="\(escapeMarkup(title))" \
      font-family="system-ui, -apple-system, &#39;Segoe UI&#39;, Roboto, Helvetica, Arial, sans-serif">
      <title>\(escapeMarkup(title))</title>
      \(body)</svg>
      """
  }

  // MARK: - Pieces every chart shares

  /// The title at the top left and a legend of (name, colour, dashed) on the same line at the
  /// right: above the plot area, so it never hides data.
  mutating func header(title: String, legend: [(name: String, color: String, dashed: Bool)], right: Double) {
    text(title, x: 12, y: 22, size: 15, weight: "600")
    // Legend entries from the right edge leftwards, at about 7 px per character of 12 px text.
    var x = right
    for entry in legend.reversed() {
      let textWidth = Double(entry.name.count) * 7
      x -= textWidth
      text(entry.name, x: x, y: 22, size: 12, color: Palette.ink)
      x -= 26
      element("line", [
        "x1": Self.number(x), "y1": "18", "x2": Self.number(x + 20), "y2": "18",
        "stroke": entry.color, "stroke-width": "3", "stroke-dasharray": entry.dashed ? "6 4" : "none",
      ])
      x -= 16
    }
  }

  /// Horizontal grid lines with their tick labels at the left, and the axis label rotated
  /// alongside: the value axis of every chart.
  mutating func valueAxis(scale: NiceScale, format: AxisFormat, label: String, plot: PlotArea) {
    for tick in scale.ticks {
      let y = scale.position(of: tick, from: plot.bottom, to: plot.top)
      line(x1: plot.left, y1: y, x2: plot.right, y2: y, stroke: Palette.grid)
      text(format.label(tick, scale: scale), x: plot.left - 8, y: y + 4, anchor: .end, size: 11,
           color: Palette.mutedInk, className: "tick")
    }
    text(label, x: 16, y: (plot.top + plot.bottom) / 2, anchor: .middle, size: 12, color: Palette.mutedInk, rotate: true)
    line(x1: plot.left, y1: plot.bottom, x2: plot.right, y2: plot.bottom, stroke: Palette.axis)
  }
}

/// The rectangle the data is drawn in, inside the chart's margins.
struct PlotArea {
  var left: Double
  var top: Double
  var right: Double
  var bottom: Double
}
