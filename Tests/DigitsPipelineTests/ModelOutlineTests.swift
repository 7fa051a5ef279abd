import NeuralNet
import Testing
@testable import DigitsPipeline

/// How the report writes a model's architecture: one line of layers, and the model section as
/// a pipeline file would write it.
@Suite struct ModelOutlineTests {
  @Test func denseNetwork_readsAsItsLayers() {
    let spec = ModelSpec(layers: [.dense(units: 128), .relu, .dense(units: 10)], initialization: .he)
    #expect(spec.outline(inputSize: 784) == "784 → dense 128 → relu → dense 10")
    #expect(spec.flowText == "{init: he, layers: [{dense: 128}, relu, {dense: 10}]}")
  }

  @Test func convolutionalNetwork_namesItsInputShapeAndSettings() {
    let spec = ModelSpec(
      inputShape: [1, 28, 28],
      layers: [.conv2d(filters: 32, kernel: 3), .relu, .maxPool2d(size: 2), .dropout(rate: 0.25), .flatten, .dense(units: 10)],
      initialization: .torch)
    #expect(spec.outline(inputSize: 784)
      == "784 as [1, 28, 28] → conv2d {filters: 32, kernel: 3, padding: 1, stride: 1} → relu → maxpool2d 2 → dropout 0.25 → flatten → dense 10")
    #expect(spec.flowText.hasPrefix("{init: torch, input_shape: [1, 28, 28], layers: [{conv2d: {filters: 32, kernel: 3, padding: 1, stride: 1}}, relu,"))
  }
}
