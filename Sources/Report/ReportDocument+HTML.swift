/// The report as one HTML5 file: inline CSS, inline SVG charts, digits as `data:` PNGs. It opens
/// from a CI artifact or an e-mail attachment with no network and no scripts.
///
/// The markup is also well-formed XML (every element closed, attributes quoted, no named
/// entities), so tests can parse it, and each section has a stable `id`: `run`, `training`,
/// `confusion`, `per-class`, `mistakes`, `distribution`. Numbers use fixed formats: percentages
/// with two decimals (`97.52%`), losses and scores with four (`0.0812`), seconds with two.
extension ReportDocument {
  public func html() -> String {
    """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>\(escapeMarkup(title))</title>
    <style>\(Self.stylesheet)</style>
    </head>
    <body>
    <main>
    \(headerHTML())
    \(runHTML())
    \(trainingHTML())
    \(confusionHTML())
    \(perClassHTML())
    \(mistakesHTML())
    \(distributionHTML())
    </main>
    </body>
    </html>

    """
  }

  /// Side length of a gallery digit in the PNG; CSS shows it at the same size, pixelated, so
  /// the strokes stay crisp rather than blurred by the browser's smoothing.
  static let digitScale = 3

  // MARK: - Sections

  private func headerHTML() -> String {
    let epochs = history.last.map { String($0.epoch) } ?? "–"
    let model = modelFilePath.map { " · model <code>\(escapeMarkup($0))</code>" } ?? ""
    return """
      <header>
      <h1>\(escapeMarkup(title))</h1>
      <p class="subtitle"><code>\(escapeMarkup(run.pipelineFile))</code> · seed \(run.seed)\(model)</p>
      <div class="cards">
      \(card("\(metrics.measure) accuracy", Format.percent(metrics.accuracy), id: "accuracy"))
      \(card("\(metrics.measure) loss", Format.fixed(metrics.loss, decimals: 4), id: "loss"))
      \(card("\(metrics.measure) examples", Format.grouped(metrics.rows), id: "rows"))
      \(card("Epochs", epochs, id: "epochs"))
      </div>
      </header>
      """
  }

  private func card(_ label: String, _ value: String, id: String) -> String {
    "<div class=\"card\"><span class=\"label\">\(escapeMarkup(label))</span>"
      + "<span class=\"value\" id=\"\(id)\">\(escapeMarkup(value))</span></div>"
  }

  private func runHTML() -> String {
    let total = run.stages.reduce(0) { $0 + $1.seconds }
    let cached = run.stages.filter(\.fromCache).count
    let rows = run.stages.enumerated().map { index, stage in
      let short = String(stage.fingerprint.prefix(12))
      let source = stage.fromCache
        ? "<span class=\"badge cached\">cache</span>" : "<span class=\"badge ran\">ran</span>"
      return """
        <tr data-stage="\(escapeMarkup(stage.name))"><td class="num muted">\(index + 1)</td>\
        <td>\(escapeMarkup(stage.name))</td>\
        <td><code title="\(escapeMarkup(stage.fingerprint))">\(escapeMarkup(short))</code></td>\
        <td class="num seconds">\(Format.fixed(stage.seconds, decimals: 2))</td><td class="source">\(source)</td></tr>
        """
    }
    let unrecordedMachine = switch run.model?.origin {
    case .file?: "Not recorded: the model came from a file."
    case .trained?: "Not recorded: the train stage's cache entry is older than the record."
    case nil: "Not recorded: the model came from a file, or from a cache entry older than the record."
    }
    return """
      <section id="run">
      <h2>Run</h2>
      <dl class="facts">
      <dt>Pipeline file</dt><dd><code>\(escapeMarkup(run.pipelineFile))</code></dd>
      <dt>Seed</dt><dd id="seed">\(run.seed)</dd>
      <dt>Stages</dt><dd>\(run.stages.count) (\(cached) from cache, \(run.stages.count - cached) ran)</dd>
      <dt>Total time</dt><dd>\(Format.fixed(total, decimals: 2)) s</dd>
      </dl>
      <h3>Model</h3>
      \(modelHTML())
      <h3>Trained on</h3>
      \(run.machine.map { "<pre id=\"machine\">\(escapeMarkup($0.joined(separator: "\n")))</pre>" }
        ?? "<p class=\"empty\" id=\"machine\">\(escapeMarkup(unrecordedMachine))</p>")
      <h3>Stages</h3>
      \(table(
        headers: [("#", true), ("Stage", false), ("Fingerprint", false), ("Seconds", true), ("Source", false)],
        rows: rows, empty: "No stages recorded."))
      <h3>Parameters</h3>
      \(parametersHTML())
      </section>
      """
  }

  /// The path of the model file when the model came from outside the pipeline (`--model`).
  private var modelFilePath: String? {
    if case .file(let path, _, _)? = run.model?.origin { path } else { nil }
  }

  /// Where the model came from and what it is, as its file records it: for a file from outside,
  /// never the pipeline file's train section, which did not make it.
  private func modelHTML() -> String {
    let ensemble = run.members.count == 1
      ? "1 model (<code>\(escapeMarkup(run.members[0]))</code>)"
      : "\(run.members.count) models (\(run.members.map { "<code>\(escapeMarkup($0))</code>" }.joined(separator: ", "))), their probabilities averaged"
    let ensembleFact = run.members.isEmpty ? "" : "\n<dt>Ensemble</dt><dd id=\"ensemble\">\(ensemble)</dd>"
    guard let model = run.model else {
      return "<p class=\"empty\" id=\"model\">Not recorded.</p>" + (ensembleFact.isEmpty ? "" : "\n<dl class=\"facts\">\(ensembleFact)\n</dl>")
    }
    let source: String
    let training: String
    switch model.origin {
    case .trained:
      source = "trained by this pipeline"
      training = "the settings of the train stage, under Parameters below"
    case let .file(path, sha256, bytes):
      source = "<code>\(escapeMarkup(path))</code> (sha256 <code title=\"\(escapeMarkup(sha256))\">\(escapeMarkup(String(sha256.prefix(12))))</code>, "
        + "\(Format.bytes(bytes))), from outside the pipeline: not trained by this run"
      training = "not recorded: the file holds the architecture, its initialisation and the normalisation it was "
        + "trained on, not how it was trained (optimizer, epochs, seed, data)"
    }
    let normalisation = model.normalisation.map { scale, offset in
      "pixel × \(Self.compact(scale)) \(offset < 0 ? "−" : "+") \(Self.compact(abs(offset)))"
    } ?? "not recorded"
    return """
      <dl class="facts" id="model">
      <dt>Model</dt><dd id="model-source">\(source)</dd>
      <dt>Architecture</dt><dd id="architecture"><code>\(escapeMarkup(model.outline))</code>, \
      \(Format.grouped(model.parameterCount)) parameters</dd>
      <dt>As written</dt><dd id="model-spec"><code>\(escapeMarkup(model.spec))</code></dd>
      <dt>Trained on pixels</dt><dd id="model-normalisation">\(escapeMarkup(normalisation))</dd>
      <dt>Training</dt><dd id="model-training">\(escapeMarkup(training))</dd>\(ensembleFact)
      </dl>
      """
  }

  /// One table, a group of `parameter | value` rows per stage.
  private func parametersHTML() -> String {
    let note = modelFilePath == nil ? "" : " No train stage ran: the pipeline file's train section made nothing here."
    let groups = run.parameters.filter { !$0.rows.isEmpty }.map { stage in
      let rows = stage.rows.enumerated().map { index, row in
        let name = index == 0
          ? "<td class=\"stage\" rowspan=\"\(stage.rows.count)\">\(escapeMarkup(stage.stage))</td>" : ""
        return "<tr data-parameter=\"\(escapeMarkup(row.path))\">\(name)<td><code>\(escapeMarkup(row.path))</code></td>"
          + "<td><code>\(escapeMarkup(row.value))</code></td></tr>"
      }
      return "<tbody data-parameters-of=\"\(escapeMarkup(stage.stage))\">\n\(rows.joined(separator: "\n"))\n</tbody>"
    }
    guard !groups.isEmpty else { return "<p class=\"empty\" id=\"parameters\">No parameters recorded.</p>" }
    return """
      <p class="note">Each stage's parameters as its cache entry records them (what its fingerprint covers), \
      values in a pipeline file's spelling; files by the start of their SHA-256.\(note)</p>
      <table id="parameters">
      <thead><tr><th>Stage</th><th>Parameter</th><th>Value</th></tr></thead>
      \(groups.joined(separator: "\n"))
      </table>
      """
  }

  private func trainingHTML() -> String {
    guard !history.isEmpty else {
      let reason = modelFilePath.map { "the model came from \($0), not trained by this run" } ?? "the model was not trained in this run"
      return section("training", "Training", "<p class=\"empty\">\(escapeMarkup("No training history: \(reason)."))</p>")
    }
    func series(_ name: String, _ values: [(Int, Double?)], color: String, dashed: Bool) -> LinePlot.Series? {
      let points = values.compactMap { epoch, value in value.map { (Double(epoch), $0) } }
      return points.isEmpty ? nil : .init(name: name, points: points, color: color, dashed: dashed)
    }
    let loss = LinePlot(
      title: "Loss per epoch", xLabel: "epoch", yLabel: "cross-entropy",
      series: [
        series("train", history.map { ($0.epoch, $0.trainLoss) }, color: Palette.blue, dashed: false),
        series("validation", history.map { ($0.epoch, $0.validationLoss) }, color: Palette.orange, dashed: true),
      ].compactMap { $0 })
    let accuracy = LinePlot(
      title: "Accuracy per epoch", xLabel: "epoch", yLabel: "accuracy",
      series: [
        series("train", history.map { ($0.epoch, $0.trainAccuracy) }, color: Palette.blue, dashed: false),
        series("validation", history.map { ($0.epoch, $0.validationAccuracy) }, color: Palette.orange, dashed: true),
      ].compactMap { $0 }, yFormat: .percent)
    func optional(_ value: Double?, _ format: (Double) -> String) -> String { value.map(format) ?? "–" }
    let rows = history.map { epoch in
      """
      <tr data-epoch="\(epoch.epoch)"><td class="num">\(epoch.epoch)</td>\
      <td class="num">\(Format.fixed(epoch.trainLoss, decimals: 4))</td>\
      <td class="num">\(Format.percent(epoch.trainAccuracy))</td>\
      <td class="num">\(optional(epoch.validationLoss) { Format.fixed($0, decimals: 4) })</td>\
      <td class="num">\(optional(epoch.validationAccuracy) { Format.percent($0) })</td>\
      <td class="num">\(optional(epoch.learningRate) { Self.compact($0) })</td>\
      <td class="num">\(optional(epoch.seconds) { Format.fixed($0, decimals: 2) })</td></tr>
      """
    }
    return section("training", "Training", """
      <div class="plots">
      <figure class="plot">\(loss.svg())</figure>
      <figure class="plot">\(accuracy.svg())</figure>
      </div>
      <h3>Per epoch</h3>
      \(table(
        headers: [("Epoch", true), ("Train loss", true), ("Train accuracy", true), ("Validation loss", true),
                  ("Validation accuracy", true), ("Learning rate", true), ("Seconds", true)],
        rows: rows))
      """)
  }

  private func confusionHTML() -> String {
    guard !metrics.confusion.isEmpty else {
      return section("confusion", "Confusion matrix", "<p class=\"empty\">No confusion matrix.</p>")
    }
    // The mistakes that happen most, as "true → predicted": what to look at first.
    let confusions = metrics.confusion.enumerated().flatMap { row, counts in
      counts.enumerated().compactMap { column, count in
        row != column && count > 0 ? (row: row, column: column, count: count) : nil
      }
    }
    .sorted { ($0.count, $1.row, $1.column) > ($1.count, $0.row, $0.column) }
    .prefix(8)
    let list = confusions.map { item in
      let share = Double(item.count) / Double(max(metrics.confusion[item.row].reduce(0, +), 1))
      return "<li><span class=\"pair\">\(item.row) → \(item.column)</span> "
        + "<span class=\"num\">\(item.count)</span> <span class=\"muted num\">\(Format.percent(share, decimals: 1))</span></li>"
    }
    let side = confusions.isEmpty
      ? "<p class=\"muted\">No mistakes.</p>"
      : "<ol class=\"confusions\">\(list.joined())</ol>"
    return section("confusion", "Confusion matrix", """
      <p class="note">Rows are the true digit, columns the prediction. Cells are shaded by their share \
      of the row: blue on the diagonal, red for mistakes (square-root scale, so small ones show).</p>
      <div class="split">
      <figure class="plot heatmap">\(ConfusionHeatMap(counts: metrics.confusion, title: "\(metrics.measure) digits by true and predicted label").svg())</figure>
      <div><h3>Most frequent confusions</h3><p class="muted small">true → predicted, count, share of the true digit</p>\(side)</div>
      </div>
      """)
  }

  private func perClassHTML() -> String {
    let rows = metrics.perClass.map { item in
      """
      <tr data-label="\(item.label)"><td class="num label">\(item.label)</td>\
      <td class="num precision">\(Format.fixed(item.precision, decimals: 4))</td>\
      <td class="num recall">\(Format.fixed(item.recall, decimals: 4))</td>\
      <td class="num f1">\(Format.fixed(item.f1, decimals: 4))\(scoreBar(item.f1))</td>\
      <td class="num support">\(item.support)</td></tr>
      """
    }
    let count = Double(max(metrics.perClass.count, 1))
    let macro = """
      <tfoot><tr><td>macro avg</td>\
      <td class="num">\(Format.fixed(metrics.perClass.reduce(0) { $0 + $1.precision } / count, decimals: 4))</td>\
      <td class="num">\(Format.fixed(metrics.perClass.reduce(0) { $0 + $1.recall } / count, decimals: 4))</td>\
      <td class="num">\(Format.fixed(metrics.perClass.reduce(0) { $0 + $1.f1 } / count, decimals: 4))</td>\
      <td class="num">\(metrics.perClass.reduce(0) { $0 + $1.support })</td></tr></tfoot>
      """
    return section("per-class", "Per-class scores", "<div class=\"narrow\">" + table(
      headers: [("Digit", true), ("Precision", true), ("Recall", true), ("F1", true), ("Support", true)],
      rows: rows, footer: metrics.perClass.isEmpty ? "" : macro, empty: "No per-class scores.") + "</div>")
  }

  /// A thin bar under a score in 0...1, so the weakest class stands out when scanning the column.
  private func scoreBar(_ value: Double) -> String {
    let width = Format.fixed(min(max(value, 0), 1) * 100, decimals: 1)
    return "<span class=\"score-bar\"><span style=\"width: \(width)%\"></span></span>"
  }

  private func mistakesHTML() -> String {
    guard !mistakes.isEmpty else {
      return section("mistakes", "Most confident mistakes", "<p class=\"empty\">No misclassified \(metrics.measure.lowercased()) digits.</p>")
    }
    let figures = mistakes.map { mistake in
      // Kaggle's pixels are ink intensities (255 = stroke); inverted, the digit is dark ink on
      // white paper like the rest of the page.
      let side = Int(Double(mistake.pixels.count).squareRoot())
      let image: String
      if side > 0 && side * side == mistake.pixels.count {
        let uri = PNG.dataURI(width: side, height: side, pixels: mistake.pixels.map { 255 - $0 }, scale: Self.digitScale)
        let size = side * Self.digitScale
        image = "<img src=\"\(uri)\" width=\"\(size)\" height=\"\(size)\" "
          + "alt=\"true \(mistake.trueLabel), predicted \(mistake.predictedLabel)\" />"
      } else {
        image = "<span class=\"muted\">(no image)</span>"
      }
      let index = mistake.index.map { "<span class=\"muted small\">row \($0)</span>" } ?? ""
      return """
        <figure class="mistake" data-true="\(mistake.trueLabel)" data-predicted="\(mistake.predictedLabel)">\
        \(image)<figcaption><span class="predicted">\(mistake.predictedLabel)</span> \
        <span class="probability">\(Format.percent(mistake.probability, decimals: 1))</span><br />\
        <span class="muted">true</span> <span class="true">\(mistake.trueLabel)</span> \(index)</figcaption></figure>
        """
    }
    return section("mistakes", "Most confident mistakes", """
      <p class="note">\(metrics.measure) digits the model got wrong, most confident first: the large number is \
      the prediction and the probability it was given, below it the true label.</p>
      <div class="gallery">\(figures.joined(separator: "\n"))</div>
      """)
  }

  private func distributionHTML() -> String {
    let classes = max(distribution.training.count, distribution.submission.count)
    guard classes > 0 else {
      return section("distribution", "Class distribution", "<p class=\"empty\">No label counts.</p>")
    }
    func shares(_ counts: [Int]) -> [Double] {
      let total = Double(max(counts.reduce(0, +), 1))
      return (0..<classes).map { $0 < counts.count ? Double(counts[$0]) / total : 0 }
    }
    var series = [GroupedBarChart.Series(name: "training labels", values: shares(distribution.training), color: Palette.blue)]
    if !distribution.submission.isEmpty {
      series.append(.init(name: "submission predictions", values: shares(distribution.submission), color: Palette.orange))
    }
    let chart = GroupedBarChart(
      title: "Share of each digit", xLabel: "digit", yLabel: "share of rows",
      categories: (0..<classes).map(String.init), series: series, yFormat: .percent, width: 960, height: 300)
    func cells(_ counts: [Int], _ label: Int) -> String {
      guard !counts.isEmpty else { return "<td class=\"num\">–</td><td class=\"num\">–</td>" }
      let count = label < counts.count ? counts[label] : 0
      return "<td class=\"num count\">\(count)</td><td class=\"num share\">\(Format.percent(shares(counts)[label]))</td>"
    }
    let rows = (0..<classes).map { label in
      "<tr data-label=\"\(label)\"><td class=\"num\">\(label)</td>\(cells(distribution.training, label))\(cells(distribution.submission, label))</tr>"
    }
    return section("distribution", "Class distribution", """
      <figure class="plot wide">\(chart.svg())</figure>
      \(table(
        headers: [("Digit", true), ("Training count", true), ("Training share", true),
                  ("Submission count", true), ("Submission share", true)],
        rows: rows))
      """)
  }

  // MARK: - Pieces

  private func section(_ id: String, _ heading: String, _ content: String) -> String {
    "<section id=\"\(id)\">\n<h2>\(escapeMarkup(heading))</h2>\n\(content)\n</section>"
  }

  /// A table with right-aligned numeric columns; `rows` are complete `<tr>` elements.
  private func table(headers: [(String, Bool)], rows: [String], footer: String = "", empty: String = "Nothing to show.") -> String {
    guard !rows.isEmpty else { return "<p class=\"empty\">\(escapeMarkup(empty))</p>" }
    let head = headers.map { "<th\($0.1 ? " class=\"num\"" : "")>\(escapeMarkup($0.0))</th>" }.joined()
    return "<table>\n<thead><tr>\(head)</tr></thead>\n<tbody>\n\(rows.joined(separator: "\n"))\n</tbody>\(footer)\n</table>"
  }

  /// A learning rate without trailing zeros: 0.001, 3e-05 → "0.00003".
  static func compact(_ value: Double) -> String {
    var text = Format.fixed(value, decimals: 8)
    while text.contains(".") && (text.hasSuffix("0") || text.hasSuffix(".")) { text.removeLast() }
    return text
  }

  static let stylesheet = """

    :root { --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --page: #f3f4f6; --accent: #2563eb; }
    * { box-sizing: border-box; }
    body { margin: 0; background: var(--page); color: var(--ink); line-height: 1.5; font-size: 15px;
      font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
    main { max-width: 1160px; margin: 0 auto; padding: 32px 24px 64px; }
    h1 { font-size: 28px; margin: 0 0 4px; letter-spacing: -0.01em; }
    h2 { font-size: 20px; margin: 0 0 12px; }
    h3 { font-size: 12px; margin: 20px 0 8px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.05em; }
    .subtitle { color: var(--muted); margin: 0 0 20px; }
    .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 12px; }
    .card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 18px; }
    .card .label { display: block; color: var(--muted); font-size: 13px; }
    .card .value { font-size: 28px; font-weight: 650; font-variant-numeric: tabular-nums; }
    section { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 22px 26px; margin-top: 24px; }
    table { border-collapse: collapse; width: 100%; font-size: 14px; font-variant-numeric: tabular-nums; }
    th, td { padding: 6px 12px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: middle; }
    th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: 0.03em; background: #f9fafb; }
    tbody tr:nth-child(even) { background: #fafbfc; }
    tfoot td { font-weight: 600; border-top: 2px solid var(--line); }
    .num { text-align: right; }
    .muted { color: var(--muted); }
    .small { font-size: 12px; }
    .note { color: var(--muted); margin: 0 0 14px; max-width: 70ch; }
    .empty { color: var(--muted); font-style: italic; }
    code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
    pre { background: #0f172a; color: #e2e8f0; padding: 14px 18px; border-radius: 8px; overflow: auto; margin: 0; }
    dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 20px; margin: 0; }
    dt { color: var(--muted); }
    dd { margin: 0; }
    .badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 600; }
    .badge.cached { background: #dcfce7; color: #166534; }
    .badge.ran { background: #dbeafe; color: #1e40af; }
    figure { margin: 0; }
    svg { display: block; max-width: 100%; height: auto; }
    .wide svg { width: 100%; }
    .narrow { max-width: 760px; }
    .plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 20px; }
    .split { display: flex; flex-wrap: wrap; gap: 32px; align-items: flex-start; }
    .confusions { list-style: none; padding: 0; margin: 0; min-width: 240px; }
    .confusions li { display: grid; grid-template-columns: 1fr 4em 5em; gap: 8px; padding: 5px 0; border-bottom: 1px solid var(--line); font-variant-numeric: tabular-nums; }
    .confusions .pair { font-weight: 600; }
    .score-bar { display: block; height: 3px; background: var(--line); border-radius: 2px; margin-top: 3px; }
    .score-bar span { display: block; height: 100%; background: var(--accent); border-radius: 2px; }
    .gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(128px, 1fr)); gap: 12px; }
    .mistake { border: 1px solid var(--line); border-radius: 10px; padding: 12px 8px 8px; text-align: center; background: #fff; }
    .mistake img { image-rendering: pixelated; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
    .mistake figcaption { font-size: 13px; margin-top: 6px; line-height: 1.4; }
    .mistake .predicted { font-size: 20px; font-weight: 700; color: #b91c1c; }
    .mistake .probability { font-variant-numeric: tabular-nums; }
    .mistake .true { font-weight: 600; }
    td.stage { font-weight: 600; vertical-align: top; }

    """
}
