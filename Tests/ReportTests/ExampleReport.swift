import Foundation

@testable import Report

/// A made-up but plausible run: the document every HTML test renders, and the one written out
/// for a look in a browser.
enum ExampleReport {
  static let confusion: [[Int]] = {
    var matrix = (0..<10).map { row in (0..<10).map { $0 == row ? 400 + row * 3 : 0 } }
    let mistakes = [(4, 9, 23), (9, 4, 17), (7, 2, 12), (3, 5, 11), (5, 3, 9), (8, 3, 7), (2, 7, 6), (1, 7, 3), (6, 0, 5)]
    for (truth, predicted, count) in mistakes {
      matrix[truth][predicted] = count
      matrix[truth][truth] -= count
    }
    return matrix
  }()

  static let document = ReportDocument(
    run: .init(
      pipelineFile: "pipelines/mlp.yaml",
      seed: 42,
      stages: [
        .init(name: "unpack", fingerprint: "3f2a9c0d51e84b7a9e3c0f12ab34cd56", seconds: 0.01, fromCache: true),
        .init(name: "parse", fingerprint: "a1b2c3d4e5f60718293a4b5c6d7e8f90", seconds: 0.02, fromCache: true),
        .init(name: "normalise", fingerprint: "0badc0ffee0ddf00d1234567890abcde", seconds: 0.31, fromCache: false),
        .init(name: "split", fingerprint: "5eed5eed5eed5eed5eed5eed5eed5eed", seconds: 0.12, fromCache: false),
        .init(name: "train", fingerprint: "7ra1n7ra1n7ra1n7ra1n7ra1n7ra1n00", seconds: 41.87, fromCache: false),
        .init(name: "evaluate", fingerprint: "e7a1e7a1e7a1e7a1e7a1e7a1e7a1e7a1", seconds: 0.44, fromCache: false),
        .init(name: "predict", fingerprint: "9d1c79d1c79d1c79d1c79d1c79d1c7ff", seconds: 1.05, fromCache: false),
      ],
      model: .init(
        origin: .trained, outline: "784 → dense 256 → relu → dense 10", spec: "{init: he, layers: [{dense: 256}, relu, {dense: 10}]}",
        parameterCount: 203_530, normalisation: (scale: 1.0 / 255, offset: 0)),
      members: ["train"],
      parameters: [
        .init(stage: "unpack", rows: [.init(path: "archive", value: "8a3191418058")]),
        .init(stage: "parse", rows: []),
        .init(stage: "split", rows: [.init(path: "seed", value: "42"), .init(path: "validation_fraction", value: "0.1")]),
        .init(stage: "train", rows: [
          .init(path: "epochs", value: "8"),
          .init(path: "model.layers", value: "[{dense: 256}, relu, {dense: 10}]"),
          .init(path: "optimizer.kind", value: "adamw <lr=0.001 & wd=0.01>"),
          .init(path: "optimizer.learning_rate", value: "0.001"),
        ]),
      ]),
    history: (1...8).map { epoch in
      let e = Double(epoch)
      return .init(
        epoch: epoch, trainLoss: 0.45 / e + 0.02, trainAccuracy: 1 - 0.09 / e - 0.004,
        validationLoss: 0.40 / e + 0.06, validationAccuracy: 1 - 0.07 / e - 0.018,
        seconds: 5.2, learningRate: 0.001)
    },
    metrics: .init(loss: 0.1093, confusion: confusion),
    mistakes: (0..<12).map { index in
      let truth = [4, 9, 7, 3, 5, 8, 2, 1, 6, 4, 9, 0][index]
      let predicted = [9, 4, 2, 5, 3, 3, 7, 7, 0, 9, 7, 6][index]
      return .init(pixels: syntheticDigit(truth), trueLabel: truth, predictedLabel: predicted,
                   probability: 0.998 - Double(index) * 0.031, index: 1000 + index * 37)
    },
    distribution: .init(
      training: [4132, 4684, 4177, 4351, 4072, 3795, 4137, 4401, 4063, 4188],
      submission: [2771, 3198, 2804, 2797, 2760, 2489, 2751, 2861, 2741, 2828]))

  /// A 28×28 digit drawn from a few strokes with soft edges: not handwriting, but recognisable
  /// enough to judge the gallery's layout and contrast.
  static func syntheticDigit(_ digit: Int) -> [UInt8] {
    let strokes: [[(Double, Double)]] = switch digit {
    case 0: [[(14, 5), (20, 8), (21, 14), (20, 20), (14, 23), (8, 20), (7, 14), (8, 8), (14, 5)]]
    case 1: [[(11, 8), (15, 5), (15, 23)]]
    case 2: [[(8, 9), (12, 5), (18, 6), (19, 11), (9, 22), (20, 22)]]
    case 3: [[(8, 6), (18, 6), (13, 13), (19, 17), (17, 22), (8, 22)]]
    case 4: [[(17, 23), (17, 5), (7, 17), (21, 17)]]
    case 5: [[(19, 5), (9, 5), (8, 13), (16, 12), (19, 17), (16, 22), (8, 22)]]
    case 6: [[(18, 5), (11, 10), (8, 18), (12, 23), (18, 20), (17, 14), (9, 16)]]
    case 7: [[(7, 6), (20, 6), (12, 23)], [(10, 14), (18, 14)]]
    case 8: [[(14, 14), (9, 9), (14, 5), (19, 9), (14, 14), (8, 18), (14, 23), (20, 18), (14, 14)]]
    default: [[(19, 11), (14, 14), (9, 11), (14, 5), (19, 11), (17, 23)]]
    }
    return (0..<784).map { index in
      let point = (Double(index % 28) + 0.5, Double(index / 28) + 0.5)
      var nearest = Double.infinity
      for stroke in strokes {
        for (a, b) in zip(stroke, stroke.dropFirst()) {
          nearest = min(nearest, distance(from: point, toSegment: a, b))
        }
      }
      // Full ink within 1.2 px of the stroke, fading to none at 2.4 px.
      return UInt8((255 * min(max((2.4 - nearest) / 1.2, 0), 1)).rounded())
    }
  }

  private static func distance(from p: (Double, Double), toSegment a: (Double, Double), _ b: (Double, Double)) -> Double {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1)
    let t = min(max(((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy), 0), 1)
    return hypot(p.0 - (a.0 + t * dx), p.1 - (a.1 + t * dy))
  }
}
