import Foundation
import Testing
import NeuralNet
import Tensor

@Suite struct DenseTests {
  @Test func forward_isAffineMap() {
    var layer = Dense(
      weight: Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]), bias: Tensor(shape: [3], scalars: [0.5, 0, -1]))
    let y = layer.forward(Tensor(shape: [2, 2], scalars: [1, 0, 1, 1]), training: false)
    #expect(y.shape == [2, 3])
    #expect(y.scalars == [1.5, 2, 2, 5.5, 7, 8])
  }

  @Test func backward_matchesFiniteDifferences() {
    var rng = SeededGenerator(seed: 11)
    let (n, i, o) = (4, 5, 3)
    let x = randomTensor([n, i], &rng)
    let r = randomTensor([n, o], &rng)
    var layer = Dense(inputSize: i, outputSize: o, initialization: .uniform, using: &rng)
    _ = layer.forward(x, training: true)
    let dx = layer.backward(r)

    let base = layer
    func loss(weight: Tensor? = nil, bias: Tensor? = nil, input: Tensor? = nil) -> Double {
      var probe = Dense(weight: weight ?? base.weight, bias: bias ?? base.bias)
      return projected(probe.forward(input ?? x, training: false), r)
    }
    #expect(relativeError(layer.weightGradient.scalars, numericalGradient(of: base.weight) { loss(weight: $0) }) < 1e-3)
    #expect(relativeError(layer.biasGradient.scalars, numericalGradient(of: base.bias) { loss(bias: $0) }) < 1e-3)
    #expect(relativeError(dx.scalars, numericalGradient(of: x) { loss(input: $0) }) < 1e-3)
  }

  @Test func backward_accumulatesUntilZeroed() {
    var rng = SeededGenerator(seed: 12)
    var layer = Dense(inputSize: 3, outputSize: 2, initialization: .he, using: &rng)
    let x = randomTensor([2, 3], &rng)
    let dy = randomTensor([2, 2], &rng)
    _ = layer.forward(x, training: true)
    _ = layer.backward(dy)
    let once = layer.weightGradient
    _ = layer.backward(dy)
    for (twice, single) in zip(layer.weightGradient.scalars, once.scalars) { #expect(abs(twice - 2 * single) < 1e-6) }
    layer.zeroGradients()
    #expect(layer.weightGradient.scalars.allSatisfy { $0 == 0 })
    #expect(layer.biasGradient.scalars.allSatisfy { $0 == 0 })
  }

  /// A layer with few outputs keeps `Wᵀ` between forward passes; an optimizer step (or any other
  /// change of W) must not leave the next pass on the old weights.
  @Test func forward_followsChangedWeights() {
    // Bit-identity is a promise for one worker count: hold it, whatever other tests do.
    Workers.withCount(2) { forwardFollowsChangedWeights() }
  }

  private func forwardFollowsChangedWeights() {
    var rng = SeededGenerator(seed: 14)
    var layer = Dense(inputSize: 784, outputSize: 10, initialization: .uniform, using: &rng)
    let x = randomTensor([300, 784], &rng)
    #expect(gemmCopiesTransposedB(m: 300, k: 784, n: 10))
    let before = layer.forward(x, training: true)
    _ = layer.backward(randomTensor([300, 10], &rng))
    axpy(-0.1, layer.weightGradient, &layer.weight)  // in place, as an optimizer step updates W
    let after = layer.forward(x, training: false)
    var fresh = Dense(weight: layer.weight, bias: layer.bias)
    #expect(after.scalars == fresh.forward(x, training: false).scalars)
    #expect(after.scalars != before.scalars)
    layer.weight.scalars[0] += 1
    #expect(abs(layer.forward(x, training: false).scalars[0] - (after.scalars[0] + x.scalars[0])) < 1e-4)
  }

  /// As `Sequential` runs dense → relu: the same outputs and gradients, bit for bit, as the two
  /// layers one after the other; on rows enough for the bias pass to be split between workers,
  /// and in the first-layer form that computes no dx.
  @Test func fusedReLU_isBitIdenticalToDenseThenReLU() {
    // Four workers, so that the bias's pass is split whatever the machine's core count.
    Workers.withCount(4) { checkFusedReLU() }
  }

  private func checkFusedReLU() {
    var rng = SeededGenerator(seed: 14)
    let x = randomTensor([130, 300], &rng)
    var separate = Dense(inputSize: 300, outputSize: 260, initialization: .he, using: &rng)
    separate.bias = randomTensor([260], &rng)
    var fused = separate
    fused.fusedReLU = true
    var relu = ReLU()
    let y = relu.forward(separate.forward(x, training: true), training: true)
    #expect(y.scalars.contains(0) && y.scalars.contains { $0 > 0 })
    #expect(fused.forward(x, training: true) == y)
    let dy = randomTensor(y.shape, &rng)
    #expect(fused.backward(dy) == separate.backward(relu.backward(dy)))
    #expect(fused.weightGradient == separate.weightGradient)
    #expect(fused.biasGradient == separate.biasGradient)
    fused.accumulateParameterGradients(dy)
    separate.accumulateParameterGradients(relu.backward(dy))
    #expect(fused.weightGradient == separate.weightGradient)
  }

  @Test func heInit_isKaimingUniformWithZeroBias() {
    var rng = SeededGenerator(seed: 13)
    let layer = Dense(inputSize: 600, outputSize: 50, initialization: .he, using: &rng)
    let bound = (6 / Float(600)).squareRoot()
    #expect(layer.weight.scalars.allSatisfy { abs($0) <= bound })
    #expect(layer.weight.scalars.max()! > 0.9 * bound)
    #expect(layer.bias.scalars.allSatisfy { $0 == 0 })
    let uniform = Dense(inputSize: 600, outputSize: 50, initialization: .uniform, using: &rng)
    #expect(uniform.weight.scalars.allSatisfy { $0 >= -0.5 && $0 < 0.5 })
    #expect(uniform.bias.scalars.contains { $0 != 0 })
  }
}

@Suite struct ReLUTests {
  @Test func backward_matchesFiniteDifferences() {
    var rng = SeededGenerator(seed: 21)
    // Keep inputs away from the kink at 0, where the derivative is undefined.
    var x = randomTensor([3, 7], &rng)
    for k in x.scalars.indices where abs(x.scalars[k]) < 0.1 { x.scalars[k] += 0.2 }
    let r = randomTensor([3, 7], &rng)
    var layer = ReLU()
    let y = layer.forward(x, training: true)
    #expect(y.scalars == x.scalars.map { max($0, 0) })
    let dx = layer.backward(r)
    var probe = ReLU()
    let numeric = numericalGradient(of: x, h: 1e-3) { projected(probe.forward($0, training: false), r) }
    #expect(relativeError(dx.scalars, numeric) < 1e-3)
  }
}

@Suite struct SoftmaxCrossEntropyTests {
  @Test func gradient_matchesFiniteDifferences() {
    var rng = SeededGenerator(seed: 31)
    let z = randomTensor([5, 4], &rng, in: -3, 3)
    let labels: [UInt8] = [0, 3, 1, 1, 2]
    let (_, g) = SoftmaxCrossEntropy.lossAndGradient(logits: z, labels: labels)
    let numeric = numericalGradient(of: z, h: 1e-3) { softmaxCrossEntropy(logits: $0, labels: labels).loss }
    #expect(relativeError(g.scalars, numeric) < 1e-3)
  }

  @Test func loss_isMeanNegativeLogLikelihood() {
    let z = Tensor(shape: [2, 3], scalars: [1, 2, 3, 0, 0, 0])
    let (loss, _) = SoftmaxCrossEntropy.lossAndGradient(logits: z, labels: [2, 0])
    let p0 = 1 / (1 + exp(-1.0) + exp(-2.0))
    let expected = (-log(p0) + log(3.0)) / 2
    #expect(abs(Double(loss) - expected) < 1e-6)
  }

  @Test func softmax_rowsSumToOneEvenForHugeLogits() {
    let p = softmax(Tensor(shape: [2, 3], scalars: [1e4, -1e4, 0, 88, 89, 90]))
    for i in 0..<2 {
      let row = p.scalars[(i * 3)..<(i * 3 + 3)]
      #expect(row.allSatisfy { $0.isFinite })
      #expect(abs(row.reduce(0, +) - 1) < 1e-6)
    }
  }
}
