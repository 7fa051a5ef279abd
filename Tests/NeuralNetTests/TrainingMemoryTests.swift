import NeuralNet
import Tensor
import Testing

/// `ModelSpec.trainingMemory`: what one training step holds, counted from the spec alone.
@Suite struct TrainingMemoryTests {
  /// 784 → 10 → ReLU → 10: 7,960 parameters; per row the input, three outputs, and the largest
  /// pair of adjacent shapes (784 + 10) for the gradients in flight.
  @Test func seedNetwork_isCountedScalarByScalar() throws {
    let memory = try ModelSpec.seedNetwork.trainingMemory(
      inputSize: 784, batchRows: 100, trainingRows: 1000, optimizer: .sgd, workers: 1)
    let parameters: Double = 784 * 10 + 10 + 10 * 10 + 10
    #expect(memory.parameters == parameters * 4)
    #expect(memory.gradients == parameters * 4)
    #expect(memory.optimizerState == parameters * 4)  // plain SGD still keeps a velocity
    #expect(memory.activations == 100 * (784 + 10 + 10 + 10 + 794) * 4)
    #expect(memory.workspace == 100 * 784 * 4)  // the gathered mini-batch
    // A mini-batch gathered as bytes, then made floats.
    let fromBytes = try ModelSpec.seedNetwork.trainingMemory(
      inputSize: 784, batchRows: 100, trainingRows: 1000, optimizer: .sgd, rowsStoredAs: ByteMatrix.self, workers: 1)
    #expect(fromBytes.workspace == 100 * 784 * (1 + 4))
  }

  @Test func adam_keepsTwoMomentsPerParameter() throws {
    let spec = ModelSpec(layers: [.dense(units: 10)], initialization: .he)
    let adam = try spec.trainingMemory(inputSize: 784, batchRows: 64, trainingRows: 1000, optimizer: .adamw)
    #expect(adam.optimizerState == 2 * adam.gradients)
  }

  /// A full batch runs forward and backward in chunks: its activations are those of a chunk, but
  /// the chunks are a copy of every training row.
  @Test func fullBatch_keepsTheActivationsOfOneChunk_andCopiesTheRows() throws {
    let spec = ModelSpec.seedNetwork
    let chunk = try spec.trainingMemory(
      inputSize: 784, batchRows: TrainingOptions.defaultAccumulationRows, trainingRows: 41_000, optimizer: .sgd, workers: 1)
    let full = try spec.trainingMemory(inputSize: 784, batchRows: nil, trainingRows: 41_000, optimizer: .sgd, workers: 1)
    #expect(full.activations == chunk.activations)
    #expect(full.workspace == 41_000 * 784 * 4)
    // Rows stored as bytes (`ByteMatrix`) are cut into chunks as bytes.
    let bytes = try spec.trainingMemory(
      inputSize: 784, batchRows: nil, trainingRows: 41_000, optimizer: .sgd, rowsStoredAs: ByteMatrix.self, workers: 1)
    #expect(bytes.workspace == 41_000 * 784)
    // With two workers the replicas' gradients count too.
    let parallel = try spec.trainingMemory(inputSize: 784, batchRows: nil, trainingRows: 41_000, optimizer: .sgd, workers: 2)
    #expect(parallel.total >= full.total)
  }

  @Test func layersCountWhatTheyKeepForBackward() {
    #expect(MaxPool2D.Kind(size: 2).trainingFootprint(forInput: [4, 8, 8]) == LayerFootprint(keptPerRow: 2 * 4 * 4 * 4))
    #expect(Dropout.Kind(rate: 0.5).trainingFootprint(forInput: [100]) == LayerFootprint(keptPerRow: 200))
    #expect(ReLU.Kind().trainingFootprint(forInput: [3, 5]) == LayerFootprint(keptPerRow: 15))
    #expect(BatchNorm.Kind().trainingFootprint(forInput: [8, 4, 4]) == LayerFootprint(parameters: 16, buffers: 16, keptPerRow: 128))
    let conv = Conv2D.Kind(filters: 8, kernel: 3, padding: 1, stride: 1).trainingFootprint(forInput: [2, 6, 6])
    #expect(conv.parameters == 8 * 2 * 3 * 3 + 8)
    #expect(conv.keptPerRow == 8 * 6 * 6)
  }

  /// Sizes far beyond any machine are counted without overflowing.
  @Test func hugeModel_isCountedInTerabytes_withoutOverflow() throws {
    let spec = ModelSpec(layers: [.dense(units: 100_000_000), .relu, .dense(units: 10)], initialization: .he)
    let memory = try spec.trainingMemory(inputSize: 784, batchRows: 128, trainingRows: 37_800, optimizer: .adam)
    #expect(memory.parameters > 784 * 100_000_000 * 4)
    #expect(memory.total > 1e12)
  }

  @Test func format_usesMiBThenGiB() {
    #expect(TrainingMemory.format(bytes: 5 * 1_048_576) == "5.0 MiB")
    #expect(TrainingMemory.format(bytes: 377 * 1_048_576) == "377 MiB")
    #expect(TrainingMemory.format(bytes: 23.04 * 1_073_741_824) == "23.0 GiB")
    #expect(TrainingMemory.format(bytes: 2124 * 1_073_741_824) == "2124 GiB")
  }
}
