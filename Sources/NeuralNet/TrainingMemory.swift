import Tensor

// MARK: - What training a model holds in memory, from its spec alone

/// What one layer holds while training, in scalars (float32), as its kind estimates it from the
/// input shape without building anything (`LayerKind.trainingFootprint(forInput:)`).
public struct LayerFootprint: Sendable, Equatable {
  /// Trainable scalars; each also has a gradient and the optimizer's state.
  public var parameters: Double = 0
  /// Saved state no optimizer updates (batch norm's running statistics).
  public var buffers: Double = 0
  /// Scalars per row kept from the forward pass until the backward pass has used them: the
  /// layer's output (the next layer keeps it as its input, or the layer itself does) and any mask
  /// or index it saves.
  public var keptPerRow: Double = 0
  /// Scalars of buffers the layer's passes allocate for a step whatever the rows (a
  /// convolution's per-run partial gradients and patch matrices); freed before the next layer.
  public var workspace: Double = 0

  public init(parameters: Double = 0, buffers: Double = 0, keptPerRow: Double = 0, workspace: Double = 0) {
    (self.parameters, self.buffers, self.keptPerRow, self.workspace) = (parameters, buffers, keptPerRow, workspace)
  }
}

extension LayerKind {
  /// No parameters; the output kept for backward.
  public func trainingFootprint(forInput shape: [Int]) -> LayerFootprint {
    LayerFootprint(keptPerRow: Double(scalarCount((try? outputShape(forInput: shape)) ?? []) ?? 0))
  }
}

/// An estimate of the memory one training step takes, in bytes, computed from a model's spec
/// alone, so that a model too large for the machine is refused before any of it is allocated:
///
///     parameters + buffers + gradients · copies + optimizer state
///       + rows at once · 4 B · (input + Σ kept per row + max over layers of (input + output))
///       + the batch's copies of its input rows + the largest layer's workspace
///
/// It follows what the code allocates: `Trainer` runs a batch through forward and backward in
/// chunks of at most `TrainingOptions.defaultAccumulationRows` rows (so a full batch of 41,000
/// rows keeps the activations of 2,048 at a time, not of all of them), the full batch is cut
/// into chunks once (a copy of the training rows as they are stored: floats, or bytes that
/// become floats a chunk at a time), data-parallel full-batch training gives every
/// worker its own gradients and chunks of 360 rows (the larger of the two ways is counted, as
/// which one a model takes depends on its layers), and `GradientDescent` keeps one state tensor per parameter for SGD
/// and momentum (the velocity, zero for plain SGD) and two for Adam and AdamW. The backward pass
/// adds `dy` and `dx` of one layer at a time to the activations still kept.
///
/// An estimate, right within a factor of about 2: it counts a reshape (`flatten`) and a ReLU
/// fused into the convolution or dense layer before it as new tensors though they share storage; it does not count the
/// allocator's slack, Swift's array headers, the transposed weight a thin dense layer keeps
/// (`in · out` for 16 outputs or fewer), nor the Winograd transforms' buffers, which are of
/// the order of the patch matrices counted instead.
public struct TrainingMemory: Sendable, Equatable {
  public var parameters: Double
  public var gradients: Double
  public var optimizerState: Double
  /// Kept for backward, gradients in flight and the input rows, for the rows run at once.
  public var activations: Double
  /// The batch's own copy of its rows, and the largest layer's transient buffers.
  public var workspace: Double

  public var total: Double { parameters + gradients + optimizerState + activations + workspace }

  /// "1.5 GiB", "12 MiB": for messages.
  public static func format(bytes: Double) -> String {
    let mib = bytes / 1_048_576
    if mib >= 1024 { return mib / 1024 >= 100 ? "\(Int((mib / 1024).rounded())) GiB" : "\((mib / 1024 * 10).rounded() / 10) GiB" }
    return mib >= 10 ? "\(Int(mib.rounded())) MiB" : "\((mib * 10).rounded() / 10) MiB"
  }
}

extension ModelSpec {
  /// What a training step of this model takes (see `TrainingMemory`), for batches of
  /// `batchRows` rows (nil: the full batch) out of `trainingRows` rows of `inputSize` scalars,
  /// stored as `rowsStoredAs` (a `Tensor`'s floats, or a `ByteMatrix`'s bytes), with `workers`
  /// threads. Throws what `outputShape(inputSize:)` throws.
  public func trainingMemory(
    inputSize: Int, batchRows: Int?, trainingRows: Int, optimizer: OptimizerSpec.Kind,
    rowsStoredAs: any TrainingRows.Type = Tensor.self, workers: Int = Workers.count
  ) throws -> TrainingMemory {
    let shapes = try layerInputShapes(inputSize: inputSize)
    let footprints = zip(layers, shapes).map { layer, shape in layer.kind.trainingFootprint(forInput: shape) }
    let scalars = shapes.map { Double(scalarCount($0) ?? 0) }
    let batch = Double(min(batchRows ?? trainingRows, trainingRows))
    let fullBatch = batch >= Double(trainingRows)
    let rowsAtOnce = min(batch, Double(TrainingOptions.defaultAccumulationRows))

    let parameterScalars = footprints.reduce(0) { $0 + $1.parameters }
    let bufferScalars = footprints.reduce(0) { $0 + $1.buffers }
    let states: Double =
      switch optimizer {
      case .sgd, .momentum: 1
      case .adam, .adamw: 2
      }
    let kept = Double(inputSize) + footprints.reduce(0) { $0 + $1.keptPerRow }
    let inFlight = zip(scalars, scalars.dropFirst()).map { $0 + $1 }.max() ?? 0
    let bytes: Double = 4
    // A mini-batch is gathered from the shuffled rows as they are stored, made floats unless it
    // is floats already, and copied again into chunks when larger than a chunk; the full batch
    // is cut into chunks once, a copy of every training row as it is stored.
    let stored = Double(rowsStoredAs.bytesPerFeature)
    let miniBatchCopy = batch * (stored + (rowsStoredAs.floatsAreACopy ? bytes : 0) + (batch > rowsAtOnce ? bytes : 0))
    let batchCopyBytes = (fullBatch ? Double(trainingRows) * stored : miniBatchCopy) * Double(inputSize)
    func step(rowsAtOnce: Double, gradientCopies: Double) -> TrainingMemory {
      TrainingMemory(
        parameters: (parameterScalars + bufferScalars) * bytes,
        gradients: parameterScalars * gradientCopies * bytes,
        optimizerState: parameterScalars * states * bytes,
        activations: rowsAtOnce * (kept + inFlight) * bytes,
        workspace: batchCopyBytes + (footprints.map(\.workspace).max() ?? 0) * bytes)
    }
    let oneAtATime = step(rowsAtOnce: rowsAtOnce, gradientCopies: 1)
    // A full batch over a model whose rows are independent runs data-parallel: every worker's
    // replica has its own gradients and runs chunks of `dataParallelChunkRows`. Which way a model
    // runs depends on its layers, so the larger of the two is the estimate.
    guard fullBatch && workers > 1 else { return oneAtATime }
    let parallel = step(
      rowsAtOnce: Double(workers) * min(rowsAtOnce, Double(dataParallelChunkRows)), gradientCopies: Double(1 + workers))
    return parallel.total > oneAtATime.total ? parallel : oneAtATime
  }
}
