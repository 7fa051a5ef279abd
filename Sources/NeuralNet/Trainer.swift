import Dispatch
import Foundation
import Tensor

/// How `Trainer.fit` walks the data.
public struct TrainingOptions: Sendable {
  public var epochs: Int
  /// Rows per step; `nil` = full batch, one step per epoch (the numpy notebook's gradient descent).
  public var batchSize: Int?
  public var schedule: LearningRateSchedule
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

  public init(
    epochs: Int, batchSize: Int?, schedule: LearningRateSchedule = .constant, shuffle: Bool = true,
    accumulationRows: Int = 2048
  ) {
    precondition(accumulationRows > 0, "accumulationRows must be positive")
    self.epochs = epochs
    self.batchSize = batchSize
    self.schedule = schedule
    self.shuffle = shuffle
    self.accumulationRows = accumulationRows
  }
}

/// The learning rate per epoch `e` of `E`, from the optimizer's base rate `η`.
public enum LearningRateSchedule: String, Codable, Sendable, Hashable {
  /// `η_e = η`
  case constant
  /// `η_e = η·(1 + cos(π·e/E))/2`: cosine annealing towards 0, stepped per epoch
  /// (torch's `CosineAnnealingLR(T_max=E)` stepped once per epoch).
  case cosine

  public func learningRate(base: Float, epoch: Int, epochs: Int) -> Float {
    switch self {
    case .constant: base
    case .cosine: Float(Double(base) * (1 + cos(Double.pi * Double(epoch) / Double(max(epochs, 1)))) / 2)
    }
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
  /// Every epoch: the learning rate from `options.schedule` and `optimizerSpec.learningRate`, a
  /// fresh permutation from `generator` (mini-batch with `shuffle` only), then for each batch
  /// `zeroGradients → forward → loss → backward → optimizer.step` (forward/backward in chunks of
  /// `options.accumulationRows` for large batches). The last batch may be short.
  /// Deterministic for a given generator state and BLAS thread count.
  public static func fit(
    _ model: inout Sequential, optimizer: inout any Optimizer, optimizerSpec: OptimizerSpec,
    features: Tensor, labels: [UInt8], validation: (features: Tensor, labels: [UInt8])?,
    options: TrainingOptions, using generator: inout SeededGenerator,
    onBatch: (BatchProgress) -> Void = { _ in }, onEpoch: (EpochRecord) throws -> Void
  ) rethrows -> [EpochRecord] {
    let n = features.rows
    precondition(labels.count == n, "\(labels.count) labels for \(n) feature rows")
    precondition(features.columns == model.inputSize, "features have \(features.columns) columns, model expects \(model.inputSize)")
    precondition(n > 0, "no training rows")
    let fullBatch = options.batchSize == nil || options.batchSize! >= n
    let batchSize = fullBatch ? n : options.batchSize!
    precondition(batchSize > 0, "batch size must be positive")
    let batches = (n + batchSize - 1) / batchSize
    let clock = ContinuousClock()
    var history: [EpochRecord] = []

    // Full batch over a model whose rows are independent: split the rows between workers, each
    // with its own replica, in chunks of `dataParallelChunkRows`. A chunk read by the forward
    // GEMM is still in the core's L2 cache when the backward GEMM reads it again.
    let workers = min(Workers.count, max(1, n / 512))
    let dataParallel = fullBatch && model.isRowIndependent && workers > 1
    let chunkRows = dataParallel ? min(options.accumulationRows, dataParallelChunkRows) : options.accumulationRows

    // A full batch is the same rows every epoch: cut it into chunks once, rather than copying
    // every chunk out of `features` on each of hundreds of iterations.
    let fullBatchChunks: [(x: Tensor, y: [UInt8])] = fullBatch
      ? stride(from: 0, to: n, by: chunkRows).map { first in
        let chunk = first..<min(n, first + chunkRows)
        return chunk.count == n ? (features, labels) : (features.slicingRows(chunk), Array(labels[chunk]))
      }
      : []
    let parallelGroups: [Range<Int>]? = dataParallel
      ? (0..<workers).map { worker in
        (fullBatchChunks.count * worker / workers)..<(fullBatchChunks.count * (worker + 1) / workers)
      }
      : nil

    for epoch in 0..<options.epochs {
      let start = clock.now
      let learningRate = options.schedule.learningRate(base: optimizerSpec.learningRate, epoch: epoch, epochs: options.epochs)
      let order: [Int]? = (!fullBatch && options.shuffle) ? generator.permutation(n) : nil
      var lossSum = 0.0
      var correct = 0
      var seen = 0

      for batch in 0..<batches {
        let range = (batch * batchSize)..<min(n, (batch + 1) * batchSize)
        var x: Tensor
        let y: [UInt8]
        if fullBatch {
          (x, y) = (features, labels)
        } else if let order {
          let rows = order[range]
          (x, y) = (features.gatheringRows(rows), rows.map { labels[$0] })
        } else {
          (x, y) = (features.slicingRows(range), Array(labels[range]))
        }

        if let setup = options.augmentation, !fullBatch, setup.augmentation.distorts(epoch: epoch, of: options.epochs) {
          var distorted = x
          setup.augmentation.apply(
            to: &distorted, height: setup.height, width: setup.width, background: setup.background, using: &generator)
          x = distorted
        }

        model.zeroGradients()
        var batchLoss = 0.0
        var batchCorrect = 0
        if fullBatch, let groups = parallelGroups {
          // Data parallel: each replica takes a contiguous share of the chunks, and the
          // gradients are summed in replica order, so the result is the same on every run.
          // Every other step walks the chunks backwards: the chunks a step read last are still
          // in the shared L3 cache, so the next step starts with them instead of re-reading
          // them from memory. (A full batch of 41,000 images is 128 MB; the L3 here holds 32.)
          let replicas = groups.map { _ in Replica(model) }
          Workers.concurrentPerform(iterations: groups.count) { worker in
            replicas[worker].train(
              fullBatchChunks[groups[worker]], backwards: epoch % 2 == 1, batchSize: y.count,
              labelSmoothing: options.labelSmoothing)
          }
          for replica in replicas {
            model.addGradients(from: replica.model)
            batchLoss += replica.loss
            batchCorrect += replica.correct
          }
        } else {
          let chunks = fullBatch
            ? fullBatchChunks
            : stride(from: 0, to: y.count, by: options.accumulationRows).map { first in
              let chunk = first..<min(y.count, first + options.accumulationRows)
              return chunk.count == y.count ? (x, y) : (x.slicingRows(chunk), Array(y[chunk]))
            }
          for (xc, yc) in chunks {
            let logits = model.forward(xc, training: true)
            let (loss, gradient) = SoftmaxCrossEntropy.lossAndGradient(
              logits: logits, labels: yc, batchSize: y.count, labelSmoothing: options.labelSmoothing)
            model.backward(gradient)
            batchLoss += loss
            batchCorrect += countCorrect(logits: logits, labels: yc)
          }
        }
        optimizer.step(&model, learningRate: learningRate)

        let loss = Float(batchLoss)
        lossSum += batchLoss * Double(y.count)
        correct += batchCorrect
        seen += y.count
        onBatch(
          BatchProgress(
            epoch: epoch + 1, epochs: options.epochs, batch: batch + 1, batches: batches, loss: loss,
            accuracy: Float(batchCorrect) / Float(y.count),
            samplesPerSecond: Double(seen) / max(seconds(start.duration(to: clock.now)), 1e-9)))
      }

      var record = EpochRecord(
        epoch: epoch + 1, trainLoss: Float(lossSum / Double(seen)), trainAccuracy: Float(correct) / Float(seen),
        validationLoss: nil, validationAccuracy: nil, seconds: 0, learningRate: learningRate)
      if let validation {
        let (loss, accuracy) = evaluate(&model, features: validation.features, labels: validation.labels)
        record.validationLoss = loss
        record.validationAccuracy = accuracy
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
    _ model: inout Sequential, optimizer: inout any Optimizer, optimizerSpec: OptimizerSpec,
    features: Tensor, labels: [UInt8], validation: (features: Tensor, labels: [UInt8])?,
    options: TrainingOptions, using generator: inout SeededGenerator,
    onBatch: (BatchProgress) -> Void = { _ in }
  ) -> [EpochRecord] {
    fit(
      &model, optimizer: &optimizer, optimizerSpec: optimizerSpec, features: features, labels: labels,
      validation: validation, options: options, using: &generator, onBatch: onBatch, onEpoch: { _ in })
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
      correct += countCorrect(logits: logits, labels: y)
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

  /// Rows per chunk in data-parallel full-batch training: 1.1 MB of 784 pixels a row, about a
  /// core's L2 cache, so the backward GEMM reads the chunk the forward one just brought in, and
  /// enough rows to spread each chunk's fixed costs (allocations, a dozen kernel calls, the
  /// transposes of a thin `gemm`). 500 iterations of 784-10-10 on 41,000 rows (digits-bench
  /// seed, 2 cores of an AMD EPYC with 1 MB of L2 each): 4.9 s with 240-row chunks, 4.5-4.7 s
  /// with 360, 4.7-4.8 s with 480, 4.7-4.9 s with 600.
  static let dataParallelChunkRows = 360

  static func countCorrect(logits: Tensor, labels: [UInt8]) -> Int {
    countArgmaxMatches(logits, labels: labels)
  }

  private static func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
  }
}

/// One worker's copy of the model in data-parallel full-batch training. Each worker touches only
/// its own replica, so no two threads share mutable state.
private final class Replica: @unchecked Sendable {
  var model: Sequential
  var loss = 0.0
  var correct = 0

  init(_ model: Sequential) {
    self.model = model
    self.model.zeroGradients()
  }

  /// Forward and backward over `chunks`, first to last or (`backwards`) last to first.
  func train(_ chunks: ArraySlice<(x: Tensor, y: [UInt8])>, backwards: Bool, batchSize: Int, labelSmoothing: Float) {
    for step in 0..<chunks.count {
      let (x, y) = chunks[backwards ? chunks.endIndex - 1 - step : chunks.startIndex + step]
      let logits = model.forward(x, training: true)
      let (chunkLoss, gradient) = SoftmaxCrossEntropy.lossAndGradient(
        logits: logits, labels: y, batchSize: batchSize, labelSmoothing: labelSmoothing)
      model.backward(gradient)
      loss += chunkLoss
      correct += Trainer.countCorrect(logits: logits, labels: y)
    }
  }
}
