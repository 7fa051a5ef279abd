import Foundation
import Testing
import NeuralNet
import Tensor

@Suite struct SequentialTests {
  let spec = ModelSpec(layers: [.dense(units: 6), .relu, .dense(units: 4), .relu, .dense(units: 3)], initialization: .he)

  @Test func namedParameters_followLayerPositionsAndInOutLayout() {
    var rng = SeededGenerator(seed: 1)
    let model = Sequential(spec: spec, inputSize: 5, using: &rng)
    #expect(model.namedParameters.map(\.name) == [
      "layer0.weight", "layer0.bias", "layer2.weight", "layer2.bias", "layer4.weight", "layer4.bias",
    ])
    #expect(model.namedParameters.map(\.value.shape) == [[5, 6], [6], [6, 4], [4], [4, 3], [3]])
    #expect(model.parameterCount == 5 * 6 + 6 + 6 * 4 + 4 + 4 * 3 + 3)
    #expect(model.outputSize == 3)
  }

  @Test func restoreFromParameters_givesIdenticalOutputs() throws {
    var rng = SeededGenerator(seed: 2)
    var model = Sequential(spec: spec, inputSize: 5, using: &rng)
    let x = randomTensor([7, 5], &rng)
    let saved = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.value) })
    var restored = try Sequential(spec: spec, inputSize: 5, parameters: saved)
    #expect(restored.forward(x, training: false) == model.forward(x, training: false))
  }

  @Test func restore_reportsMissingNameAndShapeMismatch() {
    var rng = SeededGenerator(seed: 3)
    let model = Sequential(spec: spec, inputSize: 5, using: &rng)
    var saved = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.value) })
    saved["layer2.bias"] = nil
    #expect(throws: NeuralNetError.missingParameter(name: "layer2.bias")) {
      try Sequential(spec: spec, inputSize: 5, parameters: saved)
    }
    saved["layer2.bias"] = Tensor(zeros: [4])
    saved["layer4.weight"] = Tensor(zeros: [3, 4])
    #expect(throws: NeuralNetError.shapeMismatch(name: "layer4.weight", expected: [4, 3], actual: [3, 4])) {
      try Sequential(spec: spec, inputSize: 5, parameters: saved)
    }
  }

  @Test func backward_matchesFiniteDifferencesThroughTheWholeNetwork() {
    var rng = SeededGenerator(seed: 4)
    var model = Sequential(spec: spec, inputSize: 5, using: &rng)
    // Non-zero biases so the bias gradients are exercised away from the initial zeros.
    model.updateParameters { _, p, _ in if p.shape.count == 1 { p = randomTensor(p.shape, &rng, in: -0.3, 0.3) } }
    let x = randomTensor([6, 5], &rng)
    let labels: [UInt8] = [0, 1, 2, 2, 1, 0]
    model.zeroGradients()
    let logits = model.forward(x, training: true)
    model.backward(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels).gradient)

    let parameters = model.namedParameters
    for (index, (name, value)) in parameters.enumerated() {
      let numeric = numericalGradient(of: value, h: 1e-3) { perturbed in
        var probe = model
        probe.updateParameters { i, p, _ in if i == index { p = perturbed } }
        return softmaxCrossEntropy(logits: probe.forward(x, training: false), labels: labels).loss
      }
      let analytic = model.namedGradients[index].value.scalars
      #expect(relativeError(analytic, numeric) < 1e-2, "\(name)")
    }
  }

  @Test func initialization_isDeterministicForASeed() {
    var a = SeededGenerator(seed: 5)
    var b = SeededGenerator(seed: 5)
    let m1 = Sequential(spec: spec, inputSize: 5, using: &a)
    let m2 = Sequential(spec: spec, inputSize: 5, using: &b)
    #expect(m1.namedParameters.map(\.value) == m2.namedParameters.map(\.value))
  }
}

@Suite struct ModelSpecTests {
  @Test func decodesYAMLLikeForms_andRoundTrips() throws {
    let json = #"{"layers":["relu",{"dense":10}],"init":"he"}"#
    let spec = try JSONDecoder().decode(ModelSpec.self, from: Data(json.utf8))
    #expect(spec == ModelSpec(layers: [.relu, .dense(units: 10)], initialization: .he))
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let encoded = try encoder.encode(spec)
    #expect(String(decoding: encoded, as: UTF8.self) == #"{"init":"he","layers":["relu",{"dense":10}]}"#)
    #expect(try JSONDecoder().decode(ModelSpec.self, from: encoded) == spec)
    let seed = try JSONDecoder().decode(ModelSpec.self, from: encoder.encode(ModelSpec.seedNetwork))
    #expect(seed == .seedNetwork)
  }

  @Test(arguments: [
    #"{"layers":["dense"],"init":"he"}"#,
    #"{"layers":[{"conv":3}],"init":"he"}"#,
    #"{"layers":[{"dense":0}],"init":"he"}"#,
    #"{"layers":[{"dense":3,"relu":1}],"init":"he"}"#,
    #"{"layers":["relu"],"init":"xavier"}"#,
    #"{"layers":["relu"]}"#,
  ])
  func rejectsMalformedSpecs(json: String) {
    #expect(throws: DecodingError.self) { try JSONDecoder().decode(ModelSpec.self, from: Data(json.utf8)) }
  }
}

@Suite struct OptimizerSpecTests {
  @Test func omittedKeys_takeDefaults() throws {
    let spec = try JSONDecoder().decode(OptimizerSpec.self, from: Data(#"{"kind":"adamw","learning_rate":0.001}"#.utf8))
    #expect(spec == OptimizerSpec(kind: .adamw, learningRate: 0.001))
    #expect(spec.momentum == 0.9 && spec.beta1 == 0.9 && spec.beta2 == 0.999)
    #expect(spec.epsilon == 1e-8 && spec.weightDecay == 0)
  }

  @Test func encodesSnakeCase_andRoundTrips() throws {
    let spec = OptimizerSpec(kind: .momentum, learningRate: 0.05, momentum: 0.8, weightDecay: 1e-4)
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let data = try encoder.encode(spec)
    let text = String(decoding: data, as: UTF8.self)
    #expect(text.contains(#""learning_rate":0.05"#) && text.contains(#""weight_decay":"#))
    #expect(try JSONDecoder().decode(OptimizerSpec.self, from: data) == spec)
  }
}
