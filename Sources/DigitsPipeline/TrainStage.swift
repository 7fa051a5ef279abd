import DataIO
import Foundation
import NeuralNet
import Pipeline
import Tensor

/// Builds the network the pipeline file describes and trains it on the training rows,
/// measuring the validation rows after every epoch.
public struct TrainStage: Stage {
  /// The `train:` section of a pipeline file.
  public struct Settings: Codable, Sendable, Hashable {
    public var model: ModelSpec
    public var optimizer: OptimizerSpec
    public var epochs: Int
    public var batchSize: BatchSize
    public var schedule: LearningRateSchedule
    /// PyTorch's `label_smoothing`: the target puts ε/classes on every class; absent = 0.
    public var labelSmoothing: Float?
    /// Seeded distortions of the training images (shifts, rotation, zoom, elastic); absent = none.
    public var augmentation: Augmentation?
    /// An exponential moving average of the weights with this decay, evaluated and saved
    /// instead of the last step's weights (An et al. 2020: 0.999); absent = none.
    public var emaDecay: Float?

    enum CodingKeys: String, CodingKey {
      case model, optimizer, epochs, schedule, augmentation
      case batchSize = "batch_size"
      case labelSmoothing = "label_smoothing"
      case emaDecay = "ema_decay"
    }

    public init(
      model: ModelSpec, optimizer: OptimizerSpec, epochs: Int, batchSize: BatchSize,
      schedule: LearningRateSchedule = .constant, labelSmoothing: Float? = nil, augmentation: Augmentation? = nil
    ) {
      self.model = model
      self.optimizer = optimizer
      self.epochs = epochs
      self.batchSize = batchSize
      self.schedule = schedule
      self.labelSmoothing = labelSmoothing
      self.augmentation = augmentation
    }

    public init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      model = try container.decode(ModelSpec.self, forKey: .model)
      optimizer = try container.decode(OptimizerSpec.self, forKey: .optimizer)
      epochs = try container.decode(Int.self, forKey: .epochs)
      batchSize = try container.decode(BatchSize.self, forKey: .batchSize)
      schedule = try container.decodeIfPresent(LearningRateSchedule.self, forKey: .schedule) ?? .constant
      labelSmoothing = try container.decodeIfPresent(Float.self, forKey: .labelSmoothing)
      augmentation = try container.decodeIfPresent(Augmentation.self, forKey: .augmentation)
      emaDecay = try container.decodeIfPresent(Float.self, forKey: .emaDecay)
    }

    /// Throws a one-line `PipelineError` naming the first setting out of range, or a model that
    /// does not fit 28×28 digits and 10 classes.
    public func validate() throws {
      guard epochs >= 1 else { throw PipelineError("train.epochs must be at least 1 (got \(epochs))", at: "train.epochs") }
      guard optimizer.learningRate > 0 else {
        throw PipelineError("train.optimizer.learning_rate must be positive (got \(optimizer.learningRate))", at: "train.optimizer.learning_rate")
      }
      try optimizer.validate()
      if let smoothing = labelSmoothing {
        try check(smoothing, in: 0...1, "train.label_smoothing", "between 0 and 1")
      }
      if let emaDecay {
        // 0 would be the last step's weights, 1 the initial ones: neither is an average.
        guard emaDecay > 0, emaDecay < 1 else {
          throw PipelineError("train.ema_decay must be greater than 0 and less than 1 (got \(emaDecay))", at: "train.ema_decay")
        }
      }
      try augmentation?.validate()
      if let undistorted = augmentation?.undistortedLastEpochs,
        !(0..<epochs).contains(undistorted)
      {
        throw PipelineError(
          "train.augmentation.undistorted_last_epochs must be at least 0 and less than train.epochs "
            + "(\(epochs)), so that some epochs are distorted (got \(undistorted))", at: "train.augmentation.undistorted_last_epochs")
      }
      // A model that does not fit 28x28 digits (a dense layer on images without flatten, a kernel
      // larger than its input) is a pipeline-file error now, not a crash when training starts.
      do {
        let output = try model.outputShape(inputSize: DigitCSV.pixelCount)
        guard output == [DigitCSV.classCount] else {
          throw PipelineError("train.model: the last layer gives \(output), but there are \(DigitCSV.classCount) digit classes", at: "train.model")
        }
      } catch let error as NeuralNetError {
        throw PipelineError("train.model: \(error)", at: "train.model")
      }
    }
  }

  public struct Parameters: Codable, Sendable, Hashable {
    public var settings: Settings
    public var seed: UInt64
  }
  public typealias Output = TrainedModel

  /// 2: model.npz records the normalisation the network was trained on.
  /// 3: full-batch training sums its gradient over 480-row chunks in small-matrix GEMM blocks
  /// (was 512-row chunks), which changes the rounding of seed.yaml-like networks.
  /// 4: dense layers with at most 16 outputs multiply in the other orientation (`gemm`'s thin
  /// products), and full-batch chunks are 360 rows: both change the rounding.
  /// 5: data-parallel full-batch steps walk their chunks backwards every other step, which
  /// changes the order (and so the rounding) of the gradient sums.
  /// 6: 3×3 convolutions sum their weight gradients over chunks of images sized to a core's L2
  /// cache (`winogradImages`: two 28×28 images of 32 channels, four 14×14 of 64; eight before),
  /// which changes the rounding of convolution networks. (The change to Winograd's products
  /// itself, 3bfdd7f, changed it too and should have counted here.)
  public static let version = 6
  public let name: String
  public let parameters: Parameters
  let rows: LabelledRows.Inputs

  /// - Parameter split: the split stage whose training rows it learns from (a fold's, with
  ///   cross-validation).
  public init(name: String = StageName.train, settings: Settings, seed: UInt64, split: String = StageName.split) throws {
    self.name = name
    rows = LabelledRows.Inputs(split: split)
    try settings.validate()
    parameters = Parameters(settings: settings, seed: seed)
  }

  public func run(_ context: StageContext) throws {
    let data = try LabelledRows.load(context, from: rows)
    let settings = parameters.settings
    var generator = SeededGenerator(seed: parameters.seed)
    var model = Sequential(spec: settings.model, inputSize: data.train.features.columns, using: &generator)
    var optimizer = makeOptimizer(settings.optimizer, schedule: settings.schedule, for: model)
    context.log(
      "\(model.parameterCount) parameters; \(settings.optimizer.kind.rawValue) lr \(settings.optimizer.learningRate), "
        + "\(settings.epochs) epochs, batch \(settings.batchSize), \(settings.schedule.rawValue) schedule")

    var options = TrainingOptions(epochs: settings.epochs, batchSize: settings.batchSize.rowsPerBatch)
    options.labelSmoothing = settings.labelSmoothing ?? 0
    options.weightAverageDecay = settings.emaDecay
    if let decay = settings.emaDecay {
      // Without a warm-up, the average keeps decay^steps of the random initial weights.
      let rows = data.train.labels.count
      let stepsPerEpoch: Int = settings.batchSize.rowsPerBatch.map { batch in (rows + batch - 1) / batch } ?? 1
      let steps = settings.epochs * stepsPerEpoch
      let initial = pow(Double(decay), Double(steps))
      if initial > 0.01 {
        context.log(String(
          format: "warning: after %d steps the average of the weights still holds %.0f%% of the initial ones; "
            + "a smaller train.ema_decay (or more steps) averages the trained weights", steps, initial * 100))
      }
    }
    if let augmentation = settings.augmentation, !augmentation.isIdentity {
      let side = try NormaliseStage.imageSide(pixels: data.train.features.columns, for: "train.augmentation")
      options.augmentation = AugmentationSetup(
        augmentation: augmentation, height: side, width: side, background: data.normalisation.offset)
    }

    var lastProgress = Date.distantPast
    let history = try Trainer.fit(
      &model, optimizer: &optimizer,
      features: data.train.features, labels: data.train.labels,
      validation: (data.validation.features, data.validation.labels),
      options: options,
      using: &generator,
      onBatch: { progress in
        // A terminal redraw ten times a second is plenty; more would cost time on full-batch runs.
        guard Date().timeIntervalSince(lastProgress) > 0.1 || progress.batch == progress.batches else { return }
        lastProgress = Date()
        context.progress(String(
          format: "epoch %d/%d  batch %d/%d  loss %.4f  acc %.2f%%  %.0f samples/s",
          progress.epoch, progress.epochs, progress.batch, progress.batches,
          progress.loss, progress.accuracy * 100, progress.samplesPerSecond))
      },
      onEpoch: { record in
        guard record.trainLoss.isFinite else {
          throw PipelineError(
            "train: the loss became \(record.trainLoss) in epoch \(record.epoch); try a lower learning rate")
        }
        // Full-batch runs have hundreds of tiny epochs: log a sample of them.
        let every = max(1, settings.epochs / 20)
        guard record.epoch % every == 0 || record.epoch == settings.epochs || record.epoch == 1 else { return }
        context.log(String(
          format: "epoch %3d/%d  loss %.4f  acc %.2f%%  val loss %.4f  val acc %.2f%%  (%.1fs)",
          record.epoch, settings.epochs, record.trainLoss, record.trainAccuracy * 100,
          record.validationLoss ?? .nan, (record.validationAccuracy ?? .nan) * 100, record.seconds))
      })

    let output = context.output(TrainedModel.self)
    try ModelFile(network: model, normalisation: data.normalisation).write(to: output.model)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(history).write(to: output.history)
  }
}
