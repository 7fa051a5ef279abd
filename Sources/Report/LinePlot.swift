/// A line chart of one or more series against a shared x axis, as a self-contained SVG: used for
/// training curves (loss or accuracy per epoch, training and validation).
public struct LinePlot: Sendable {
  /// One line: its legend name, its points in data coordinates, and how it is drawn.
  public struct Series: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double)]
    public var color: String
    /// Dashed lines tell validation from training apart without relying on colour alone.
    public var dashed: Bool

    public init(name: String, points: [(Double, Double)], color: String = Palette.blue, dashed: Bool = false) {
      self.name = name
      self.points = points.map { (x: $0.0, y: $0.1) }
      self.color = color
      self.dashed = dashed
    }
  }

  public var title: String
  public var xLabel: String
  public var yLabel: String
  public var series: [Series]
  public var yFormat: AxisFormat
  /// Steps of at least 1 on the x axis, for epochs: never a tick at epoch 2.5.
  public var integerX: Bool
  public var width: Double
  public var height: Double

  public init(
    title: String, xLabel: String, yLabel: String, series: [Series], yFormat: AxisFormat = .plain,
    integerX: Bool = true, width: Double = 560, height: Double = 320
  ) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.series = series
    self.yFormat = yFormat
    self.integerX = integerX
    self.width = width
    self.height = height
  }

  public func svg() -> String {
    var writer = SVGWriter(width: width, height: height)
    let plot = PlotArea(left: 64, top: 40, right: width - 20, bottom: height - 48)
    let points = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
    let xScale = NiceScale(
      covering: points.map(\.x).min() ?? 0, points.map(\.x).max() ?? 1, targetTicks: 6, integerSteps: integerX)
    let yScale = NiceScale(covering: points.map(\.y).min() ?? 0, points.map(\.y).max() ?? 1, targetTicks: 5)

    writer.header(title: title, legend: series.map { ($0.name, $0.color, $0.dashed) }, right: plot.right)
    writer.valueAxis(scale: yScale, format: yFormat, label: yLabel, plot: plot)
    for tick in xScale.ticks {
      let x = xScale.position(of: tick, from: plot.left, to: plot.right)
      writer.line(x1: x, y1: plot.bottom, x2: x, y2: plot.bottom + 5, stroke: Palette.axis)
      writer.text(Format.fixed(tick, decimals: xScale.decimals()), x: x, y: plot.bottom + 18, anchor: .middle,
                  size: 11, color: Palette.mutedInk, className: "tick")
    }
    writer.text(xLabel, x: (plot.left + plot.right) / 2, y: height - 10, anchor: .middle, size: 12, color: Palette.mutedInk)

    for line in series {
      let finite = line.points.filter { $0.x.isFinite && $0.y.isFinite }
      let coordinates = finite.map { point in
        SVGWriter.number(xScale.position(of: point.x, from: plot.left, to: plot.right)) + ","
          + SVGWriter.number(yScale.position(of: point.y, from: plot.bottom, to: plot.top))
      }
      writer.element("polyline", [
        "points": coordinates.joined(separator: " "), "fill": "none", "stroke": line.color, "stroke-width": "2",
        "stroke-linejoin": "round", "stroke-dasharray": line.dashed ? "6 4" : "none", "class": "series",
      ])
      // Dots mark the measured epochs; with few epochs a bare line would hide where they are.
      if finite.count <= 40 {
        for (point, coordinate) in zip(finite, coordinates) {
          let xy = coordinate.split(separator: ",")
          writer.element("circle", ["cx": String(xy[0]), "cy": String(xy[1]), "r": "2.5", "fill": line.color],
                         content: "<title>\(escapeMarkup("\(line.name): \(yFormat.precise(point.y)) at \(Format.fixed(point.x, decimals: xScale.decimals()))"))</title>")
        }
      }
    }
    return writer.svg(title: title)
  }
}
