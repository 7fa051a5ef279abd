import Foundation
import Testing
import NeuralNet
import Tensor

/// The layer kind added to show that a kind is one file and one registration: every test here
/// reaches it through `LayerSpec` as a pipeline file would, not by its type.
@Suite struct GlobalAveragePoolTests {
  /// Built through its registered kind, as `Sequential` builds it.
  func makeLayer(_ spec: LayerSpec, inputShape: [Int]) -> any Layer {
    var none: SeededGenerator? = nil
    return spec.kind.makeLayer(inputShape: inputShape, position: 0, initialization: .he, generator: &none)
  }

  @Test func matchesNumpy() throws {
    let golden = try LayerCase("globalavgpool")
    #expect(golden.layer.name == "globalavgpool")
    var layer = makeLayer(golden.layer, inputShape: Array(golden["x"].shape.dropFirst()))
    let y = layer.forward(golden["x"], training: true)
    #expect(y.shape == golden["y"].shape)
    expectClose(y.scalars, golden["y"].scalars, "y")
    let dx = layer.backward(golden["dy"])
    #expect(dx.shape == golden["x"].shape)
    expectClose(dx.scalars, golden["dx"].scalars, "dx")
  }

  @Test func backward_matchesFiniteDifferences() {
    var rng = SeededGenerator(seed: 61)
    let x = randomTensor([2, 3, 4, 5], &rng)
    var layer = makeLayer(.globalAveragePool, inputShape: [3, 4, 5])
    let r = randomTensor(layer.forward(x, training: true).shape, &rng)
    let dx = layer.backward(r)
    let numeric = numericalGradient(of: x) { input in
      var probe = makeLayer(.globalAveragePool, inputShape: [3, 4, 5])
      return projected(probe.forward(input, training: false), r)
    }
    #expect(relativeError(dx.scalars, numeric) < 1e-3)
  }

  /// In a network: the shapes, gradients through the pool to the convolution before it, and a
  /// saved model restoring to the same outputs.
  @Test func inASequential_trainsThroughAndRestores() throws {
    let json = #"{"init": "he", "input_shape": [1, 6, 6], "layers": [{"conv2d": {"filters": 4, "kernel": 3}}, "relu", "globalavgpool", {"dense": 2}]}"#
    let spec = try JSONDecoder().decode(ModelSpec.self, from: Data(json.utf8))
    #expect(try spec.outputShape(inputSize: 36) == [2])
    var rng = SeededGenerator(seed: 62)
    var model = Sequential(spec: spec, inputSize: 36, using: &rng)
    #expect(model.namedParameters.map(\.name) == ["layer0.weight", "layer0.bias", "layer3.weight", "layer3.bias"])
    let (x, y) = bars(6, seed: 62)
    let before = model
    model.zeroGradients()
    model.backward(SoftmaxCrossEntropy.lossAndGradient(logits: model.forward(x, training: true), labels: y).gradient)
    let numeric = numericalGradient(of: before.namedTrainableParameters[0].value) { perturbed in
      var probe = before
      probe.updateParameters { i, p, _ in if i == 0 { p = perturbed } }
      return softmaxCrossEntropy(logits: probe.forward(x, training: true), labels: y).loss
    }
    #expect(relativeError(model.namedGradients[0].value.scalars, numeric) < 2e-2)

    let saved = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.value) })
    var restored = try Sequential(spec: spec, inputSize: 36, parameters: saved)
    #expect(restored.forward(x, training: false) == model.forward(x, training: false))
  }

  @Test func needsImages() {
    #expect(throws: NeuralNetError.invalidArchitecture("layer 0 (globalavgpool) needs (C, H, W) input, got [36]")) {
      try ModelSpec(layers: [.globalAveragePool, .dense(units: 2)], initialization: .he).outputShape(inputSize: 36)
    }
  }
}
