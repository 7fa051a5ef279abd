import Foundation
import Testing
import NeuralNet
import Tensor

/// A small CNN over 1×6×6 images with every new layer kind.
let smallCNN = ModelSpec(
  inputShape: [1, 6, 6],
  layers: [
    .conv2d(filters: 3, kernel: 3), .relu, .batchNorm, .maxPool2d(size: 2), .dropout(rate: 0.25),
    .conv2d(filters: 4, kernel: 3, padding: 0, stride: 1), .flatten, .batchNorm, .dense(units: 3),
  ],
  initialization: .he)

/// Two 6×6 classes: a bright horizontal bar or a bright vertical bar, at a random place, plus noise.
func bars(_ n: Int, seed: UInt64) -> (Tensor, [UInt8]) {
  var rng = SeededGenerator(seed: seed)
  var x: [Float] = []
  var y: [UInt8] = []
  for _ in 0..<n {
    let label = rng.nextIndex(below: 2)
    let at = rng.nextIndex(below: 6)
    for r in 0..<6 {
      for c in 0..<6 {
        let on = label == 0 ? r == at : c == at
        x.append((on ? 1 : 0) + rng.nextFloat(in: -0.2, 0.2))
      }
    }
    y.append(UInt8(label))
  }
  return (Tensor(shape: [n, 36], scalars: x), y)
}

@Suite struct CNNSequentialTests {
  @Test func names_shapesAndBuffers() throws {
    var rng = SeededGenerator(seed: 1)
    let model = Sequential(spec: smallCNN, inputSize: 36, using: &rng)
    #expect(model.namedParameters.map(\.name) == [
      "layer0.weight", "layer0.bias",
      "layer2.weight", "layer2.bias", "layer2.running_mean", "layer2.running_var",
      "layer5.weight", "layer5.bias",
      "layer7.weight", "layer7.bias", "layer7.running_mean", "layer7.running_var",
      "layer8.weight", "layer8.bias",
    ])
    #expect(model.namedParameters.map(\.value.shape) == [
      [3, 1, 3, 3], [3], [3], [3], [3], [3], [4, 3, 3, 3], [4], [4], [4], [4], [4], [4, 3], [3],
    ])
    #expect(model.namedBuffers.map(\.name) == ["layer2.running_mean", "layer2.running_var", "layer7.running_mean", "layer7.running_var"])
    #expect(model.namedTrainableParameters.map(\.name) == model.namedGradients.map(\.name))
    #expect(model.namedTrainableParameters.count == 10)
    #expect(model.parameterCount == 27 + 3 + 3 + 3 + 108 + 4 + 4 + 4 + 12 + 3)
    #expect(model.outputSize == 3)
    #expect(try smallCNN.outputShape(inputSize: 36) == [3])
  }

  @Test func backward_matchesFiniteDifferencesThroughTheWholeNetwork() {
    var rng = SeededGenerator(seed: 2)
    var model = Sequential(spec: smallCNN, inputSize: 36, using: &rng)
    model.updateParameters { _, p, _ in if p.shape.count == 1 { p = randomTensor(p.shape, &rng, in: 0.5, 1) } }
    let x = randomTensor([5, 36], &rng)
    let labels: [UInt8] = [0, 1, 2, 2, 1]
    // Training mode throughout (batch statistics, dropout): copies of `before` draw the same masks.
    let before = model
    model.zeroGradients()
    let logits = model.forward(x, training: true)
    model.backward(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels).gradient)

    for (index, (name, value)) in model.namedTrainableParameters.enumerated() {
      let numeric = numericalGradient(of: value, h: 1e-2) { perturbed in
        var probe = before
        probe.updateParameters { i, p, _ in if i == index { p = perturbed } }
        return softmaxCrossEntropy(logits: probe.forward(x, training: true), labels: labels).loss
      }
      let analytic = model.namedGradients[index].value.scalars
      // layer5.bias feeds a batch norm, which removes any per-feature shift: its true gradient is
      // 0, so both sides are rounding noise and only an absolute bound means anything.
      let largest = zip(analytic, numeric).map { abs(Double($0) - $1) }.max()!
      #expect(relativeError(analytic, numeric) < 2e-2 || largest < 1e-5, "\(name): \(analytic) vs \(numeric)")
    }
  }

  @Test func restore_givesIdenticalInferenceIncludingRunningStatistics() throws {
    var rng = SeededGenerator(seed: 3)
    var model = Sequential(spec: smallCNN, inputSize: 36, using: &rng)
    let x = randomTensor([8, 36], &rng)
    for _ in 0..<3 { _ = model.forward(randomTensor([8, 36], &rng, in: 0, 2), training: true) }
    #expect(model.namedBuffers.contains { $0.value.scalars.contains { $0 != 0 && $0 != 1 } })
    let saved = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.value) })
    var restored = try Sequential(spec: smallCNN, inputSize: 36, parameters: saved)
    #expect(restored.forward(x, training: false) == model.forward(x, training: false))
    #expect(restored.namedBuffers.map(\.value) == model.namedBuffers.map(\.value))

    var missing = saved
    missing["layer7.running_var"] = nil
    #expect(throws: NeuralNetError.missingParameter(name: "layer7.running_var")) {
      try Sequential(spec: smallCNN, inputSize: 36, parameters: missing)
    }
  }

  @Test func optimizer_leavesRunningStatisticsToTheForwardPass() {
    var rng = SeededGenerator(seed: 4)
    var model = Sequential(spec: smallCNN, inputSize: 36, using: &rng)
    let (x, y) = bars(16, seed: 4)
    let spec = OptimizerSpec(kind: .adamw, learningRate: 0.1, weightDecay: 0.5)
    var optimizer = makeOptimizer(spec, for: model)
    model.zeroGradients()
    let logits = model.forward(x, training: true)
    model.backward(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: y).gradient)
    let buffers = model.namedBuffers.map(\.value)
    let trainable = model.namedTrainableParameters.map(\.value)
    optimizer.step(&model)
    #expect(model.namedBuffers.map(\.value) == buffers)
    #expect(zip(model.namedTrainableParameters, trainable).allSatisfy { $0.value != $1 })
  }

  func fit(seed: UInt64, epochs: Int = 3) -> (Sequential, [EpochRecord]) {
    let (x, y) = bars(200, seed: 10)
    let (vx, vy) = bars(100, seed: 11)
    var rng = SeededGenerator(seed: seed)
    var model = Sequential(spec: smallCNN, inputSize: 36, using: &rng)
    let spec = OptimizerSpec(kind: .adam, learningRate: 0.01)
    var optimizer = makeOptimizer(spec, for: model)
    var options = TrainingOptions(epochs: epochs, batchSize: 16)
    options.labelSmoothing = 0.05
    let history = Trainer.fit(
      &model, optimizer: &optimizer, features: x, labels: y, validation: (vx, vy),
      options: options, using: &rng)
    return (model, history)
  }

  @Test func fit_isBitIdenticalForTheSameSeed() {
    let (a, ha) = fit(seed: 7)
    let (b, hb) = fit(seed: 7)
    #expect(a.namedParameters.map(\.value) == b.namedParameters.map(\.value))
    #expect(ha.map(\.trainLoss) == hb.map(\.trainLoss))
    let (c, _) = fit(seed: 8)
    #expect(a.namedParameters.map(\.value) != c.namedParameters.map(\.value))
  }

  @Test func tinyCNN_learnsBars() {
    let (_, history) = fit(seed: 9, epochs: 6)
    #expect(history.last!.validationAccuracy! > 0.95)
    #expect(history.last!.trainLoss < history.first!.trainLoss)
  }
}

@Suite struct CNNSpecTests {
  @Test func decodesEveryForm_andRoundTrips() throws {
    let json = #"""
      {"init":"he","input_shape":[1,28,28],"layers":[
        {"conv2d":{"filters":32,"kernel":3}}, "relu", "batchnorm",
        {"conv2d":{"filters":8,"kernel":5,"padding":0,"stride":2}}, {"maxpool2d":2}, {"dropout":0.25},
        "flatten", {"dense":10}]}
      """#
    let spec = try JSONDecoder().decode(ModelSpec.self, from: Data(json.utf8))
    #expect(spec == ModelSpec(
      inputShape: [1, 28, 28],
      layers: [
        .conv2d(filters: 32, kernel: 3, padding: 1, stride: 1), .relu, .batchNorm,
        .conv2d(filters: 8, kernel: 5, padding: 0, stride: 2), .maxPool2d(size: 2), .dropout(rate: 0.25),
        .flatten, .dense(units: 10),
      ],
      initialization: .he))
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let encoded = try encoder.encode(spec)
    #expect(String(decoding: encoded, as: UTF8.self) == #"{"init":"he","input_shape":[1,28,28],"layers":[{"conv2d":{"filters":32,"kernel":3,"padding":1,"stride":1}},"relu","batchnorm",{"conv2d":{"filters":8,"kernel":5,"padding":0,"stride":2}},{"maxpool2d":2},{"dropout":0.25},"flatten",{"dense":10}]}"#)
    #expect(try JSONDecoder().decode(ModelSpec.self, from: encoded) == spec)
    // Flat models encode without input_shape, exactly as before.
    #expect(String(decoding: try encoder.encode(ModelSpec.seedNetwork), as: UTF8.self) == #"{"init":"uniform","layers":[{"dense":10},"relu",{"dense":10}]}"#)
  }

  @Test(arguments: [
    #"{"layers":[{"conv2d":{"filters":0,"kernel":3}}],"init":"he"}"#,
    #"{"layers":[{"conv2d":{"filters":4}}],"init":"he"}"#,
    #"{"layers":[{"conv2d":{"filters":4,"kernel":3,"dilation":2}}],"init":"he"}"#,
    #"{"layers":[{"conv2d":{"filters":4,"kernel":3,"stride":0}}],"init":"he"}"#,
    #"{"layers":[{"conv2d":{"filters":4,"kernel":3,"padding":-1}}],"init":"he"}"#,
    #"{"layers":[{"maxpool2d":0}],"init":"he"}"#,
    #"{"layers":[{"dropout":1}],"init":"he"}"#,
    #"{"layers":[{"dropout":-0.1}],"init":"he"}"#,
    #"{"layers":["maxpool2d"],"init":"he"}"#,
    #"{"layers":["batchnorm2d"],"init":"he"}"#,
  ])
  func rejectsMalformedLayers(json: String) {
    #expect(throws: DecodingError.self) { try JSONDecoder().decode(ModelSpec.self, from: Data(json.utf8)) }
  }

  @Test func outputShape_reportsLayersThatDoNotFit() throws {
    let imageless = ModelSpec(layers: [.conv2d(filters: 4, kernel: 3)], initialization: .he)
    #expect(throws: NeuralNetError.self) { try imageless.outputShape(inputSize: 784) }
    let unflattened = ModelSpec(inputShape: [1, 28, 28], layers: [.dense(units: 10)], initialization: .he)
    #expect(throws: NeuralNetError.self) { try unflattened.outputShape(inputSize: 784) }
    let wrongSize = ModelSpec(inputShape: [1, 28, 27], layers: [.flatten], initialization: .he)
    #expect(throws: NeuralNetError.self) { try wrongSize.outputShape(inputSize: 784) }
    let tooBig = ModelSpec(inputShape: [1, 4, 4], layers: [.conv2d(filters: 2, kernel: 7, padding: 1, stride: 1)], initialization: .he)
    #expect(throws: NeuralNetError.self) { try tooBig.outputShape(inputSize: 16) }
    let strided = ModelSpec(
      inputShape: [1, 28, 28], layers: [.conv2d(filters: 8, kernel: 3, padding: 1, stride: 2), .maxPool2d(size: 2), .flatten],
      initialization: .he)
    #expect(try strided.outputShape(inputSize: 784) == [8 * 7 * 7])
  }
}
