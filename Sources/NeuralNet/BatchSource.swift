import Tensor

// MARK: - The batches an epoch trains on

/// A batch's rows (or a chunk of them) as the network reads them, floats, and their labels.
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
/// batches larger than `accumulationRows` run in chunks of that many rows. Rows are cut and
/// gathered in the features' own form (`TrainingRows`): the full batch becomes floats a chunk at
/// a time, a mini-batch as a whole before it is distorted and cut.
struct BatchSource<Features: TrainingRows> {
  /// A chunk of the full batch, kept in the features' own form.
  typealias StoredChunk = (x: Features, y: [UInt8])

  let features: Features
  let labels: [UInt8]
  let options: TrainingOptions
  let batchSize: Int
  let batches: Int
  let fullBatch: Bool
  /// The full batch's chunks, cut once rather than on each of hundreds of iterations.
  let fullBatchChunks: [StoredChunk]
  /// With data-parallel full-batch training, each worker's share of the chunks.
  let replicaShares: [Range<Int>]?

  var labelSmoothing: Float { options.labelSmoothing }

  init(features: Features, labels: [UInt8], options: TrainingOptions, model: Sequential) {
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

  /// Mini-batch `batch` of the epoch, as floats, in chunks. (The full batch is `fullBatchChunks`.)
  func chunks(ofMiniBatch batch: Int, epoch: Int, order: [Int]?, using generator: inout SeededGenerator) -> [Chunk] {
    precondition(!fullBatch, "the full batch is cut once, into fullBatchChunks")
    let range = (batch * batchSize)..<min(features.rows, (batch + 1) * batchSize)
    var (x, y): Chunk
    if let order {
      let rows = order[range]
      (x, y) = (features.gatheringRows(rows).floats(), rows.map { labels[$0] })
    } else {
      (x, y) = (features.slicingRows(range).floats(), Array(labels[range]))
    }
    if let setup = options.augmentation, setup.augmentation.distorts(epoch: epoch, of: options.epochs) {
      setup.augmentation.apply(to: &x, height: setup.height, width: setup.width, background: setup.background, using: &generator)
    }
    return Self.cut(x, y, rows: options.accumulationRows)
  }

  /// A stored chunk as the network reads it.
  static func floats(_ chunk: StoredChunk) -> Chunk { (chunk.x.floats(), chunk.y) }

  /// `x` and `y` in chunks of at most `rows` rows (the whole, uncopied, when it fits in one).
  private static func cut<Rows: TrainingRows>(_ x: Rows, _ y: [UInt8], rows: Int) -> [(x: Rows, y: [UInt8])] {
    stride(from: 0, to: y.count, by: rows).map { first in
      let chunk = first..<min(y.count, first + rows)
      return chunk.count == y.count ? (x, y) : (x.slicingRows(chunk), Array(y[chunk]))
    }
  }
}

/// Rows per chunk in data-parallel full-batch training: 1.1 MB of 784 pixels a row, about a
/// core's L2 cache, so the backward GEMM reads the chunk the forward one just brought in, and
/// enough rows to spread each chunk's fixed costs (allocations, a dozen kernel calls, the
/// transposes of a thin `gemm`); chosen by timing `digits-bench seed` (README, "Where the
/// time goes").
let dataParallelChunkRows = 360
