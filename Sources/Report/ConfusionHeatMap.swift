/// A confusion matrix as an SVG heat map: rows are the true class, columns the predicted one,
/// each cell showing its count and shaded by its share of the row, so a rare class's mistakes
/// stand out as much as a common one's.
public struct ConfusionHeatMap: Sendable {
  /// `counts[trueClass][predictedClass]`; square.
  public var counts: [[Int]]
  /// One per class, in row order: "0" … "9" for digits.
  public var labels: [String]
  public var title: String
  public var cellSize: Double

  public init(counts: [[Int]], labels: [String]? = nil, title: String = "Confusion matrix", cellSize: Double = 44) {
    precondition(counts.allSatisfy { $0.count == counts.count }, "a confusion matrix must be square")
    self.counts = counts
    self.labels = labels ?? counts.indices.map(String.init)
    self.title = title
    self.cellSize = cellSize
  }

  /// The colour of a cell: blue on the diagonal (correct), red off it (mistakes), mixed with white
  /// by the cell's share of its row. Mistakes use the square root of that share, so a 1% confusion
  /// is visibly tinted instead of indistinguishable from 0.
  static func color(count: Int, rowTotal: Int, isDiagonal: Bool) -> (fill: String, text: String) {
    guard count > 0, rowTotal > 0 else { return ("#ffffff", "#c0c6cf") }
    let share = Double(count) / Double(rowTotal)
    let strength = isDiagonal ? share : share.squareRoot()
    let target: (Double, Double, Double) = isDiagonal ? (37, 99, 235) : (220, 38, 38)
    func mix(_ channel: Double) -> Int { Int((255 + (channel - 255) * strength).rounded()) }
    let fill = "#" + [mix(target.0), mix(target.1), mix(target.2)].map { hex2($0) }.joined()
    return (fill, strength > 0.55 ? "#ffffff" : Palette.ink)
  }

  public func svg() -> String {
    let n = counts.count
    let left = 78.0
    let top = 64.0
    let side = Double(n) * cellSize
    var writer = SVGWriter(width: left + side + 24, height: top + side + 52)
    writer.header(title: title, legend: [], right: writer.width)
    writer.text("predicted", x: left + side / 2, y: top + side + 42, anchor: .middle, size: 12, color: Palette.mutedInk)
    writer.text("true", x: 18, y: top + side / 2, anchor: .middle, size: 12, color: Palette.mutedInk, rotate: true)

    for index in 0..<n {
      let centre = Double(index) * cellSize + cellSize / 2
      writer.text(labels[index], x: left + centre, y: top + side + 18, anchor: .middle, size: 12,
                  color: Palette.mutedInk, className: "tick")
      writer.text(labels[index], x: left - 10, y: top + centre + 4, anchor: .end, size: 12,
                  color: Palette.mutedInk, className: "tick")
    }
    for (row, rowCounts) in counts.enumerated() {
      let total = rowCounts.reduce(0, +)
      for (column, count) in rowCounts.enumerated() {
        let (fill, textColor) = Self.color(count: count, rowTotal: total, isDiagonal: row == column)
        let x = left + Double(column) * cellSize
        let y = top + Double(row) * cellSize
        let share = total > 0 ? Format.percent(Double(count) / Double(total), decimals: 1) : "–"
        writer.raw("<g class=\"cell\" data-true=\"\(escapeMarkup(labels[row]))\" data-predicted=\"\(escapeMarkup(labels[column]))\" data-count=\"\(count)\">")
        writer.raw("<title>\(escapeMarkup("true \(labels[row]), predicted \(labels[column]): \(count) (\(share) of row)"))</title>")
        writer.element("rect", [
          "x": SVGWriter.number(x), "y": SVGWriter.number(y), "width": SVGWriter.number(cellSize),
          "height": SVGWriter.number(cellSize), "fill": fill, "stroke": "#ffffff", "stroke-width": "1",
        ])
        // Big counts (tens of thousands) get smaller type so they stay inside the cell.
        let size = String(count).count > 4 ? 10.0 : 12.0
        writer.text(String(count), x: x + cellSize / 2, y: y + cellSize / 2 + size / 3, anchor: .middle,
                    size: size, color: textColor, weight: row == column ? "600" : "normal")
        writer.raw("</g>\n")
      }
    }
    return writer.svg(title: title)
  }
}

/// Two lowercase hex digits for 0...255.
func hex2(_ value: Int) -> String {
  let digits = Array("0123456789abcdef")
  let clamped = min(max(value, 0), 255)
  return String([digits[clamped / 16], digits[clamped % 16]])
}
