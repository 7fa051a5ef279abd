import DataIO
import Foundation
import NeuralNet
import Pipeline
import Report
import Tensor

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
  /// With cross-validation, each fold's accuracy; the figures above are then out of fold, over
  /// every labelled row.
  public var foldAccuracies: [Double]?

  enum CodingKeys: String, CodingKey {
    case rows, accuracy, loss, confusion
    case perClass = "per_class"
    case memberAccuracies = "member_accuracies"
    case foldAccuracies = "fold_accuracies"
  }

  public init(probabilities: Tensor, labels: [UInt8]) {
    let classes = probabilities.columns
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
    var loss = 0.0
    let predicted = argmaxRows(probabilities)
    for (row, label) in labels.enumerated() {
      confusion[Int(label)][predicted[row]] += 1
      loss -= log(max(Double(probabilities.scalars[row * classes + Int(label)]), 1e-12))
    }
    let correct = (0..<classes).reduce(0) { $0 + confusion[$1][$1] }
    // Computed where the report computes them, so the two can never disagree.
    perClass = ReportDocument.ClassMetrics.fromConfusion(confusion).map {
      PerClass(label: $0.label, precision: $0.precision, recall: $0.recall, f1: $0.f1, support: $0.support)
    }
    self.rows = labels.count
    self.accuracy = labels.isEmpty ? 0 : Double(correct) / Double(labels.count)
    self.loss = labels.isEmpty ? 0 : loss / Double(labels.count)
    self.confusion = confusion
  }

  /// The figures as aligned text lines, for the log.
  public func summaryTable() -> [String] {
    let measure = foldAccuracies == nil ? "validation" : "out-of-fold"
    var lines = [String(format: "%@: %d rows, accuracy %.2f%%, loss %.4f", measure, rows, accuracy * 100, loss)]
    if let foldAccuracies {
      lines.append("folds: " + foldAccuracies.map { String(format: "%.2f%%", $0 * 100) }.joined(separator: ", "))
    }
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

extension Evaluation {
  /// The figures evaluate wrote.
  public func readMetrics() throws -> Metrics {
    try JSONDecoder().decode(Metrics.self, from: Data(contentsOf: metrics))
  }
}
