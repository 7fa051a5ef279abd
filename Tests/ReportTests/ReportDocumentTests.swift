import Foundation
import Testing

@testable import Report

@Suite struct ReportDocumentTests {
  let document = ExampleReport.document

  @Test func html_isOneWellFormedDocumentWithEverySection() throws {
    let html = document.html()
    #expect(html.hasPrefix("<!DOCTYPE html>"))
    let markup = try Markup(html)
    for id in ["run", "training", "confusion", "per-class", "mistakes", "distribution"] {
      let section = try markup.element(id: id)
      #expect(section.name == "section")
    }
    // Self-contained: no scripts, no stylesheets or images fetched from anywhere.
    #expect(!html.contains("<script"))
    #expect(try markup.elements("link").isEmpty)
    #expect(try markup.elements("img").allSatisfy { $0.attribute("src")?.hasPrefix("data:image/png;base64,") == true })
    #expect(!html.contains("url("))
    let addresses = html.components(separatedBy: "http").dropFirst()
    #expect(addresses.allSatisfy { $0.hasPrefix("://www.w3.org/2000/svg\"") })  // namespace names only
  }

  @Test func header_showsAccuracyAndLossInFixedFormats() throws {
    let markup = try Markup(document.html())
    let total = ExampleReport.confusion.joined().reduce(0, +)
    let correct = (0..<10).reduce(0) { $0 + ExampleReport.confusion[$1][$1] }
    let expected = String(format: "%.2f%%", Double(correct) / Double(total) * 100)
    #expect(try markup.element(id: "accuracy").text == expected)
    #expect(try markup.element(id: "loss").text == "0.1093")
    #expect(try markup.element(id: "rows").stringValue == "4\u{2009}\(String(total).dropFirst())")
    #expect(try markup.element(id: "epochs").text == "8")
  }

  @Test func runSection_listsStagesParametersAndSeed() throws {
    let markup = try Markup(document.html())
    let run = try markup.element(id: "run")
    #expect(try markup.element(id: "seed").text == "42")
    let rows = try run.descendants("tr", where: "@data-stage")
    #expect(rows.map { $0.attribute("data-stage") } == ["unpack", "parse", "normalise", "split", "train", "evaluate", "predict"])
    let train = rows[4]
    #expect(try train.descendants("code").first?.text == "7ra1n7ra1n7r")
    #expect(try train.descendants("code").first?.attribute("title") == "7ra1n7ra1n7ra1n7ra1n7ra1n7ra1n00")
    #expect(try train.descendants("td", where: "@class='num seconds'").first?.text == "41.87")
    #expect(try rows[0].descendants("td", where: "@class='source'").first?.text == "cache")
    #expect(try train.descendants("td", where: "@class='source'").first?.text == "ran")
  }

  /// Each stage's parameters as `parameter | value` rows under the stage's name, not a dump.
  @Test func parameters_areATableOfRowsPerStage() throws {
    let html = document.html()
    let table = try Markup(html).element(id: "parameters")
    #expect(table.name == "table")
    let groups = try table.descendants("tbody")
    // A stage without parameters (parse) has no group.
    #expect(groups.map { $0.attribute("data-parameters-of") } == ["unpack", "split", "train"])
    let train = try groups[2].descendants("tr", where: "@data-parameter")
    #expect(try train.map { try $0.descendants("td").map(\.text) }.dropFirst() == [
      ["model.layers", "[{dense: 256}, relu, {dense: 10}]"],
      // Special characters escaped in the file and intact once parsed.
      ["optimizer.kind", "adamw <lr=0.001 & wd=0.01>"],
      ["optimizer.learning_rate", "0.001"],
    ])
    // The stage's name spans its rows, in the first.
    let first = try #require(try train.first?.descendants("td").first)
    #expect(first.text == "train" && first.attribute("rowspan") == "4")
    // No JSON anywhere in the run section.
    let run = try Markup(html).element(id: "run").stringValue ?? ""
    #expect(!run.contains("\"epochs\"") && !run.contains("\" : ") && !html.contains("<pre id=\"parameters\""))
  }

  /// A model trained by the pipeline: its architecture from the model file, and the pointer to
  /// the train stage's settings.
  @Test func model_trainedByThePipeline_pointsAtTheTrainSettings() throws {
    let markup = try Markup(document.html())
    #expect(try markup.element(id: "model-source").text == "trained by this pipeline")
    #expect(try markup.element(id: "architecture").stringValue == "784 → dense 256 → relu → dense 10, 203\u{2009}530 parameters")
    #expect(try markup.element(id: "model-spec").stringValue == "{init: he, layers: [{dense: 256}, relu, {dense: 10}]}")
    #expect(try markup.element(id: "model-normalisation").text == "pixel × 0.00392157 + 0")
    #expect(try markup.element(id: "ensemble").stringValue == "1 model (train)")
  }

  /// A model file from outside: named with its hash and size, said not to be trained here, its
  /// training not recorded; the header names it too.
  @Test func model_fromAFile_isNamedAndNotPassedOffAsTrainedHere() throws {
    var document = self.document
    let sha256 = "ec46556209d3c15c40f98852025af01ac65938c083c715111e056fb0001d2038"
    document.run.model?.origin = .file(path: "input/<pre>.npz", sha256: sha256, bytes: 409_214)
    document.run.model?.normalisation = (scale: 0.012715652, offset: -0.42437714)
    document.run.members = ["pretrained", "x"]
    document.run.machine = nil
    document.history = []
    let markup = try Markup(document.html())
    #expect(try markup.element(id: "model-source").stringValue
      == "input/<pre>.npz (sha256 ec46556209d3, 399.6 KiB), from outside the pipeline: not trained by this run")
    #expect(try markup.element(id: "model-normalisation").text == "pixel × 0.01271565 − 0.42437714")
    #expect(try markup.element(id: "model-training").text.hasPrefix("not recorded: "))
    #expect(try markup.element(id: "machine").text == "Not recorded: the model came from a file.")
    #expect(try markup.element(id: "ensemble").stringValue == "2 models (pretrained, x), their probabilities averaged")
    #expect(try markup.elements("p").first { $0.attribute("class") == "subtitle" }?.stringValue
      == "pipelines/mlp.yaml · seed 42 · model input/<pre>.npz")
    let training = try markup.element(id: "training").stringValue ?? ""
    #expect(training.contains("No training history: the model came from input/<pre>.npz, not trained by this run."))
  }

  /// The machine the model was trained on, line by line as its cache entry recorded it, or a
  /// plain statement that it was not recorded.
  @Test func runSection_showsWhatTheModelWasTrainedOn() throws {
    var recorded = document
    recorded.run.machine = ["CPU         AMD EPYC <test>, 2 cores", "kernels     Cooperlake: picked by OpenBLAS"]
    let machine = try Markup(recorded.html()).element(id: "machine")
    #expect(machine.name == "pre")
    #expect(machine.stringValue == "CPU         AMD EPYC <test>, 2 cores\nkernels     Cooperlake: picked by OpenBLAS")

    var unrecorded = document
    unrecorded.run.machine = nil
    let missing = try Markup(unrecorded.html()).element(id: "machine")
    #expect(missing.name == "p")
    #expect(missing.text == "Not recorded: the train stage's cache entry is older than the record.")
  }

  @Test func trainingSection_hasBothCurvesAndAnEpochTable() throws {
    let training = try Markup(document.html()).element(id: "training")
    let plots = try training.descendants("svg")
    #expect(plots.count == 2)
    #expect(try plots.map { try $0.descendants("polyline").count } == [2, 2])
    let rows = try training.descendants("tr", where: "@data-epoch")
    #expect(rows.count == 8)
    let first = try rows[0].descendants("td").map(\.text)
    // Epoch 1: train loss 0.47, train accuracy 1 - 0.094, validation loss 0.46, accuracy 1 - 0.088.
    #expect(first == ["1", "0.4700", "90.60%", "0.4600", "91.20%", "0.001", "5.20"])
  }

  @Test func trainingWithoutValidation_drawsOnlyTheTrainingCurves() throws {
    var document = self.document
    document.history = [.init(epoch: 1, trainLoss: 0.5, trainAccuracy: 0.8), .init(epoch: 2, trainLoss: 0.3, trainAccuracy: 0.9)]
    let training = try Markup(document.html()).element(id: "training")
    #expect(try training.descendants("polyline").count == 2)  // one per plot
    #expect(try training.descendants("tr", where: "@data-epoch='2'").first?.descendants("td").map(\.text)
      == ["2", "0.3000", "90.00%", "–", "–", "–", "–"])
  }

  @Test func confusionSection_writesEachCellCount() throws {
    let confusion = try Markup(document.html()).element(id: "confusion")
    let cells = try confusion.descendants("g", where: "@class='cell'")
    #expect(cells.count == 100)
    let fourAsNine = try #require(try confusion.descendants("g", where: "@data-true='4' and @data-predicted='9'").first)
    #expect(try fourAsNine.descendants("text").first?.text == "23")
    let diagonal = try #require(try confusion.descendants("g", where: "@data-true='4' and @data-predicted='4'").first)
    #expect(try diagonal.descendants("text").first?.text == String(412 - 23))
    // The most frequent confusion is listed first.
    let top = try confusion.descendants("li").first?.text
    #expect(top == "4 → 9 23 5.6%")
  }

  @Test func perClassTable_hasTenRowsWithTheGivenScores() throws {
    var document = self.document
    document.metrics.perClass = (0..<10).map {
      .init(label: $0, precision: 0.9 + Double($0) / 100, recall: 0.8 + Double($0) / 1000, f1: 0.85, support: 100 + $0)
    }
    let perClass = try Markup(document.html()).element(id: "per-class")
    let rows = try perClass.descendants("tr", where: "@data-label")
    #expect(rows.count == 10)
    for (label, row) in rows.enumerated() {
      #expect(row.attribute("data-label") == String(label))
      #expect(try row.descendants("td").map(\.text) == [
        String(label), String(format: "%.4f", 0.9 + Double(label) / 100), String(format: "%.4f", 0.8 + Double(label) / 1000),
        "0.8500", String(100 + label),
      ])
    }
    #expect(try perClass.descendants("tfoot").first?.descendants("td").map(\.text)
      == ["macro avg", "0.9450", "0.8045", "0.8500", "1045"])
  }

  @Test func derivedMetrics_matchTheConfusionMatrix() {
    let metrics = ReportDocument.Metrics(loss: 0.5, confusion: [[8, 2], [1, 9]])
    #expect(metrics.accuracy == 0.85)
    #expect(metrics.perClass[0] == .init(label: 0, precision: 8.0 / 9, recall: 0.8, f1: 2 * (8.0 / 9) * 0.8 / (8.0 / 9 + 0.8), support: 10))
    #expect(metrics.perClass[1].precision == 9.0 / 11 && metrics.perClass[1].recall == 0.9)
    #expect(ReportDocument.ClassMetrics.fromConfusion([[0, 0], [3, 0]])[0].precision == 0)
  }

  @Test func gallery_embedsEachMistakeAsAPNGOfTheRightSize() throws {
    let mistakes = try Markup(document.html()).element(id: "mistakes")
    let figures = try mistakes.descendants("figure", where: "@class='mistake'")
    #expect(figures.count == document.mistakes.count)
    for (figure, mistake) in zip(figures, document.mistakes) {
      #expect(figure.attribute("data-true") == String(mistake.trueLabel))
      #expect(figure.attribute("data-predicted") == String(mistake.predictedLabel))
      let image = try #require(try figure.descendants("img").first)
      let source = try #require(image.attribute("src"))
      let bytes = try #require(Data(base64Encoded: String(source.dropFirst("data:image/png;base64,".count))))
      let png = try DecodedPNG([UInt8](bytes))
      #expect(png.width == 84 && png.height == 84)
      // Inverted so ink is dark: the top-left pixel of the scaled image is the digit's, flipped.
      #expect(png.pixels[0] == 255 - mistake.pixels[0])
      #expect(png.pixels[84 * 3 * 14 + 3 * 14] == 255 - mistake.pixels[28 * 14 + 14])
      #expect(try figure.descendants("span", where: "@class='probability'").first?.text
        == String(format: "%.1f%%", mistake.probability * 100))
    }
  }

  @Test func distributionSection_showsCountsAndShares() throws {
    let distribution = try Markup(document.html()).element(id: "distribution")
    #expect(try distribution.descendants("rect", where: "@class='bar'").count == 20)
    let rows = try distribution.descendants("tr", where: "@data-label")
    #expect(rows.count == 10)
    // 4684 of 42 000 training labels are ones; 3198 of 28 000 predictions.
    #expect(try rows[1].descendants("td").map(\.text) == ["1", "4684", "11.15%", "3198", "11.42%"])
  }

  @Test func emptyParts_sayWhatIsMissingInsteadOfBreaking() throws {
    let document = ReportDocument(
      run: .init(pipelineFile: "p.yaml", seed: 0, stages: []), history: [],
      metrics: .init(accuracy: 0, loss: .nan, perClass: [], confusion: []), mistakes: [],
      distribution: .init(training: [], submission: []))
    let markup = try Markup(document.html())
    for id in ["training", "confusion", "per-class", "mistakes", "distribution"] {
      #expect(try markup.element(id: id).descendants("p", where: "@class='empty'").count == 1)
    }
    #expect(try markup.element(id: "model").text == "Not recorded.")
    #expect(try markup.element(id: "parameters").text == "No parameters recorded.")
    #expect(try markup.element(id: "loss").text == "–")
  }

  @Test func userText_isEscaped() throws {
    var document = self.document
    document.title = "Run <b>&</b> \"quoted\""
    document.run.stages[0].name = "<script>alert(1)</script>"
    let html = document.html()
    #expect(!html.contains("<script>"))
    #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
    let markup = try Markup(html)
    #expect(try markup.elements("h1").first?.text == "Run <b>&</b> \"quoted\"")
  }

  /// Writes the example report where `REPORT_EXAMPLE_DIR` points, to look at in a browser.
  @Test(.enabled(if: ProcessInfo.processInfo.environment["REPORT_EXAMPLE_DIR"] != nil, "set REPORT_EXAMPLE_DIR to write the example"))
  func writeExample() throws {
    let directory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["REPORT_EXAMPLE_DIR"]!)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try document.html().write(to: directory.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
  }
}
