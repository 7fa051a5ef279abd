import Foundation
import Pipeline

// The files each stage writes, named once here; readers use the typed accessors.

public struct UnpackedFiles: ArtifactSet {
  public static let fileNames = ["train.csv", "test.csv"]
  public let directory: URL
  public init(directory: URL) { self.directory = directory }
  public var trainCSV: URL { directory.appending(path: "train.csv") }
  public var testCSV: URL { directory.appending(path: "test.csv") }
}

public struct ParsedArrays: ArtifactSet {
  public static let fileNames = ["train_pixels.npy", "train_labels.npy", "test_pixels.npy"]
  public let directory: URL
  public init(directory: URL) { self.directory = directory }
  /// uint8 (N, 784)
  public var trainPixels: URL { directory.appending(path: "train_pixels.npy") }
  /// uint8 (N,)
  public var trainLabels: URL { directory.appending(path: "train_labels.npy") }
  /// uint8 (M, 784)
  public var testPixels: URL { directory.appending(path: "test_pixels.npy") }
}

public struct SplitIndices: ArtifactSet {
  public static let fileNames = ["train_indices.npy", "validation_indices.npy"]
  public let directory: URL
  public init(directory: URL) { self.directory = directory }
  /// int64 (N_train,), rows of train.csv (0-based, header excluded), ascending
  public var trainIndices: URL { directory.appending(path: "train_indices.npy") }
  /// int64 (N_validation,)
  public var validationIndices: URL { directory.appending(path: "validation_indices.npy") }
}

public struct NormalisedFeatures: ArtifactSet {
  public static let fileNames = ["train_features.npy", "test_features.npy", "normalisation.json"]
  public let directory: URL
  public init(directory: URL) { self.directory = directory }
  /// float32 (N, 784)
  public var trainFeatures: URL { directory.appending(path: "train_features.npy") }
  /// float32 (M, 784)
  public var testFeatures: URL { directory.appending(path: "test_features.npy") }
  /// The affine map applied, `feature = pixel * scale + offset`.
  public var normalisation: URL { directory.appending(path: "normalisation.json") }
}

public struct TrainedModel: ArtifactSet {
  public static let fileNames = ["model.npz", "history.json"]
  public let directory: URL
  public init(directory: URL) { self.directory = directory }
  /// Named float32 weight arrays plus the architecture as JSON (see ``ModelFile``).
  public var model: URL { directory.appending(path: "model.npz") }
  /// One record per epoch: losses, accuracies, learning rate, seconds.
  public var history: URL { directory.appending(path: "history.json") }
}

public struct Evaluation: ArtifactSet {
  public static let metricsFileName = "metrics.json"
  public static let fileNames = [metricsFileName, "confusion.npy", "validation_probabilities.npy", "validation_rows.npy"]
  public let directory: URL
  public init(directory: URL) { self.directory = directory }
  public var metrics: URL { directory.appending(path: Self.metricsFileName) }
  /// int64 (10, 10): row = true label, column = predicted label.
  public var confusion: URL { directory.appending(path: "confusion.npy") }
  /// float32 (N_validation, 10), rows in the order of `validationRows`.
  public var validationProbabilities: URL { directory.appending(path: "validation_probabilities.npy") }
  /// int64 (N_validation,): the row of train.csv each row of the probabilities is, in their order
  /// (a split's validation rows; with cross-validation, every fold's in turn).
  public var validationRows: URL { directory.appending(path: "validation_rows.npy") }
}

public struct RunReport: ArtifactSet {
  public static let fileNames = ["index.html"]
  public let directory: URL
  public init(directory: URL) { self.directory = directory }
  /// One self-contained HTML page: inline SVG plots, digits as PNG data URIs, no network.
  public var page: URL { directory.appending(path: "index.html") }
}

public struct Predictions: ArtifactSet {
  public static let submissionFileName = "submission.csv"
  public static let fileNames = ["probabilities.npy", submissionFileName]
  public let directory: URL
  public init(directory: URL) { self.directory = directory }
  /// float32 (M, 10): softmax output for each test row.
  public var probabilities: URL { directory.appending(path: "probabilities.npy") }
  /// Kaggle's format: `ImageId,Label`, ImageId counting from 1.
  public var submission: URL { directory.appending(path: Self.submissionFileName) }
}
