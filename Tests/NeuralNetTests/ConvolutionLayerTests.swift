import Foundation
import Testing
import NeuralNet
import Tensor

/// Random values that are pairwise at least 0.01 apart: no near-ties for max pooling to flip
/// under a finite-difference step.
func distinctTensor(_ shape: [Int], _ rng: inout SeededGenerator) -> Tensor {
  let count = shape.reduce(1, *)
  return Tensor(shape: shape, scalars: rng.permutation(count).map { Float($0) * 0.01 - Float(count) * 0.005 })
}

@Suite struct Conv2DTests {
  @Test func forward_matchesHandComputedCorrelation() {
    // One 3×3 image, one 2×2 filter, no padding: y[i, j] = Σ W[a, b]·x[i + a, j + b] + b.
    var layer = Conv2D(
      weight: Tensor(shape: [1, 1, 2, 2], scalars: [1, 0, 0, -1]), bias: Tensor(shape: [1], scalars: [0.5]),
      padding: 0, stride: 1)
    let y = layer.forward(Tensor(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9]), training: false)
    #expect(y.shape == [1, 1, 2, 2])
    let expected: [Float] = [-3.5, -3.5, -3.5, -3.5]  // x[i, j] − x[i + 1, j + 1] + 0.5 = −4 + 0.5
    #expect(y.scalars == expected)
  }

  /// (padding, stride, kernel): "same", strided, and a pointwise 1×1 (no im2col).
  @Test(arguments: [(1, 1, 3), (0, 2, 3), (2, 2, 3), (0, 1, 1)])
  func backward_matchesFiniteDifferences(padding: Int, stride: Int, kernel: Int) {
    var rng = SeededGenerator(seed: 41)
    let x = randomTensor([3, 2, 5, 6], &rng)
    var layer = Conv2D(
      inputChannels: 2, filters: 3, kernel: kernel, padding: padding, stride: stride, initialization: .uniform, using: &rng)
    let y = layer.forward(x, training: true)
    let r = randomTensor(y.shape, &rng)
    let dx = layer.backward(r)
    #expect(dx.shape == x.shape)

    let base = layer
    func loss(weight: Tensor? = nil, bias: Tensor? = nil, input: Tensor? = nil) -> Double {
      var probe = Conv2D(weight: weight ?? base.weight, bias: bias ?? base.bias, padding: padding, stride: stride)
      return projected(probe.forward(input ?? x, training: false), r)
    }
    #expect(relativeError(layer.weightGradient.scalars, numericalGradient(of: base.weight) { loss(weight: $0) }) < 1e-3)
    #expect(relativeError(layer.biasGradient.scalars, numericalGradient(of: base.bias) { loss(bias: $0) }) < 1e-3)
    #expect(relativeError(dx.scalars, numericalGradient(of: x) { loss(input: $0) }) < 1e-3)
  }

  @Test func parameterGradients_matchFullBackwardAndAccumulate() {
    var rng = SeededGenerator(seed: 42)
    let x = randomTensor([5, 3, 6, 6], &rng)
    var full = Conv2D(inputChannels: 3, filters: 4, kernel: 3, padding: 1, stride: 1, initialization: .he, using: &rng)
    let dy = randomTensor(full.forward(x, training: true).shape, &rng)
    var partial = full
    _ = full.backward(dy)
    partial.accumulateParameterGradients(dy)
    #expect(partial.weightGradient == full.weightGradient)
    #expect(partial.biasGradient == full.biasGradient)
    partial.accumulateParameterGradients(dy)
    expectClose(partial.weightGradient.scalars, full.weightGradient.scalars.map { 2 * $0 }, atol: 1e-5, rtol: 1e-5, "2·dW")
    partial.zeroGradients()
    #expect(partial.weightGradient.scalars.allSatisfy { $0 == 0 } && partial.biasGradient.scalars.allSatisfy { $0 == 0 })
  }

  @Test func fusedReLU_isBitIdenticalToConvThenReLU() {
    var rng = SeededGenerator(seed: 45)
    let x = randomTensor([4, 3, 7, 7], &rng)
    var separate = Conv2D(inputChannels: 3, filters: 5, kernel: 3, padding: 1, stride: 1, initialization: .he, using: &rng)
    var fused = separate
    fused.fusedReLU = true
    var relu = ReLU()
    let y = relu.forward(separate.forward(x, training: true), training: true)
    #expect(fused.forward(x, training: true) == y)
    let dy = randomTensor(y.shape, &rng)
    #expect(fused.backward(dy) == separate.backward(relu.backward(dy)))
    #expect(fused.weightGradient == separate.weightGradient)
    #expect(fused.biasGradient == separate.biasGradient)
  }

  @Test func heInit_isKaimingUniformOverFanIn() {
    var rng = SeededGenerator(seed: 44)
    let layer = Conv2D(inputChannels: 8, filters: 16, kernel: 3, padding: 1, stride: 1, initialization: .he, using: &rng)
    #expect(layer.weight.shape == [16, 8, 3, 3])
    let bound = (6 / Float(8 * 9)).squareRoot()
    #expect(layer.weight.scalars.allSatisfy { abs($0) <= bound })
    #expect(layer.weight.scalars.max()! > 0.9 * bound)
    #expect(layer.bias.scalars.allSatisfy { $0 == 0 })
    let torch = Conv2D(inputChannels: 8, filters: 16, kernel: 3, padding: 1, stride: 1, initialization: .torch, using: &rng)
    let torchBound = 1 / Float(8 * 9).squareRoot()
    #expect(torch.weight.scalars.allSatisfy { abs($0) <= torchBound } && torch.weight.scalars.max()! > 0.9 * torchBound)
    #expect(torch.bias.scalars.allSatisfy { abs($0) <= torchBound } && torch.bias.scalars.contains { $0 != 0 })
    let dense = Dense(inputSize: 100, outputSize: 50, initialization: .torch, using: &rng)
    #expect(dense.weight.scalars.allSatisfy { abs($0) <= 0.1 } && dense.weight.scalars.max()! > 0.09)
  }
}

@Suite struct MaxPool2DTests {
  @Test func forward_takesWindowMaximaAndDropsRemainders() {
    var layer = MaxPool2D(size: 2)
    // 1×1×3×5: the last row and column do not fill a window.
    let x = Tensor(shape: [1, 1, 3, 5], scalars: [1, 5, 2, 0, 9, 3, 4, 8, 7, 9, 9, 9, 9, 9, 9])
    let y = layer.forward(x, training: true)
    #expect(y.shape == [1, 1, 1, 2])
    #expect(y.scalars == [5, 8])
    let dx = layer.backward(Tensor(shape: [1, 1, 1, 2], scalars: [10, 20]))
    #expect(dx.scalars == [0, 10, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0])
  }

  @Test func backward_matchesFiniteDifferences() {
    var rng = SeededGenerator(seed: 51)
    let x = distinctTensor([2, 3, 4, 6], &rng)
    var layer = MaxPool2D(size: 2)
    let y = layer.forward(x, training: true)
    let r = randomTensor(y.shape, &rng)
    let dx = layer.backward(r)
    var probe = MaxPool2D(size: 2)
    let numeric = numericalGradient(of: x, h: 1e-3) { projected(probe.forward($0, training: false), r) }
    #expect(relativeError(dx.scalars, numeric) < 1e-3)
  }
}

@Suite struct BatchNormTests {
  /// Images (BatchNorm2d) and feature rows (BatchNorm1d).
  @Test(arguments: [[4, 3, 2, 3], [6, 4]])
  func trainingBackward_matchesFiniteDifferences(shape: [Int]) {
    var rng = SeededGenerator(seed: 61)
    let c = shape[1]
    let x = randomTensor(shape, &rng, in: -2, 2)
    let r = randomTensor(shape, &rng)
    var layer = BatchNorm(
      weight: randomTensor([c], &rng, in: 0.5, 1.5), bias: randomTensor([c], &rng),
      runningMean: Tensor(zeros: [c]), runningVariance: Tensor(shape: [c], repeating: 1))
    let base = layer
    _ = layer.forward(x, training: true)
    let dx = layer.backward(r)

    func loss(weight: Tensor? = nil, bias: Tensor? = nil, input: Tensor? = nil) -> Double {
      var probe = BatchNorm(
        weight: weight ?? base.weight, bias: bias ?? base.bias, runningMean: base.runningMean,
        runningVariance: base.runningVariance)
      return projected(probe.forward(input ?? x, training: true), r)
    }
    #expect(relativeError(layer.weightGradient.scalars, numericalGradient(of: base.weight) { loss(weight: $0) }) < 1e-3)
    #expect(relativeError(layer.biasGradient.scalars, numericalGradient(of: base.bias) { loss(bias: $0) }) < 1e-3)
    #expect(relativeError(dx.scalars, numericalGradient(of: x) { loss(input: $0) }) < 1e-3)
  }

  @Test func training_normalisesAndUpdatesRunningStatisticsLikeTorch() {
    // One channel, values 1...4: mean 2.5, biased variance 1.25, unbiased 5/3.
    var layer = BatchNorm(channels: 1)
    let y = layer.forward(Tensor(shape: [4, 1], scalars: [1, 2, 3, 4]), training: true)
    let r: Double = 1 / (1.25 + 1e-5).squareRoot()
    let centred: [Double] = [-1.5, -0.5, 0.5, 1.5]
    expectClose(y.scalars, centred.map { Float($0 * r) }, atol: 1e-6, rtol: 1e-6, "y")
    expectClose(layer.runningMean.scalars, [0.25], atol: 1e-7, rtol: 1e-6, "running mean")
    let runningVariance: Double = 0.9 + 0.1 * 5.0 / 3.0
    expectClose(layer.runningVariance.scalars, [Float(runningVariance)], atol: 1e-7, rtol: 1e-6, "running var")
    // Inference uses the running statistics, not the batch's, and leaves them alone.
    let before = layer.runningMean
    let z = layer.forward(Tensor(shape: [1, 1], scalars: [1.25]), training: false)
    let expected: Double = (1.25 - 0.25) / (runningVariance + 1e-5).squareRoot()
    expectClose(z.scalars, [Float(expected)], atol: 1e-6, rtol: 1e-6, "inference")
    #expect(layer.runningMean == before)
  }
}

@Suite struct DropoutTests {
  @Test func training_dropsAboutRateAndScalesSurvivors_inferenceIsIdentity() {
    var layer = Dropout(rate: 0.25, generator: SeededGenerator(seed: 71))
    let x = Tensor(shape: [100, 100], repeating: 1)
    let y = layer.forward(x, training: true)
    let dropped = y.scalars.filter { $0 == 0 }.count
    #expect(abs(Double(dropped) / 10_000 - 0.25) < 0.02)
    #expect(y.scalars.allSatisfy { $0 == 0 || abs($0 - 4 / 3) < 1e-6 })
    #expect(layer.forward(x, training: false) == x)
  }

  @Test func backward_matchesFiniteDifferencesWithAFixedMask() {
    var rng = SeededGenerator(seed: 72)
    let x = randomTensor([4, 2, 3, 3], &rng)
    let r = randomTensor(x.shape, &rng)
    let base = Dropout(rate: 0.5, generator: SeededGenerator(seed: 73))
    var layer = base
    _ = layer.forward(x, training: true)
    let dx = layer.backward(r)
    // Copies of the untouched layer draw the same mask.
    let numeric = numericalGradient(of: x) { input in
      var probe = base
      return projected(probe.forward(input, training: true), r)
    }
    #expect(relativeError(dx.scalars, numeric) < 1e-3)
    #expect(dx.scalars.contains(0) && dx.scalars.contains { $0 != 0 })
  }

  @Test func masks_areDeterministicPerSeedAndChangeBetweenSteps() {
    let x = Tensor(shape: [8, 32], repeating: 1)
    var a = Dropout(rate: 0.5, generator: SeededGenerator(seed: 74))
    var b = Dropout(rate: 0.5, generator: SeededGenerator(seed: 74))
    let first = a.forward(x, training: true)
    #expect(first == b.forward(x, training: true))
    #expect(a.forward(x, training: true) != first)
  }
}

@Suite struct FlattenTests {
  @Test func flattensRowMajorAndRestoresTheShapeInBackward() {
    var layer = Flatten()
    let x = Tensor(shape: [2, 2, 1, 3], scalars: (0..<12).map(Float.init))
    let y = layer.forward(x, training: true)
    #expect(y == Tensor(shape: [2, 6], scalars: x.scalars))
    #expect(layer.backward(y) == x)
  }
}

@Suite struct LabelSmoothingTests {
  @Test func gradient_matchesFiniteDifferences() {
    var rng = SeededGenerator(seed: 81)
    let z = randomTensor([5, 4], &rng, in: -3, 3)
    let labels: [UInt8] = [0, 3, 1, 1, 2]
    let (_, g) = SoftmaxCrossEntropy.lossAndGradient(logits: z, labels: labels, batchSize: 5, labelSmoothing: 0.1)
    let numeric = numericalGradient(of: z, h: 1e-3) {
      softmaxCrossEntropy(logits: $0, labels: labels, batchSize: 5, labelSmoothing: 0.1).loss
    }
    #expect(relativeError(g.scalars, numeric) < 1e-3)
  }

  @Test func loss_isCrossEntropyAgainstSmoothedTargets() {
    // torch: (1 − ε)·NLL + ε·mean_j(−log p_j).
    let z = Tensor(shape: [2, 3], scalars: [1, 2, 3, 0, 0, 0])
    let (loss, _) = SoftmaxCrossEntropy.lossAndGradient(logits: z, labels: [2, 0], batchSize: 2, labelSmoothing: 0.2)
    let logZ0: Double = log(exp(1.0) + exp(2.0) + exp(3.0))
    let row0: Double = 0.8 * (logZ0 - 3) + 0.2 * (3 * logZ0 - 6) / 3
    let row1: Double = log(3.0)  // uniform logits: −log p = log 3 for every class
    let expected: Double = (row0 + row1) / 2
    #expect(abs(loss - expected) < 1e-6)
    let plain = SoftmaxCrossEntropy.lossAndGradient(logits: z, labels: [2, 0], batchSize: 2)
    #expect(SoftmaxCrossEntropy.lossAndGradient(logits: z, labels: [2, 0], batchSize: 2, labelSmoothing: 0) == plain)
  }
}
