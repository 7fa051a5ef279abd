import Dispatch
import Foundation
import Tensor

/// How `Trainer.fit` walks the data.
public struct TrainingOptions: Sendable {
  public var epochs: Int
  /// Rows per step; `nil` = full batch, one step per epoch (the numpy notebook's gradient descent).
  public var batchSize: Int?
  /// Reshuffle the rows every epoch (mini-batch only: a full batch does not depend on order).
  public var shuffle: Bool
  /// Batches larger than this are run through forward/backward in chunks of this many rows with
  /// the gradients accumulated, then stepped once: the same update (up to float summation order),
  /// but each chunk's input is still in cache for the backward GEMM. Full-batch training on
  /// 37,800 x 784 rows is memory-bound otherwise (about 2x slower).
  public var accumulationRows: Int
  /// Label smoothing ε of the training loss (PyTorch's `label_smoothing`), 0 = plain
  /// cross-entropy. Set it after `init`; it is not an `init` argument, so existing call sites
  /// keep their meaning. The reported train loss is the smoothed loss being minimised; validation
  /// loss (`Trainer.evaluate`) is always plain cross-entropy, comparable across settings.
  public var labelSmoothing: Float = 0
  /// Random distortions applied to every mini-batch before it is trained on (never to
  /// validation rows, nor in the undistorted last epochs the augmentation asks for), with the
  /// images' geometry and the value of a blank pixel. Set after `init`.
  public var augmentation: AugmentationSetup?

  public init(epochs: Int, batchSize: Int?, shuffle: Bool = true, accumulationRows: Int = 2048) {
    precondition(accumulationRows > 0, "accumulationRows must be positive")
    self.epochs = epochs
    self.batchSize = batchSize
    self.shuffle = shuffle
    self.accumulationRows = accumulationRows
  }
}

/// One epoch's summary. `trainLoss`/`trainAccuracy` are averaged over the epoch's batches as
/// they were trained (weighted by batch size), as most training loops report them.
public struct EpochRecord: Sendable, Codable, Equatable {
  /// Counts from 1, as people count epochs.
  public var epoch: Int
  public var trainLoss: Float
  public var trainAccuracy: Float
  public var validationLoss: Float?
  public var validationAccuracy: Float?
  public var seconds: Double
  public var learningRate: Float

  public init(
    epoch: Int, trainLoss: Float, trainAccuracy: Float, validationLoss: Float?, validationAccuracy: Float?,
    seconds: Double, learningRate: Float
  ) {
    self.epoch = epoch
    self.trainLoss = trainLoss
    self.trainAccuracy = trainAccuracy
    self.validationLoss = validationLoss
    self.validationAccuracy = validationAccuracy
    self.seconds = seconds
    self.learningRate = learningRate
  }
}

/// Reported after every optimizer step. `epoch` and `batch` count from 1; `samplesPerSecond` is over the epoch so far.
public struct BatchProgress: Sendable {
  public var epoch: Int
  public var epochs: Int
  public var batch: Int
  public var batches: Int
  public var loss: Float
  public var accuracy: Float
  public var samplesPerSecond: Double

  public init(
    epoch: Int, epochs: Int, batch: Int, batches: Int, loss: Float, accuracy: Float, samplesPerSecond: Double
  ) {
    self.epoch = epoch
    self.epochs = epochs
    self.batch = batch
    self.batches = batches
    self.loss = loss
    self.accuracy = accuracy
    self.samplesPerSecond = samplesPerSecond
  }
}

public enum Trainer {
  /// Trains `model` in place with softmax cross-entropy; `validation` is evaluated after each epoch.
  ///
  /// Every epoch: `optimizer.startEpoch`, the epoch's batches from `BatchSource` (which draws a
  /// permutation and any distortions from `generator`), then for each batch
  /// `zeroGradients → forward → loss → backward` over its chunks, and `optimizer.step`. The last
  /// batch may be short. Deterministic for a given generator state and worker count.
  public static func fit(
    _ model: inout Sequential, optimizer: inout any Optimizer,
    features: Tensor, labels: [UInt8], validation: (features: Tensor, labels: [UInt8])?,
    options: TrainingOptions, using generator: inout SeededGenerator,
    onBatch: (BatchProgress) -> Void = { _ in }, onEpoch: (EpochRecord) throws -> Void
  ) rethrows -> [EpochRecord] {
    precondition(features.columns == model.inputSize, "features have \(features.columns) columns, model expects \(model.inputSize)")
    let source = BatchSource(features: features, labels: labels, options: options, model: model)
    let clock = ContinuousClock()
    var history: [EpochRecord] = []
    for epoch in 0..<options.epochs {
      let start = clock.now
      optimizer.startEpoch(epoch, of: options.epochs)
      var epochTally = Tally()
      let order = source.order(using: &generator)
      for batch in 0..<source.batches {
        let chunks = source.chunks(ofBatch: batch, epoch: epoch, order: order, using: &generator)
        model.zeroGradients()
        let tally = source.replicaShares.map {
          trainReplicas(&model, chunks: chunks, shares: $0, backwards: epoch % 2 == 1, source: source)
        } ?? forwardBackward(&model, chunks, batchSize: source.rows(ofBatch: batch), labelSmoothing: options.labelSmoothing)
        optimizer.step(&model)
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
        let (loss, accuracy) = evaluate(&model, features: validation.features, labels: validation.labels)
        (record.validationLoss, record.validationAccuracy) = (loss, accuracy)
      }
      record.seconds = seconds(start.duration(to: clock.now))
      history.append(record)
      try onEpoch(record)
    }
    return history
  }

  /// `fit` without an epoch callback, callable without `try`. (Swift treats a defaulted
  /// `throws` closure parameter of a `rethrows` function as throwing, so this is an overload
  /// rather than a default argument.)
  public static func fit(
    _ model: inout Sequential, optimizer: inout any Optimizer,
    features: Tensor, labels: [UInt8], validation: (features: Tensor, labels: [UInt8])?,
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

  /// Data parallel: each replica takes a contiguous share of the chunks, and the gradients are
  /// summed in replica order, so the result is the same on every run. With `backwards` (every
  /// other step) each share is walked last to first: the chunks a step read last are still in the
  /// shared L3 cache, so the next step starts with them instead of re-reading them from memory.
  private static func trainReplicas(
    _ model: inout Sequential, chunks: [Chunk], shares: [Range<Int>], backwards: Bool, source: BatchSource
  ) -> Tally {
    let replicas = shares.map { _ in Replica(model) }
    let (batchSize, labelSmoothing) = (source.rows(ofBatch: 0), source.labelSmoothing)
    Workers.concurrentPerform(iterations: shares.count) { worker in
      let share = chunks[shares[worker]]
      replicas[worker].tally = backwards
        ? forwardBackward(&replicas[worker].model, share.reversed(), batchSize: batchSize, labelSmoothing: labelSmoothing)
        : forwardBackward(&replicas[worker].model, share, batchSize: batchSize, labelSmoothing: labelSmoothing)
    }
    var tally = Tally()
    for replica in replicas {
      model.addGradients(from: replica.model)
      tally.loss += replica.tally.loss
      tally.correct += replica.tally.correct
    }
    return tally
  }

  /// Mean softmax cross-entropy and accuracy of `model` on a labelled set, in batches.
  public static func evaluate(
    _ model: inout Sequential, features: Tensor, labels: [UInt8], batchSize: Int = 1024
  ) -> (loss: Float, accuracy: Float) {
    let n = features.rows
    precondition(labels.count == n, "\(labels.count) labels for \(n) feature rows")
    guard n > 0 else { return (0, 0) }
    var lossSum = 0.0
    var correct = 0
    for start in stride(from: 0, to: n, by: batchSize) {
      let range = start..<min(n, start + batchSize)
      let logits = model.forward(features.slicingRows(range), training: false)
      let y = Array(labels[range])
      lossSum += Double(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: y).loss) * Double(y.count)
      correct += countArgmaxMatches(logits, labels: y)
    }
    return (Float(lossSum / Double(n)), Float(correct) / Float(n))
  }

  /// Inference in batches (keeps memory flat): class probabilities `(N, classes)`.
  public static func predictProbabilities(_ model: inout Sequential, features: Tensor, batchSize: Int = 1024) -> Tensor {
    precondition(batchSize > 0, "batch size must be positive")
    let n = features.rows
    var scalars: [Float] = []
    scalars.reserveCapacity(n * model.outputSize)
    for start in stride(from: 0, to: n, by: batchSize) {
      let logits = model.forward(features.slicingRows(start..<min(n, start + batchSize)), training: false)
      scalars.append(contentsOf: softmax(logits).scalars)
    }
    return Tensor(shape: [n, model.outputSize], scalars: scalars)
  }

  private static func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
  }
}

/// A batch's rows (or a chunk of them) and their labels.
typealias Chunk = (x: Tensor, y: [UInt8])

/// Losses and correct guesses, summed over chunks or batches in a fixed order.
struct Tally {
  /// The sum of the chunks' losses (each already divided by its batch's size).
  var loss = 0.0
  var correct = 0
  /// Over an epoch: each batch's loss times its rows, and the rows seen.
  var weightedLoss = 0.0
  var rows = 0

  mutating func add(_ batch: Tally, rows batchRows: Int) {
    weightedLoss += batch.loss * Double(batchRows)
    correct += batch.correct
    rows += batchRows
  }
}

/// What an epoch trains on, batch by batch: the full batch (the same chunks every epoch, cut
/// once), or mini-batches of shuffled rows, distorted when the options ask for augmentation;
/// batches larger than `accumulationRows` run in chunks of that many rows.
struct BatchSource {
  let features: Tensor
  let labels: [UInt8]
  let options: TrainingOptions
  let batchSize: Int
  let batches: Int
  let fullBatch: Bool
  /// The full batch's chunks, cut once rather than on each of hundreds of iterations.
  let fullBatchChunks: [Chunk]
  /// With data-parallel full-batch training, each worker's share of the chunks.
  let replicaShares: [Range<Int>]?

  var labelSmoothing: Float { options.labelSmoothing }

  init(features: Tensor, labels: [UInt8], options: TrainingOptions, model: Sequential) {
    let n = features.rows
    precondition(labels.count == n, "\(labels.count) labels for \(n) feature rows")
    precondition(n > 0, "no training rows")
    self.features = features
    self.labels = labels
    self.options = options
    fullBatch = options.batchSize == nil || options.batchSize! >= n
    batchSize = fullBatch ? n : options.batchSize!
    precondition(batchSize > 0, "batch size must be positive")
    batches = (n + batchSize - 1) / batchSize

    // A full batch over a model whose rows are independent is split between workers, each with
    // its own replica, in chunks of `dataParallelChunkRows`: a chunk read by the forward GEMM is
    // still in the core's L2 cache when the backward GEMM reads it again.
    let workers = min(Workers.count, max(1, n / 512))
    let dataParallel = fullBatch && model.isRowIndependent && workers > 1
    let chunkRows = dataParallel ? min(options.accumulationRows, dataParallelChunkRows) : options.accumulationRows
    fullBatchChunks = fullBatch ? Self.cut(features, labels, rows: chunkRows) : []
    let chunkCount = fullBatchChunks.count
    replicaShares = dataParallel
      ? (0..<workers).map { worker in (chunkCount * worker / workers)..<(chunkCount * (worker + 1) / workers) } : nil
  }

  func rows(ofBatch batch: Int) -> Int { min(features.rows, (batch + 1) * batchSize) - batch * batchSize }

  /// The epoch's row order: a fresh permutation for shuffled mini-batches, nil otherwise.
  func order(using generator: inout SeededGenerator) -> [Int]? {
    !fullBatch && options.shuffle ? generator.permutation(features.rows) : nil
  }

  /// Batch `batch` of the epoch, in chunks.
  func chunks(ofBatch batch: Int, epoch: Int, order: [Int]?, using generator: inout SeededGenerator) -> [Chunk] {
    if fullBatch { return fullBatchChunks }
    let range = (batch * batchSize)..<min(features.rows, (batch + 1) * batchSize)
    var (x, y): Chunk
    if let order {
      let rows = order[range]
      (x, y) = (features.gatheringRows(rows), rows.map { labels[$0] })
    } else {
      (x, y) = (features.slicingRows(range), Array(labels[range]))
    }
    if let setup = options.augmentation, setup.augmentation.distorts(epoch: epoch, of: options.epochs) {
      setup.augmentation.apply(to: &x, height: setup.height, width: setup.width, background: setup.background, using: &generator)
    }
    return Self.cut(x, y, rows: options.accumulationRows)
  }

  /// `x` and `y` in chunks of at most `rows` rows (the whole, uncopied, when it fits in one).
  private static func cut(_ x: Tensor, _ y: [UInt8], rows: Int) -> [Chunk] {
    stride(from: 0, to: y.count, by: rows).map { first in
      let chunk = first..<min(y.count, first + rows)
      return chunk.count == y.count ? (x, y) : (x.slicingRows(chunk), Array(y[chunk]))
    }
  }
}

/// Rows per chunk in data-parallel full-batch training: 1.1 MB of 784 pixels a row, about a
/// core's L2 cache, so the backward GEMM reads the chunk the forward one just brought in, and
/// enough rows to spread each chunk's fixed costs (allocations, a dozen kernel calls, the
/// transposes of a thin `gemm`); chosen by timing `digits-bench seed` (README, "Where the time
/// goes").
let dataParallelChunkRows = 360

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
