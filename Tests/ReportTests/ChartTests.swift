import Foundation
import Testing

@testable import Report

@Suite struct NiceScaleTests {
  @Test func ticks_areOneTwoOrFiveTimesAPowerOfTen() {
    let scale = NiceScale(covering: 0.13, 2.7)
    #expect(scale.step == 0.5)
    #expect(scale.ticks == [0, 0.5, 1, 1.5, 2, 2.5, 3])

    let accuracy = NiceScale(covering: 0.912, 0.987)
    #expect(abs(accuracy.step - 0.02) < 1e-12)
    #expect(abs(accuracy.lower - 0.90) < 1e-12 && abs(accuracy.upper - 1.0) < 1e-12)
    #expect(accuracy.decimals() == 2 && accuracy.decimals(percent: true) == 0)
    #expect(accuracy.ticks.map { AxisFormat.percent.label($0, scale: accuracy) } == ["90%", "92%", "94%", "96%", "98%", "100%"])

    #expect(NiceScale(covering: 0, 12_000).step == 5_000)
    #expect(NiceScale(covering: 0, 12_000, targetTicks: 7).step == 2_000)
  }

  @Test func integerSteps_neverSplitAnEpoch() {
    let epochs = NiceScale(covering: 1, 3, targetTicks: 6, integerSteps: true)
    #expect(epochs.ticks == [1, 2, 3])
    #expect(epochs.decimals() == 0)
  }

  @Test func emptyRange_isWidenedAroundTheValue() {
    let scale = NiceScale(covering: 5, 5)
    #expect(scale.lower < 5 && scale.upper > 5)
    #expect(NiceScale(covering: 0, 0).ticks.contains(0))
    #expect(NiceScale(covering: .nan, .infinity).ticks == [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
  }
}

@Suite struct ChartTests {
  let curves = LinePlot(
    title: "Loss <per epoch> & more", xLabel: "epoch", yLabel: "cross-entropy",
    series: [
      .init(name: "train", points: [(1, 0.62), (2, 0.31), (3, 0.22)], color: Palette.blue),
      .init(name: "validation", points: [(1, 0.55), (2, 0.35), (3, 0.29)], color: Palette.orange, dashed: true),
    ])

  @Test func linePlot_isWellFormedWithEscapedTitleAndLegend() throws {
    let svg = curves.svg()
    #expect(svg.contains("Loss &lt;per epoch&gt; &amp; more"))
    let markup = try Markup(svg)
    #expect(try markup.elements("title").first?.text == "Loss <per epoch> & more")
    let texts = try markup.elements("text").map(\.text)
    #expect(texts.contains("train") && texts.contains("validation"))
    #expect(texts.contains("epoch") && texts.contains("cross-entropy"))
    // Self-contained: no scripts, and the only URL is the SVG namespace name.
    #expect(!svg.contains("<script"))
    #expect(svg.components(separatedBy: "http").count == 2 && svg.contains("xmlns=\"http://www.w3.org/2000/svg\""))
  }

  @Test func linePlot_drawsOnePolylinePerSeriesWithNiceTicks() throws {
    let markup = try Markup(curves.svg())
    let lines = try markup.elements("polyline")
    #expect(lines.count == 2)
    #expect(lines[0].attribute("stroke-dasharray") == "none")
    #expect(lines[1].attribute("stroke-dasharray") == "6 4")
    #expect(lines[0].attribute("points")?.split(separator: " ").count == 3)
    let ticks = try markup.elements("text", where: "@class='tick'").map(\.text)
    // y: 0.22…0.62 → 0.2…0.7 in steps of 0.1; x: epochs 1, 2, 3.
    #expect(ticks == ["0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "1", "2", "3"])
  }

  @Test func linePlot_placesPointsByValue() throws {
    let plot = LinePlot(title: "t", xLabel: "x", yLabel: "y", series: [.init(name: "s", points: [(0, 0), (10, 1)])],
                        integerX: false, width: 200, height: 150)
    let points = try Markup(plot.svg()).elements("polyline").first?.attribute("points")
    // Plot area: x from 64 to 180, y from 102 (bottom, value 0) to 40 (top, value 1).
    #expect(points == "64.0,102.0 180.0,40.0")
  }

  @Test func heatMap_writesEveryCountAndShadesByRowShare() throws {
    var counts = (0..<10).map { row in (0..<10).map { $0 == row ? 100 : 0 } }
    counts[3][5] = 25
    counts[3][3] = 75
    let markup = try Markup(ConfusionHeatMap(counts: counts).svg())
    let cells = try markup.elements("g", where: "@class='cell'")
    #expect(cells.count == 100)
    let cell = try #require(try markup.elements("g", where: "@data-true='3' and @data-predicted='5'").first)
    #expect(cell.attribute("data-count") == "25")
    #expect(try cell.descendants("text").first?.text == "25")
    #expect(try cell.descendants("title").first?.text == "true 3, predicted 5: 25 (25.0% of row)")
    // A mistake at 25% of its row: red at strength √0.25 = 0.5, halfway from white.
    #expect(try cell.descendants("rect").first?.attribute("fill") == "#ee9393")
    let perfect = try #require(try markup.elements("g", where: "@data-true='0' and @data-predicted='0'").first)
    #expect(try perfect.descendants("rect").first?.attribute("fill") == "#2563eb")
    let texts = try markup.elements("text").map(\.text)
    #expect(texts.contains("true") && texts.contains("predicted"))
    #expect(try markup.elements("text", where: "@class='tick'").count == 20)
  }

  @Test func barChart_drawsABarPerSeriesAndCategoryFromZero() throws {
    let chart = GroupedBarChart(
      title: "Class distribution", xLabel: "digit", yLabel: "share", categories: ["a", "b"],
      series: [.init(name: "training", values: [0.25, 0.75], color: Palette.blue),
               .init(name: "submission", values: [0.5, 0.5], color: Palette.orange)],
      yFormat: .percent, width: 300, height: 200)
    let markup = try Markup(chart.svg())
    let bars = try markup.elements("rect", where: "@class='bar'")
    #expect(bars.count == 4)
    let heights = bars.compactMap { $0.attribute("height").flatMap(Double.init) }
    // 0…0.8 maps onto 112 px (40 to 152): 0.25 → 35, 0.5 → 70, 0.75 → 105.
    #expect(heights == [35, 70, 105, 70])
    #expect(try markup.elements("text", where: "@class='tick'").map(\.text).prefix(3) == ["0%", "20%", "40%"])
    #expect(try bars[2].descendants("title").first?.text == "training, b: 75.00%")
  }
}
