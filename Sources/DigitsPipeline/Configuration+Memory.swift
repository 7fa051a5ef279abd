import DataIO
import NeuralNet
import Pipeline
import Tensor

// MARK: - A model that cannot fit this machine's memory is refused before anything runs

extension DigitsConfiguration {
  /// The competition's labelled rows (train.csv).
  static let labelledRows = 42_000

  /// The rows the train stage learns from: the labelled rows less those the split holds out.
  var trainingRows: Int {
    let heldOut = split.validationRows ?? Int((Double(Self.labelledRows) * (split.validationFraction ?? 0)).rounded())
    return max(1, Self.labelledRows - heldOut)
  }

  /// What the train stage holds besides the network: the labelled pixels, a byte each, up to
  /// three times over while it loads them (the `.npy` file's bytes, the pixels, and the split's
  /// training rows gathered from them), and the validation rows as float32 (at most every row).
  static var dataBytes: Double { Double(labelledRows) * Double(DigitCSV.pixelCount) * (3 + 4) }

  /// Throws, at `train.model`, when one training step of the model (`TrainingMemory`) and the
  /// data would need more memory than `available`.
  func checkMemory(available: SystemMemory) throws {
    let memory = try train.model.trainingMemory(
      inputSize: DigitCSV.pixelCount, batchRows: train.batchSize.rowsPerBatch, trainingRows: trainingRows,
      optimizer: train.optimizer.kind, rowsStoredAs: LabelledRows.TrainingFeatures.self)
    let needed = memory.total + Self.dataBytes
    guard needed > available.bytes else { return }
    let format = TrainingMemory.format(bytes:)
    let batch = train.batchSize.rowsPerBatch.map { "a batch of \(min($0, trainingRows)) rows" } ?? "the full batch of \(trainingRows) rows"
    throw PipelineError(
      "train.model: training it needs about \(format(needed)) for \(batch) (parameters \(format(memory.parameters)), "
        + "gradients \(format(memory.gradients)), \(train.optimizer.kind.rawValue) state \(format(memory.optimizerState)), "
        + "activations \(format(memory.activations)), batch copies and workspace \(format(memory.workspace)), "
        + "data \(format(Self.dataBytes))), but this machine has \(format(available.bytes)) (\(available.source))",
      at: "train.model")
  }
}
