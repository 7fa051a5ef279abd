import DataIO
import Foundation
import NeuralNet
import Pipeline
import Tensor

/// Measures the trained model on the validation rows: accuracy, loss, per-class precision and
/// recall, and the confusion matrix.
public struct EvaluateStage: Stage {
  public struct Parameters: Codable, Sendable, Hashable {
    /// Test-time augmentation (the pipeline file's `test_time_shift`).
    public var testTimeShift: Int
  }
  public typealias Output = Evaluation

  /// 2: also writes the validation probabilities (for the report's gallery of mistakes).
  /// 3: a dense layer with at most 16 outputs multiplies in the other orientation (`gemm`'s thin
  /// products), which changes the probabilities' last bits; test-time augmentation.
  public static let version = 3
  public let name = "evaluate"
  public let parameters: Parameters
  /// The train stages whose models are averaged: one, or an ensemble's members.
  public let members: [String]
  public var inputs: [String] { ["parse", "normalise", "split"] + members }

  public init(members: [String] = ["train"], testTimeShift: Int = 0) {
    self.members = members
    parameters = Parameters(testTimeShift: testTimeShift)
  }

  public func run(_ context: StageContext) throws {
    let data = try LabelledRows.load(context).validation
    let (mean, perMember) = try EnsemblePrediction.probabilities(
      of: members, on: data.features, testTimeShift: parameters.testTimeShift, context: context)
    var metrics = Metrics(probabilities: mean, labels: data.labels)
    if members.count > 1 {
      metrics.memberAccuracies = perMember.map { Metrics(probabilities: $0, labels: data.labels).accuracy }
    }

    let output = context.output(Evaluation.self)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(metrics).write(to: output.metrics)
    let classes = metrics.confusion.count
    try NumpyFile.write(
      NumpyArray(shape: [classes, classes], values: metrics.confusion.flatMap { $0.map(Int64.init) }),
      to: output.confusion)
    try NumpyFile.write(NumpyArray(shape: mean.shape, values: mean.scalars), to: output.validationProbabilities)
    for line in metrics.summaryTable() { context.log(line) }
  }
}

/// Classification metrics on a labelled set.
public struct Metrics: Codable, Sendable, Equatable {
  public struct PerClass: Codable, Sendable, Equatable {
    public var label: Int
    public var precision: Double
    public var recall: Double
    public var f1: Double
    /// Rows whose true label is this class.
    public var support: Int
  }

  public var rows: Int
  public var accuracy: Double
  /// Mean cross-entropy, -log p(true label).
  public var loss: Double
  public var perClass: [PerClass]
  /// confusion[true][predicted]
  public var confusion: [[Int]]
  /// Each ensemble member's own accuracy, when there is more than one.
  public var memberAccuracies: [Double]?

  enum CodingKeys: String, CodingKey {
    case rows, accuracy, loss, confusion
    case perClass = "per_class"
    case memberAccuracies = "member_accuracies"
  }

  public init(probabilities: Tensor, labels: [UInt8]) {
    let classes = probabilities.columns
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
    var loss = 0.0
    for (row, label) in labels.enumerated() {
      let scores = probabilities.scalars[row * classes..<(row + 1) * classes]
      let predicted = scores.indices.max { scores[$0] < scores[$1] }! - row * classes
      confusion[Int(label)][predicted] += 1
      loss -= log(max(Double(scores[row * classes + Int(label)]), 1e-12))
    }
    let correct = (0..<classes).reduce(0) { $0 + confusion[$1][$1] }
    perClass = (0..<classes).map { label in
      let predictedAs = (0..<classes).reduce(0) { $0 + confusion[$1][label] }
      let support = confusion[label].reduce(0, +)
      let precision = predictedAs == 0 ? 0 : Double(confusion[label][label]) / Double(predictedAs)
      let recall = support == 0 ? 0 : Double(confusion[label][label]) / Double(support)
      let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
      return PerClass(label: label, precision: precision, recall: recall, f1: f1, support: support)
    }
    self.rows = labels.count
    self.accuracy = labels.isEmpty ? 0 : Double(correct) / Double(labels.count)
    self.loss = labels.isEmpty ? 0 : loss / Double(labels.count)
    self.confusion = confusion
  }

  /// The figures as aligned text lines, for the log.
  public func summaryTable() -> [String] {
    var lines = [String(format: "validation: %d rows, accuracy %.2f%%, loss %.4f", rows, accuracy * 100, loss)]
    if let memberAccuracies {
      lines.append("ensemble members: " + memberAccuracies.map { String(format: "%.2f%%", $0 * 100) }.joined(separator: ", "))
    }
    lines.append("label  precision  recall      f1  support")
    for entry in perClass {
      lines.append(String(
        format: "%5d  %9.4f  %6.4f  %6.4f  %7d", entry.label, entry.precision, entry.recall, entry.f1, entry.support))
    }
    return lines
  }
}

/// Class probabilities from one model or the mean over an ensemble's members, each member's
/// own the mean over the test-time views of the images.
enum EnsemblePrediction {
  static func probabilities(
    of members: [String], on features: Tensor, testTimeShift: Int, context: StageContext
  ) throws -> (mean: Tensor, perMember: [Tensor]) {
    let views = try testTimeViews(of: features, shift: testTimeShift, context: context)
    if views.count > 1 { context.log("test-time augmentation: \(views.count) views of every image") }
    let perMember = try members.map { member in
      var network = try ModelFile.read(from: context.input(TrainedModel.self, from: member).model).network
      return mean(views.map { Trainer.predictProbabilities(&network, features: $0) })
    }
    return (mean(perMember), perMember)
  }

  /// The images themselves, then their copies moved 1…shift pixels right, left, down and up,
  /// with the background (a blank pixel, normalised) filling in.
  static func testTimeViews(of features: Tensor, shift: Int, context: StageContext) throws -> [Tensor] {
    guard shift > 0 else { return [features] }
    let side = try NormaliseStage.imageSide(pixels: features.columns, for: "test_time_shift")
    let background = try NormaliseStage.Normalisation.load(context).offset
    let offsets = (1...shift).flatMap { d in [(d, 0), (-d, 0), (0, d), (0, -d)] }
    return [features] + offsets.map { right, down in
      shiftedImages(features, height: side, width: side, right: right, down: down, background: background)
    }
  }

  /// The elementwise mean of equally shaped tensors (the tensor itself when there is one).
  static func mean(_ tensors: [Tensor]) -> Tensor {
    guard tensors.count > 1 else { return tensors[0] }
    var sum = [Float](repeating: 0, count: tensors[0].count)
    for tensor in tensors {
      for (index, value) in tensor.scalars.enumerated() { sum[index] += value }
    }
    let scale = 1 / Float(tensors.count)
    return Tensor(shape: tensors[0].shape, scalars: sum.map { $0 * scale })
  }
}
