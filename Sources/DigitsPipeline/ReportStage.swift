import DataIO
import Foundation
import NeuralNet
import Pipeline
import Report
import Tensor

/// Writes `OUTPUT/report/index.html`: the run, the training curves, the confusion matrix, the
/// per-class scores, the validation digits the model got most confidently wrong, and the
/// submission's class distribution beside the training set's.
///
/// Its inputs are every other stage, so it is redone whenever anything changes, and it reads
/// their manifests for the run section: how long each stage took when it was computed, whether
/// it came from the cache in the run that made this report, and the parameters it ran with. The
/// model is described from its model file, so with `--model` the page shows that file and not
/// the pipeline file's train section, which made nothing.
public struct ReportStage: Stage {
  public struct Parameters: Codable, Sendable, Hashable {
    /// How many mistakes the gallery shows.
    public var mistakes: Int
  }
  public typealias Output = RunReport

  /// 2: the stage table's fingerprints carry the whole hash in their title, as the document expects.
  /// 3: the run section describes the model as its file records it (for `--model`, the file,
  /// not the pipeline file's train section) and lists each stage's parameters as a table.
  /// 4: with cross-validation, the figures, the heat map and the gallery are out of fold, over
  /// every labelled row (their rows come from evaluate's validation_rows.npy).
  public static let version = 4
  public let name = StageName.report
  public let parameters = Parameters(mistakes: 24)
  /// Every other stage, for the run table (declared first: the order the table lists them).
  let upstream: [ManifestInput]
  let parsed = Input<ParsedArrays>(StageName.parse)
  /// The (first) split: with a hold-out, its training rows are the training distribution.
  let split = Input<SplitIndices>(StageName.split)
  let evaluation = Input<Evaluation>(StageName.evaluate)
  let predictions = Input<Predictions>(StageName.predict)
  /// The first train (or pretrained) stage, whose history is plotted and whose model is described.
  let firstMember: Input<TrainedModel>
  /// The stages whose models evaluate and predict average.
  let members: [String]
  /// Shown in the run section; not part of the fingerprint (the configuration itself enters
  /// through the inputs' fingerprints, a model file through the pretrained stage's).
  let pipelineFile: String
  /// The model file as the user named it (`--model`); nil when the pipeline trains its own.
  let modelFile: String?
  let configuration: DigitsConfiguration

  public init(
    upstream: [String], members: [String], pipelineFile: String, modelFile: String? = nil, configuration: DigitsConfiguration
  ) {
    self.upstream = upstream.map(ManifestInput.init)
    firstMember = Input(members[0])
    self.members = members
    self.pipelineFile = pipelineFile
    self.modelFile = modelFile
    self.configuration = configuration
  }

  public var published: [String: String] { ["index.html": "report/index.html"] }

  public func run(_ context: StageContext) throws {
    let (parsed, split) = (context.read(parsed), context.read(split))
    let (evaluation, predictions) = (context.read(evaluation), context.read(predictions))

    let metrics = try evaluation.readMetrics()
    let history = try JSONDecoder().decode(
      [EpochRecord].self, from: Data(contentsOf: context.read(firstMember).history))

    let labels = try NumpyFile.read(from: parsed.trainLabels).values(as: UInt8.self)
    // Out of fold, every labelled row trains most of the members: the training distribution is
    // all of them; otherwise the one split's training rows.
    let outOfFold = metrics.foldAccuracies != nil
    let trainRows = outOfFold
      ? labels.indices.map(Int64.init) : try NumpyFile.read(from: split.trainIndices).values(as: Int64.self)
    let validationRows = try NumpyFile.read(from: evaluation.validationRows).values(as: Int64.self)
    let pixels = try NumpyFile.read(from: parsed.trainPixels).values(as: UInt8.self)
    let validationProbabilities = try NumpyFile.read(from: evaluation.validationProbabilities).values(as: Float.self)
    let testProbabilities = try NumpyFile.read(from: predictions.probabilities).values(as: Float.self)

    let document = ReportDocument(
      run: try runSection(context),
      history: history.map {
        ReportDocument.Epoch(
          epoch: $0.epoch, trainLoss: Double($0.trainLoss), trainAccuracy: Double($0.trainAccuracy),
          validationLoss: $0.validationLoss.map(Double.init), validationAccuracy: $0.validationAccuracy.map(Double.init),
          seconds: $0.seconds, learningRate: Double($0.learningRate))
      },
      metrics: ReportDocument.Metrics(
        accuracy: metrics.accuracy, loss: metrics.loss,
        perClass: metrics.perClass.map {
          ReportDocument.ClassMetrics(label: $0.label, precision: $0.precision, recall: $0.recall, f1: $0.f1, support: $0.support)
        },
        confusion: metrics.confusion, measure: outOfFold ? "Out-of-fold" : "Validation"),
      mistakes: confidentMistakes(
        probabilities: validationProbabilities, rows: validationRows, labels: labels, pixels: pixels),
      distribution: ReportDocument.Distribution(
        training: classCounts(trainRows.map { Int(labels[Int($0)]) }),
        submission: classCounts(argmaxRows(testProbabilities, columns: DigitCSV.classCount))))
    try Data(document.html().utf8).write(to: context.output(RunReport.self).page)
    context.log("report: \(published["index.html"]!) under the output folder")
  }

  private func runSection(_ context: StageContext) throws -> ReportDocument.Run {
    let manifests = try upstream.map { try context.manifest(of: $0) }
    let stages = manifests.map { manifest in
      ReportDocument.Stage(
        name: manifest.stage, fingerprint: manifest.fingerprint.hex, seconds: manifest.seconds,
        fromCache: manifest.created < context.runStarted)
    }
    let model = try context.manifest(of: firstMember)
    return ReportDocument.Run(
      pipelineFile: pipelineFile, seed: configuration.seed, stages: stages,
      // A pretrained entry's machine is the one that checked the file, not the one that trained it.
      machine: model.stage == StageName.pretrained ? nil : model.machine,
      model: try modelDescription(context, entry: model), members: members,
      parameters: manifests.map { ReportDocument.StageParameters(stage: $0.stage, rows: Self.parameterRows($0)) })
  }

  /// The first member's model as its file records it; where it came from by its cache entry.
  private func modelDescription(_ context: StageContext, entry: Manifest) throws -> ReportDocument.Model {
    let url = context.read(firstMember).model
    let file = try ModelFile.read(from: url)
    let origin: ReportDocument.Model.Origin
    if entry.stage == StageName.pretrained, let copy = entry.files.first(where: { $0.name == url.lastPathComponent }) {
      // The entry's model.npz is the user's file copied byte for byte.
      origin = .file(path: modelFile ?? "(a model file)", sha256: copy.sha256.hex, bytes: copy.size)
    } else {
      origin = .trained
    }
    let network = file.network
    return ReportDocument.Model(
      origin: origin, outline: network.spec.outline(inputSize: network.inputSize), spec: network.spec.flowText,
      parameterCount: network.parameterCount,
      normalisation: file.normalisation.map { (Double($0.scale), Double($0.offset)) })
  }

  /// A stage's parameters as `exp show` lists them: flattened paths, then each file it reads
  /// from outside the cache by the start of its SHA-256; in path order.
  static func parameterRows(_ entry: Manifest) -> [ReportDocument.Parameter] {
    entry.flatParameters.sorted { $0.key < $1.key }.map { ReportDocument.Parameter(path: $0.key, value: $0.value) }
  }

  /// Validation rows whose predicted class is wrong, most confident first.
  private func confidentMistakes(probabilities: [Float], rows: [Int64], labels: [UInt8], pixels: [UInt8]) -> [ReportDocument.Mistake] {
    let width = DigitCSV.pixelCount
    let classes = DigitCSV.classCount
    let predicted = argmaxRows(probabilities, columns: classes)
    let wrong = rows.indices.filter { predicted[$0] != Int(labels[Int(rows[$0])]) }
    let ranked = wrong.sorted { probabilities[$0 * classes + predicted[$0]] > probabilities[$1 * classes + predicted[$1]] }
    return ranked.prefix(parameters.mistakes).map { position in
      let row = Int(rows[position])
      return ReportDocument.Mistake(
        pixels: Array(pixels[row * width..<(row + 1) * width]), trueLabel: Int(labels[row]),
        predictedLabel: predicted[position], probability: Double(probabilities[position * classes + predicted[position]]),
        index: row)
    }
  }

  private func classCounts(_ labels: [Int]) -> [Int] {
    labels.reduce(into: [Int](repeating: 0, count: DigitCSV.classCount)) { $0[$1] += 1 }
  }
}
