// MARK: - What training is told, and what it reports

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
  /// An exponential moving average of the weights, updated after every step with this decay
  /// (An et al. 2020 use 0.999): the average is what each epoch's validation measures and what
  /// training leaves in the model, instead of the last step's weights. `nil`: none. Set after
  /// `init`.
  public var weightAverageDecay: Float?

  /// `accumulationRows` unless a caller says otherwise: what the pipeline's training uses.
  public static let defaultAccumulationRows = 2048

  public init(epochs: Int, batchSize: Int?, shuffle: Bool = true, accumulationRows: Int = defaultAccumulationRows) {
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
