/// Everything one run report shows, as plain values the pipeline fills in. Nothing here knows
/// about stages, tensors or files: the report can be rendered from made-up numbers, and the
/// pipeline can change without touching the rendering.
public struct ReportDocument: Sendable {
  public var title: String
  public var run: Run
  /// One entry per epoch, in order; empty when the model was not trained in this run.
  public var history: [Epoch]
  public var metrics: Metrics
  /// The validation digits the model got wrong with the most confidence, most confident first.
  public var mistakes: [Mistake]
  public var distribution: Distribution

  public init(
    title: String = "Digit Recognizer run report", run: Run, history: [Epoch], metrics: Metrics,
    mistakes: [Mistake], distribution: Distribution
  ) {
    self.title = title
    self.run = run
    self.history = history
    self.metrics = metrics
    self.mistakes = mistakes
    self.distribution = distribution
  }

  /// How the run was made: enough to reproduce it.
  public struct Run: Sendable {
    /// The pipeline file as the user named it, e.g. `pipelines/mlp.yaml`.
    public var pipelineFile: String
    public var seed: UInt64
    /// In the order they ran.
    public var stages: [Stage]
    /// What the (first) model was trained on, one fact a line (CPU, BLAS kernels, threads,
    /// versions); nil when its cache entry did not record it, or the model came from a file.
    public var machine: [String]?
    /// The model evaluate and predict used (the first, for an ensemble); nil when not known.
    public var model: Model?
    /// The stages that supplied the models whose probabilities were averaged, in order.
    public var members: [String]
    /// Each stage's parameters as it ran, in stage order; stages without any are left out.
    public var parameters: [StageParameters]

    public init(
      pipelineFile: String, seed: UInt64, stages: [Stage], machine: [String]? = nil, model: Model? = nil,
      members: [String] = [], parameters: [StageParameters] = []
    ) {
      self.pipelineFile = pipelineFile
      self.seed = seed
      self.stages = stages
      self.machine = machine
      self.model = model
      self.members = members
      self.parameters = parameters
    }
  }

  /// The network the run used, as its model file describes it.
  public struct Model: Sendable {
    public enum Origin: Sendable, Equatable {
      /// Trained by this pipeline's train stage(s), in this run or an earlier one with the same settings.
      case trained
      /// A file from outside the pipeline (`--model`): the path as the user named it, its SHA-256
      /// (hex) and its size in bytes.
      case file(path: String, sha256: String, bytes: Int)
    }

    public var origin: Origin
    /// Input, layers and output in one line, e.g. `784 → dense 128 → relu → dense 10`.
    public var outline: String
    /// The model section as a pipeline file writes it, e.g. `{init: he, layers: [{dense: 128}, relu, {dense: 10}]}`.
    public var spec: String
    /// Trainable scalars.
    public var parameterCount: Int
    /// `feature = pixel × scale + offset`, as the model was trained on; nil when the file does not record it.
    public var normalisation: (scale: Double, offset: Double)?

    public init(origin: Origin, outline: String, spec: String, parameterCount: Int, normalisation: (scale: Double, offset: Double)?) {
      self.origin = origin
      self.outline = outline
      self.spec = spec
      self.parameterCount = parameterCount
      self.normalisation = normalisation
    }
  }

  /// One stage's parameters as flat `path → value` rows (`optimizer.learning_rate → 0.001`,
  /// lists in YAML flow style), in the order shown.
  public struct StageParameters: Sendable {
    public var stage: String
    public var rows: [Parameter]

    public init(stage: String, rows: [Parameter]) {
      self.stage = stage
      self.rows = rows
    }
  }

  public struct Parameter: Sendable, Equatable {
    public var path: String
    public var value: String

    public init(path: String, value: String) {
      self.path = path
      self.value = value
    }
  }

  public struct Stage: Sendable {
    public var name: String
    /// The full fingerprint (hex); the report shows its first 12 characters.
    public var fingerprint: String
    /// Wall-clock time of this run: near zero for a cache hit.
    public var seconds: Double
    public var fromCache: Bool

    public init(name: String, fingerprint: String, seconds: Double, fromCache: Bool) {
      self.name = name
      self.fingerprint = fingerprint
      self.seconds = seconds
      self.fromCache = fromCache
    }
  }

  public struct Epoch: Sendable {
    /// Counted from 1, as the trainer does.
    public var epoch: Int
    public var trainLoss: Double
    /// A fraction, 0...1.
    public var trainAccuracy: Double
    /// Absent when training ran without a validation set.
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    public var seconds: Double?
    public var learningRate: Double?

    public init(
      epoch: Int, trainLoss: Double, trainAccuracy: Double, validationLoss: Double? = nil,
      validationAccuracy: Double? = nil, seconds: Double? = nil, learningRate: Double? = nil
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

  /// Scores on the validation set.
  public struct Metrics: Sendable {
    /// A fraction, 0...1.
    public var accuracy: Double
    /// Mean cross-entropy.
    public var loss: Double
    /// One per class, in label order.
    public var perClass: [ClassMetrics]
    /// `confusion[trueLabel][predictedLabel]`.
    public var confusion: [[Int]]
    /// What the figures are measured on, as the page names it: "Validation" (held-out rows) or
    /// "Out-of-fold" (every labelled row, each predicted by the model that never saw it).
    public var measure: String

    public init(accuracy: Double, loss: Double, perClass: [ClassMetrics], confusion: [[Int]], measure: String = "Validation") {
      self.accuracy = accuracy
      self.loss = loss
      self.perClass = perClass
      self.confusion = confusion
      self.measure = measure
    }

    /// Metrics whose accuracy and per-class scores are derived from the confusion matrix, for
    /// callers that have only the matrix and the loss.
    public init(loss: Double, confusion: [[Int]]) {
      let total = confusion.joined().reduce(0, +)
      let correct = confusion.indices.reduce(0) { $0 + confusion[$1][$1] }
      self.init(
        accuracy: total > 0 ? Double(correct) / Double(total) : 0, loss: loss,
        perClass: ClassMetrics.fromConfusion(confusion), confusion: confusion)
    }

    /// Number of examples scored: the sum of the confusion matrix.
    public var rows: Int { confusion.joined().reduce(0, +) }
  }

  public struct ClassMetrics: Sendable, Equatable {
    public var label: Int
    /// Of the examples predicted as `label`, the share that are: TP / (TP + FP).
    public var precision: Double
    /// Of the examples that are `label`, the share predicted so: TP / (TP + FN).
    public var recall: Double
    /// Harmonic mean of precision and recall: 2PR / (P + R).
    public var f1: Double
    /// Examples whose true label is `label`.
    public var support: Int

    public init(label: Int, precision: Double, recall: Double, f1: Double, support: Int) {
      self.label = label
      self.precision = precision
      self.recall = recall
      self.f1 = f1
      self.support = support
    }

    /// Precision, recall, F1 and support per class from `confusion[true][predicted]`; a ratio
    /// with nothing to divide by is 0, as scikit-learn reports it.
    public static func fromConfusion(_ confusion: [[Int]]) -> [ClassMetrics] {
      confusion.indices.map { label in
        let truePositives = Double(confusion[label][label])
        let support = confusion[label].reduce(0, +)
        let predicted = confusion.reduce(0) { $0 + $1[label] }
        let precision = predicted > 0 ? truePositives / Double(predicted) : 0
        let recall = support > 0 ? truePositives / Double(support) : 0
        let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
        return ClassMetrics(label: label, precision: precision, recall: recall, f1: f1, support: support)
      }
    }
  }

  /// A validation digit the model got wrong.
  public struct Mistake: Sendable {
    /// 28×28, row by row, 0 = background, 255 = full ink (the Kaggle CSV's convention).
    public var pixels: [UInt8]
    public var trueLabel: Int
    public var predictedLabel: Int
    /// The probability the model gave `predictedLabel`.
    public var probability: Double
    /// Its row in the validation set, to find it again; optional.
    public var index: Int?

    public init(pixels: [UInt8], trueLabel: Int, predictedLabel: Int, probability: Double, index: Int? = nil) {
      self.pixels = pixels
      self.trueLabel = trueLabel
      self.predictedLabel = predictedLabel
      self.probability = probability
      self.index = index
    }
  }

  /// How often each digit occurs, as counts per label 0-9.
  public struct Distribution: Sendable {
    public var training: [Int]
    /// Predicted labels in the submission; empty when there was no prediction stage.
    public var submission: [Int]

    public init(training: [Int], submission: [Int]) {
      self.training = training
      self.submission = submission
    }
  }
}
