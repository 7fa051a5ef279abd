/// Bars for several series side by side in each category, as a self-contained SVG: used for the
/// class distribution of the training labels next to the submission's predictions.
public struct GroupedBarChart: Sendable {
  public struct Series: Sendable {
    public var name: String
    /// One value per category, in category order.
    public var values: [Double]
    public var color: String

    public init(name: String, values: [Double], color: String) {
      self.name = name
      self.values = values
      self.color = color
    }
  }

  public var title: String
  public var xLabel: String
  public var yLabel: String
  public var categories: [String]
  public var series: [Series]
  public var yFormat: AxisFormat
  public var width: Double
  public var height: Double

  public init(
    title: String, xLabel: String, yLabel: String, categories: [String], series: [Series],
    yFormat: AxisFormat = .plain, width: Double = 720, height: Double = 320
  ) {
    precondition(series.allSatisfy { $0.values.count == categories.count }, "one value per category in every series")
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.categories = categories
    self.series = series
    self.yFormat = yFormat
    self.width = width
    self.height = height
  }

  public func svg() -> String {
    var writer = SVGWriter(width: width, height: height)
    let plot = PlotArea(left: 64, top: 40, right: width - 20, bottom: height - 48)
    // Bars grow from zero: a bar chart with a cut axis exaggerates differences.
    let values = series.flatMap(\.values).filter(\.isFinite)
    let yScale = NiceScale(covering: min(0, values.min() ?? 0), max(values.max() ?? 1, 0), targetTicks: 5)
    writer.header(title: title, legend: series.map { ($0.name, $0.color, false) }, right: plot.right)
    writer.valueAxis(scale: yScale, format: yFormat, label: yLabel, plot: plot)

    let groupWidth = (plot.right - plot.left) / Double(max(categories.count, 1))
    let barWidth = groupWidth * 0.75 / Double(max(series.count, 1))
    let zero = yScale.position(of: 0, from: plot.bottom, to: plot.top)
    for (index, category) in categories.enumerated() {
      let groupLeft = plot.left + Double(index) * groupWidth
      writer.text(category, x: groupLeft + groupWidth / 2, y: plot.bottom + 18, anchor: .middle, size: 11,
                  color: Palette.mutedInk, className: "tick")
      for (seriesIndex, line) in series.enumerated() {
        let value = line.values[index].isFinite ? line.values[index] : 0
        let x = groupLeft + groupWidth * 0.125 + Double(seriesIndex) * barWidth
        let y = yScale.position(of: value, from: plot.bottom, to: plot.top)
        writer.element("rect", [
          "x": SVGWriter.number(x), "y": SVGWriter.number(min(y, zero)), "width": SVGWriter.number(barWidth - 1),
          "height": SVGWriter.number(abs(zero - y)), "fill": line.color, "rx": "1.5", "class": "bar",
        ], content: "<title>\(escapeMarkup("\(line.name), \(category): \(yFormat.precise(value))"))</title>")
      }
    }
    writer.text(xLabel, x: (plot.left + plot.right) / 2, y: height - 10, anchor: .middle, size: 12, color: Palette.mutedInk)
    return writer.svg(title: title)
  }
}
