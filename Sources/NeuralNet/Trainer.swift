import Dispatch
import Foundation
import Tensor

public enum Trainer {
  /// Trains `model` in place with softmax cross-entropy; `validation` is evaluated after each epoch.
  /// `features` are floats, or bytes that stand for them (`ByteMatrix`), which train exactly as
  /// their floats would.
  ///
  /// Every epoch: `optimizer.startEpoch`, the epoch's batches from `BatchSource` (which draws a
  /// permutation and any distortions from `generator`), then for each batch
  /// `zeroGradients → forward → loss → backward` over its chunks, and `optimizer.step`. The last
  /// batch may be short. Deterministic for a given generator state and worker count. With
  /// `options.weightAverageDecay`, each step also moves an average of the weights toward the
  /// model's; validation measures the average, and `model` ends as the average.
  public static func fit(
    _ model: inout Sequential, optimizer: inout any Optimizer,
    features: some TrainingRows, labels: [UInt8], validation: (features: Tensor, labels: [UInt8])?,
    options: TrainingOptions, using generator: inout SeededGenerator,
    onBatch: (BatchProgress) -> Void = { _ in }, onEpoch: (EpochRecord) throws -> Void
  ) rethrows -> [EpochRecord] {
    precondition(features.columns == model.inputSize, "features have \(features.columns) columns, model expects \(model.inputSize)")
    let source = BatchSource(features: features, labels: labels, options: options, model: model)
    let clock = ContinuousClock()
    var history: [EpochRecord] = []
    var average: Sequential? = options.weightAverageDecay == nil ? nil : model
    for epoch in 0..<options.epochs {
      let start = clock.now
      optimizer.startEpoch(epoch, of: options.epochs)
      var epochTally = Tally()
      let order = source.order(using: &generator)
      for batch in 0..<source.batches {
        let miniBatch = source.fullBatch
          ? nil : source.chunks(ofMiniBatch: batch, epoch: epoch, order: order, using: &generator)
        model.zeroGradients()
        let tally = miniBatch.map {
          forwardBackward(&model, $0, batchSize: source.rows(ofBatch: batch), labelSmoothing: options.labelSmoothing)
        } ?? trainFullBatch(&model, source, backwards: epoch % 2 == 1)
        optimizer.step(&model)
        if let decay = options.weightAverageDecay { average?.average(toward: model, decay: decay) }
        epochTally.add(tally, rows: source.rows(ofBatch: batch))
        onBatch(
          BatchProgress(
            epoch: epoch + 1, epochs: options.epochs, batch: batch + 1, batches: source.batches, loss: Float(tally.loss),
            accuracy: Float(tally.correct) / Float(source.rows(ofBatch: batch)),
            samplesPerSecond: Double(epochTally.rows) / max(seconds(start.duration(to: clock.now)), 1e-9)))
      }
      var record = EpochRecord(
        epoch: epoch + 1, trainLoss: Float(epochTally.weightedLoss / Double(epochTally.rows)),
        trainAccuracy: Float(epochTally.correct) / Float(epochTally.rows),
        validationLoss: nil, validationAccuracy: nil, seconds: 0, learningRate: optimizer.learningRate)
      if let validation {
        // The weights training will leave: the average's, when there is one.
        let (loss, accuracy) = average == nil
          ? evaluate(&model, features: validation.features, labels: validation.labels)
          : evaluate(&average!, features: validation.features, labels: validation.labels)
        (record.validationLoss, record.validationAccuracy) = (loss, accuracy)
      }
      record.seconds = seconds(start.duration(to: clock.now))
      history.append(record)
      try onEpoch(record)
    }
    if let average { model = average }
    return history
  }

  /// `fit` without an epoch callback, callable without `try`. (Swift treats a defaulted
  /// `throws` closure parameter of a `rethrows` function as throwing, so this is an overload
  /// rather than a default argument.)
  public static func fit(
    _ model: inout Sequential, optimizer: inout any Optimizer,
    features: some TrainingRows, labels: [UInt8], validation: (features: Tensor, labels: [UInt8])?,
    options: TrainingOptions, using generator: inout SeededGenerator,
    onBatch: (BatchProgress) -> Void = { _ in }
  ) -> [EpochRecord] {
    fit(
      &model, optimizer: &optimizer, features: features, labels: labels, validation: validation, options: options,
      using: &generator, onBatch: onBatch, onEpoch: { _ in })
  }

  /// Forward, loss and backward over `chunks` in order, the gradients accumulating in `model`:
  /// the one chunk loop, run by the model itself or by each data-parallel replica.
  static func forwardBackward(
    _ model: inout Sequential, _ chunks: some Collection<Chunk>, batchSize: Int, labelSmoothing: Float
  ) -> Tally {
    var tally = Tally()
    for (x, y) in chunks {
      let logits = model.forward(x, training: true)
      let (loss, gradient) = SoftmaxCrossEntropy.lossAndGradient(
        logits: logits, labels: y, batchSize: batchSize, labelSmoothing: labelSmoothing)
      model.backward(gradient)
      tally.loss += loss
      tally.correct += countArgmaxMatches(logits, labels: y)
    }
    return tally
  }

  /// One step's forward, loss and backward over the full batch's chunks, each made floats only
  /// as the loop reaches it: by `model` alone, or data parallel when the source shares the chunks
  /// between replicas. There each replica takes a contiguous share, and the gradients are summed
  /// in replica order, so the result is the same on every run. With `backwards` (every other
  /// step) each share is walked last to first: the chunks a step read last are still in the
  /// shared L3 cache, so the next step starts with them instead of re-reading them from memory.
  private static func trainFullBatch<Features>(
    _ model: inout Sequential, _ source: BatchSource<Features>, backwards: Bool
  ) -> Tally {
    let (chunks, batchSize, labelSmoothing) = (source.fullBatchChunks, source.batchSize, source.labelSmoothing)
    guard let shares = source.replicaShares else {
      return forwardBackward(&model, chunks.lazy.map(BatchSource.floats), batchSize: batchSize, labelSmoothing: labelSmoothing)
    }
    let replicas = shares.map { _ in Replica(model) }
    Workers.concurrentPerform(iterations: shares.count) { worker in
      let share = chunks[shares[worker]]
      replicas[worker].tally = backwards
        ? forwardBackward(
          &replicas[worker].model, share.reversed().lazy.map(BatchSource.floats), batchSize: batchSize,
          labelSmoothing: labelSmoothing)
        : forwardBackward(
          &replicas[worker].model, share.lazy.map(BatchSource.floats), batchSize: batchSize,
          labelSmoothing: labelSmoothing)
    }
    var tally = Tally()
    for replica in replicas {
      model.addGradients(from: replica.model)
      tally.loss += replica.tally.loss
      tally.correct += replica.tally.correct
    }
    return tally
  }

  private static func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
  }
}

/// One worker's copy of the model in data-parallel full-batch training. Each worker touches only
/// its own replica, so no two threads share mutable state.
private final class Replica: @unchecked Sendable {
  var model: Sequential
  var tally = Tally()

  init(_ model: Sequential) {
    self.model = model
    self.model.zeroGradients()
  }
}
