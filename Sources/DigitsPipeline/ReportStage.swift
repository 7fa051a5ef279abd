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
/// their manifests for the run table: how long each stage took when it was computed, and whether
/// it came from the cache in the run that made this report.
public struct ReportStage: Stage {
  public struct Parameters: Codable, Sendable, Hashable {
    /// How many mistakes the gallery shows.
    public var mistakes: Int
  }
  public typealias Output = RunReport

  /// 2: the stage table's fingerprints carry the whole hash in their title, as the document expects.
  public static let version = 2
  public let name = StageName.report
  public let parameters = Parameters(mistakes: 24)
  /// Every other stage, for the run table (declared first: the order the table lists them).
  let upstream: [ManifestInput]
  let parsed = Input<ParsedArrays>(StageName.parse)
  let split = Input<SplitIndices>(StageName.split)
  let evaluation = Input<Evaluation>(StageName.evaluate)
  let predictions = Input<Predictions>(StageName.predict)
  /// The first train (or pretrained) stage, whose history is plotted.
  let firstMember: Input<TrainedModel>
  /// Shown in the run section; not part of the fingerprint (the configuration itself enters
  /// through the inputs' fingerprints).
  let pipelineFile: String
  let configuration: DigitsConfiguration

  public init(upstream: [String], members: [String], pipelineFile: String, configuration: DigitsConfiguration) {
    self.upstream = upstream.map(ManifestInput.init)
    firstMember = Input(members[0])
    self.pipelineFile = pipelineFile
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
    let trainRows = try NumpyFile.read(from: split.trainIndices).values(as: Int64.self)
    let validationRows = try NumpyFile.read(from: split.validationIndices).values(as: Int64.self)
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
        confusion: metrics.confusion),
      mistakes: confidentMistakes(
        probabilities: validationProbabilities, rows: validationRows, labels: labels, pixels: pixels),
      distribution: ReportDocument.Distribution(
        training: classCounts(trainRows.map { Int(labels[Int($0)]) }),
        submission: classCounts(argmaxRows(testProbabilities, columns: DigitCSV.classCount))))
    try Data(document.html().utf8).write(to: context.output(RunReport.self).page)
    context.log("report: \(published["index.html"]!) under the output folder")
  }

  private func runSection(_ context: StageContext) throws -> ReportDocument.Run {
    let stages = try upstream.map { stage in
      let manifest = try context.manifest(of: stage)
      return ReportDocument.Stage(
        name: stage.stage, fingerprint: manifest.fingerprint.hex, seconds: manifest.seconds,
        fromCache: manifest.created < context.runStarted)
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return ReportDocument.Run(
      pipelineFile: pipelineFile, parameters: String(decoding: try encoder.encode(configuration), as: UTF8.self),
      seed: configuration.seed, stages: stages, machine: try trainingMachine(context))
  }

  /// What the first member was trained on, as its train stage's cache entry recorded it; nil for
  /// a model file (`--model`), whose `pretrained` entry records only the machine that checked it.
  private func trainingMachine(_ context: StageContext) throws -> [String]? {
    let manifest = try context.manifest(of: firstMember)
    return manifest.stage == StageName.pretrained ? nil : manifest.machine
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
