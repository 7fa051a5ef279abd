import Foundation
import NeuralNet
import Pipeline

/// A model's architecture in the words of a pipeline file, for the report's run section.
extension ModelSpec {
  /// The model section as a pipeline file writes it:
  /// `{init: he, layers: [{dense: 128}, relu, {dense: 10}]}`.
  var flowText: String { ParameterPaths.flowText(Self.json(self)) ?? "?" }

  /// Input and layers on one line, each layer as its key and setting:
  /// `784 → dense 128 → relu → dense 10`, or for a model that reads its rows as images
  /// `784 as [1, 28, 28] → conv2d {filters: 32, kernel: 3, padding: 1, stride: 1} → relu → …`.
  func outline(inputSize: Int) -> String {
    let input = inputShape.map { "\(inputSize) as \(ParameterPaths.flowText(Self.json($0)) ?? "?")" } ?? String(inputSize)
    let layers = layers.map { layer in
      type(of: layer.kind).bare != nil ? layer.name : "\(layer.name) \(ParameterPaths.flowText(Self.json(layer.kind)) ?? "?")"
    }
    return ([input] + layers).joined(separator: " → ")
  }

  /// Sorted keys, as the pipeline fingerprints specs; plain values, so encoding cannot fail.
  private static func json(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
  }
}
