import Foundation
import Testing
import NeuralNet
import Tensor

/// Three Gaussian blobs in 8-D: a problem a small MLP learns in a few epochs.
/// The centres are fixed; `seed` draws the samples (so train and validation share a problem).
func blobs(_ n: Int, seed: UInt64) -> (Tensor, [UInt8]) {
  var centreRNG = SeededGenerator(seed: 2024)
  let centres = (0..<3).map { _ in (0..<8).map { _ in centreRNG.nextFloat(in: -2, 2) } }
  var rng = SeededGenerator(seed: seed)
  var x: [Float] = []
  var y: [UInt8] = []
  for _ in 0..<n {
    let c = rng.nextIndex(below: 3)
    x += centres[c].map { $0 + rng.nextFloat(in: -1, 1) }
    y.append(UInt8(c))
  }
  return (Tensor(shape: [n, 8], scalars: x), y)
}

@Suite struct TrainerTests {
  let spec = ModelSpec(layers: [.dense(units: 16), .relu, .dense(units: 3)], initialization: .he)

  func train(
    seed: UInt64, optimizer kind: OptimizerSpec.Kind = .adam, learningRate: Float = 0.01,
    schedule: LearningRateSchedule = .constant, options: TrainingOptions
  ) -> (Sequential, [EpochRecord]) {
    let (x, y) = blobs(300, seed: 99)
    let (vx, vy) = blobs(100, seed: 100)
    var rng = SeededGenerator(seed: seed)
    var model = Sequential(spec: spec, inputSize: 8, using: &rng)
    let optimizerSpec = OptimizerSpec(kind: kind, learningRate: learningRate)
    var optimizer = makeOptimizer(optimizerSpec, schedule: schedule, for: model)
    let history = Trainer.fit(
      &model, optimizer: &optimizer, features: x, labels: y,
      validation: (vx, vy), options: options, using: &rng)
    return (model, history)
  }

  @Test func fit_learnsASeparableProblem() {
    let (_, history) = train(seed: 1, options: TrainingOptions(epochs: 8, batchSize: 32))
    #expect(history.count == 8)
    #expect(history.last!.validationAccuracy! > 0.9)
    #expect(history.last!.trainLoss < history.first!.trainLoss)
    #expect(history.last!.validationAccuracy! > history.first!.validationAccuracy! || history.first!.validationAccuracy! > 0.95)
  }

  @Test func fullBatchGradientDescent_improvesAccuracy() {
    let (_, history) = train(
      seed: 2, optimizer: .sgd, learningRate: 0.1, options: TrainingOptions(epochs: 60, batchSize: nil))
    #expect(history.last!.validationAccuracy! > 0.85)
    #expect(history.last!.validationAccuracy! > history.first!.validationAccuracy!)
  }

  @Test func chunkedAccumulation_takesTheSameStepAsOnePass() {
    let whole = train(seed: 4, optimizer: .sgd, learningRate: 0.1, options: TrainingOptions(epochs: 3, batchSize: nil))
    let chunked = train(
      seed: 4, optimizer: .sgd, learningRate: 0.1, options: TrainingOptions(epochs: 3, batchSize: nil, accumulationRows: 7))
    for (a, b) in zip(whole.0.namedParameters, chunked.0.namedParameters) {
      expectClose(b.value.scalars, a.value.scalars, atol: 1e-5, rtol: 1e-4, a.name)
    }
    for (a, b) in zip(whole.1, chunked.1) {
      #expect(abs(a.trainLoss - b.trainLoss) < 1e-5)
      #expect(a.trainAccuracy == b.trainAccuracy)
    }
  }

  /// 2,048 rows are enough for the data-parallel full-batch path (a worker per OpenBLAS thread,
  /// 360-row chunks); each step must match a single forward/backward over all the rows, the
  /// second step too, which walks the chunks backwards.
  @Test func dataParallelFullBatch_takesTheSameStepsAsOnePass_andRepeatsExactly() {
    let (x, y) = blobs(2048, seed: 5)
    var rng = SeededGenerator(seed: 6)
    let initial = Sequential(spec: spec, inputSize: 8, using: &rng)

    var reference = initial
    for _ in 0..<2 {
      reference.zeroGradients()
      let (_, gradient) = SoftmaxCrossEntropy.lossAndGradient(logits: reference.forward(x, training: true), labels: y)
      reference.backward(gradient)
      reference.updateParameters { _, parameter, gradient in axpy(-0.1, gradient, &parameter) }
    }

    func steps() -> Sequential {
      var model = initial
      var generator = SeededGenerator(seed: 1)
      let optimizerSpec = OptimizerSpec(kind: .sgd, learningRate: 0.1)
      var optimizer = makeOptimizer(optimizerSpec, for: model)
      _ = Trainer.fit(
        &model, optimizer: &optimizer, features: x, labels: y, validation: nil,
        options: TrainingOptions(epochs: 2, batchSize: nil), using: &generator)
      return model
    }
    let first = steps()
    for (a, b) in zip(reference.namedParameters, first.namedParameters) {
      expectClose(b.value.scalars, a.value.scalars, atol: 1e-5, rtol: 1e-4, a.name)
    }
    #expect(steps().namedParameters.map(\.value) == first.namedParameters.map(\.value))
  }

  @Test func fit_isBitIdenticalForTheSameSeed() {
    let options = TrainingOptions(epochs: 3, batchSize: 32)
    let (a, ha) = train(seed: 7, schedule: .cosine, options: options)
    let (b, hb) = train(seed: 7, schedule: .cosine, options: options)
    #expect(a.namedParameters.map(\.value) == b.namedParameters.map(\.value))
    #expect(ha.map(\.trainLoss) == hb.map(\.trainLoss))
    let (c, _) = train(seed: 8, schedule: .cosine, options: options)
    #expect(a.namedParameters.map(\.value) != c.namedParameters.map(\.value))
  }

  /// The blobs' 8 features read as 2x4 images: epochs the augmentation leaves undistorted train
  /// exactly as if there were no augmentation, and the distorted ones exactly as before.
  @Test func undistortedLastEpochs_trainOnTheRowsAsTheyAre() {
    func run(undistortedLastEpochs: Int?) -> (Sequential, [EpochRecord]) {
      var options = TrainingOptions(epochs: 2, batchSize: 32)
      if let undistortedLastEpochs {
        options.augmentation = AugmentationSetup(
          augmentation: Augmentation(shift: 1, undistortedLastEpochs: undistortedLastEpochs),
          height: 2, width: 4, background: 0)
      }
      return train(seed: 3, options: options)
    }
    let (plain, _) = run(undistortedLastEpochs: nil)
    let (neverDistorted, _) = run(undistortedLastEpochs: 2)
    let (alwaysDistorted, alwaysHistory) = run(undistortedLastEpochs: 0)
    let (lastUndistorted, lastHistory) = run(undistortedLastEpochs: 1)
    let weights = { (model: Sequential) in model.namedParameters.map(\.value) }
    #expect(weights(neverDistorted) == weights(plain))
    #expect(lastHistory[0].trainLoss == alwaysHistory[0].trainLoss, "the first epoch is distorted either way")
    #expect(lastHistory[1].trainLoss != alwaysHistory[1].trainLoss)
    #expect(weights(lastUndistorted) != weights(alwaysDistorted))
    #expect(weights(lastUndistorted) != weights(plain))
  }

  /// The average after every step is decay · average + (1 − decay) · weights, replayed here from
  /// the live weights: with a full batch and a constant rate, a run of k epochs is the first k
  /// steps of a longer one.
  @Test func weightAverage_isTheMovingAverageOfEveryStepsWeights() {
    let decay: Float = 0.75
    var rng = SeededGenerator(seed: 5)
    var expected = Sequential(spec: spec, inputSize: 8, using: &rng).namedParameters.map(\.value)
    for steps in 1...3 {
      let (live, _) = train(seed: 5, options: TrainingOptions(epochs: steps, batchSize: nil))
      for (index, weights) in live.namedParameters.map(\.value).enumerated() {
        expected[index] = Tensor(
          shape: weights.shape, scalars: zip(expected[index].scalars, weights.scalars).map { decay * $0 + (1 - decay) * $1 })
      }
    }
    var options = TrainingOptions(epochs: 3, batchSize: nil)
    options.weightAverageDecay = decay
    let (averaged, history) = train(seed: 5, options: options)
    for (got, want) in zip(averaged.namedParameters.map(\.value), expected) {
      #expect(zip(got.scalars, want.scalars).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) })
    }
    // Validation measured the average, not the live weights.
    let (_, liveHistory) = train(seed: 5, options: TrainingOptions(epochs: 3, batchSize: nil))
    #expect(history.map(\.trainLoss) == liveHistory.map(\.trainLoss))
    #expect(history.map(\.validationLoss) != liveHistory.map(\.validationLoss))
  }

  @Test func cosineSchedule_annealsPerEpoch() {
    let (_, history) = train(seed: 3, schedule: .cosine, options: TrainingOptions(epochs: 4, batchSize: 64))
    let expected = (0..<4).map { e in Float(0.01 * (1 + cos(Double.pi * Double(e) / 4)) / 2) }
    for (record, lr) in zip(history, expected) { #expect(abs(record.learningRate - lr) < 1e-9) }
    #expect(history.first!.learningRate == 0.01)
  }

  /// One cycle over 10 epochs: 3 rising from η/25 to η, 7 falling towards η/25·10⁻⁴, each along
  /// a cosine; one epoch is the peak rate.
  @Test func oneCycleSchedule_risesThenFalls() throws {
    let rates = (0..<10).map { LearningRateSchedule.oneCycle.learningRate(base: 0.01, epoch: $0, epochs: 10) }
    let rising = (0..<3).map { e in 0.0004 + (0.01 - 0.0004) * (1 - cos(Double.pi * Double(e) / 3)) / 2 }
    let falling = (0..<7).map { e in 0.00000004 + (0.01 - 0.00000004) * (1 + cos(Double.pi * Double(e) / 7)) / 2 }
    for (rate, expected) in zip(rates, rising + falling) { #expect(abs(Double(rate) - expected) < 2e-9, "\(rates)") }
    #expect(rates[3] == 0.01 && rates.max() == 0.01)
    #expect(LearningRateSchedule.oneCycle.learningRate(base: 0.01, epoch: 0, epochs: 1) == 0.01)
    #expect(try JSONDecoder().decode(LearningRateSchedule.self, from: Data("\"one_cycle\"".utf8)) == .oneCycle)
  }

  @Test func callbacks_reportEveryBatchAndEpoch() throws {
    let (x, y) = blobs(100, seed: 5)
    var rng = SeededGenerator(seed: 5)
    var model = Sequential(spec: spec, inputSize: 8, using: &rng)
    let optimizerSpec = OptimizerSpec(kind: .momentum, learningRate: 0.05)
    var optimizer = makeOptimizer(optimizerSpec, for: model)
    var batches: [BatchProgress] = []
    var epochs: [Int] = []
    struct Stop: Error {}
    #expect(throws: Stop.self) {
      _ = try Trainer.fit(
        &model, optimizer: &optimizer, features: x, labels: y, validation: nil,
        options: TrainingOptions(epochs: 3, batchSize: 30), using: &rng,
        onBatch: { batches.append($0) },
        onEpoch: { record in
          epochs.append(record.epoch)
          if record.epoch == 2 { throw Stop() }
        })
    }
    #expect(epochs == [1, 2])
    #expect(batches.count == 8)  // 4 batches (30, 30, 30, 10) per epoch
    #expect(batches.map(\.batch) == [1, 2, 3, 4, 1, 2, 3, 4])
    #expect(batches.allSatisfy { $0.batches == 4 && $0.epochs == 3 && $0.loss.isFinite })
  }

  @Test func predictProbabilities_matchesSoftmaxOfOneBigForward() {
    let (x, _) = blobs(50, seed: 6)
    var rng = SeededGenerator(seed: 6)
    var model = Sequential(spec: spec, inputSize: 8, using: &rng)
    let batched = Trainer.predictProbabilities(&model, features: x, batchSize: 16)
    let whole = softmax(model.forward(x, training: false))
    #expect(batched.shape == [50, 3])
    expectClose(batched.scalars, whole.scalars, atol: 1e-6, rtol: 1e-6, "probabilities")
  }
}

/// Bytes that stand for floats train exactly as the floats do, on each path through a batch.
/// Both sides run through the same `BatchSource`, so this checks what the bytes change (cutting,
/// gathering and expanding them), not the batching itself, which `TrainerTests` checks.
@Suite struct ByteRowsTrainingTests {
  let spec = ModelSpec(layers: [.dense(units: 16), .relu, .dense(units: 3)], initialization: .he)

  func weights(features: some TrainingRows, labels: [UInt8], options: TrainingOptions, workers: Int) -> [[UInt32]] {
    Workers.withCount(workers) {
      var generator = SeededGenerator(seed: 11)
      var model = Sequential(spec: spec, inputSize: 8, using: &generator)
      var optimizer = makeOptimizer(OptimizerSpec(kind: .adam, learningRate: 0.01), for: model)
      _ = Trainer.fit(
        &model, optimizer: &optimizer, features: features, labels: labels, validation: nil, options: options,
        using: &generator)
      return model.namedParameters.map { $0.value.scalars.map(\.bitPattern) }
    }
  }

  /// A full batch data parallel (2,048 rows, two workers: chunks walked forwards, then
  /// backwards) and on one model in chunks of 500; shuffled mini-batches in chunks of 16, shifted
  /// as 2x4 images.
  @Test func byteMatrix_trainsExactlyAsItsExpandedFloats() {
    var generator = SeededGenerator(seed: 5)
    let n = 2048
    let bytes = ByteMatrix(
      shape: [n, 8], bytes: (0..<(n * 8)).map { _ in UInt8(generator.nextIndex(below: 256)) },
      scale: 0.012715652, offset: -0.42437714)
    let labels = (0..<n).map { _ in UInt8(generator.nextIndex(below: 3)) }
    var miniBatches = TrainingOptions(epochs: 2, batchSize: 32)
    miniBatches.accumulationRows = 16
    miniBatches.augmentation = AugmentationSetup(
      augmentation: Augmentation(shift: 1), height: 2, width: 4, background: bytes.offset)
    let runs = [
      ("full batch, data parallel", TrainingOptions(epochs: 2, batchSize: nil), 2),
      ("full batch, one model", TrainingOptions(epochs: 2, batchSize: nil, accumulationRows: 500), 1),
      ("mini-batches", miniBatches, 2),
    ]
    for (name, options, workers) in runs {
      let fromBytes = weights(features: bytes, labels: labels, options: options, workers: workers)
      let fromFloats = weights(features: bytes.expanded(), labels: labels, options: options, workers: workers)
      #expect(fromBytes == fromFloats, "\(name)")
    }
  }
}
