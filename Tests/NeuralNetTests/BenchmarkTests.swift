import Foundation
import Testing
import NeuralNet
import Tensor

/// Hand-run timings, off by default. Run in release:
///
///     DIGITS_BENCH=1 swift test -c release --scratch-path .build --filter BenchmarkTests
///     DIGITS_BENCH=1 DIGITS_TRAIN_CSV=/path/train.csv swift test -c release ...   # + real-data accuracy
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["DIGITS_BENCH"] != nil))
struct BenchmarkTests {
  static let environment = ProcessInfo.processInfo.environment

  /// 784-800-10, Adam, batch 128, one epoch over 37,800 MNIST-like random rows, 2 BLAS threads.
  @Test func mlpEpoch_adamBatch128() {
    BLAS.setThreadCount(2)
    var rng = SeededGenerator(seed: 0)
    let n = 37_800
    let x = Tensor(
      shape: [n, 784],
      scalars: (0..<(n * 784)).map { _ in rng.nextUnitFloat() < 0.8 ? 0 : rng.nextUnitFloat() })
    let y = (0..<n).map { _ in UInt8(rng.nextIndex(below: 10)) }
    var model = Sequential(
      spec: ModelSpec(layers: [.dense(units: 800), .relu, .dense(units: 10)], initialization: .he),
      inputSize: 784, using: &rng)
    let spec = OptimizerSpec(kind: .adam, learningRate: 1e-3)
    var optimizer = makeOptimizer(spec, for: model)
    let history = Trainer.fit(
      &model, optimizer: &optimizer, optimizerSpec: spec, features: x, labels: y, validation: nil,
      options: TrainingOptions(epochs: 3, batchSize: 128), using: &rng)
    for record in history {
      print("bench mlp 784-800-10 adam b128: epoch \(record.epoch) \(String(format: "%.3f", record.seconds)) s")
    }
  }

  /// The reference CNN, 32c3-32c3-pool-64c3-64c3-pool-256-10 with batch norm after every
  /// conv-ReLU and dropout 0.25/0.25/0.5 (shared/bench/torch_reference.py's `cnn`), Adam, batch 128, one epoch over
  /// 37,800 random MNIST-like rows on 2 BLAS threads. `DIGITS_CNN_EPOCHS` (default 1) for more
  /// epochs; `DIGITS_CNN_ROWS` for fewer rows.
  ///
  /// Compare side by side with PyTorch, in one go (the machine is shared; compare the ratio):
  /// on 2026-11-29, one epoch took 36.9 s here against 40.3 s for the same network and data
  /// size in PyTorch 2 threads (load average about 1.5); about 28 s is PyTorch's idle-machine figure.
  @Test func referenceCNNEpoch_adamBatch128() {
    BLAS.setThreadCount(2)
    var rng = SeededGenerator(seed: 0)
    let n = Int(Self.environment["DIGITS_CNN_ROWS"] ?? "") ?? 37_800
    let x = Tensor(
      shape: [n, 784],
      scalars: (0..<(n * 784)).map { _ in rng.nextUnitFloat() < 0.8 ? 0 : rng.nextUnitFloat() })
    let y = (0..<n).map { _ in UInt8(rng.nextIndex(below: 10)) }
    var model = Sequential(spec: Self.referenceCNN, inputSize: 784, using: &rng)
    let spec = OptimizerSpec(kind: .adam, learningRate: 1e-3)
    var optimizer = makeOptimizer(spec, for: model)
    let history = Trainer.fit(
      &model, optimizer: &optimizer, optimizerSpec: spec, features: x, labels: y, validation: nil,
      options: TrainingOptions(epochs: Int(Self.environment["DIGITS_CNN_EPOCHS"] ?? "") ?? 1, batchSize: 128), using: &rng)
    for record in history {
      print("bench cnn 32c3-32c3-p-64c3-64c3-p-256-10 bn dropout adam b128, \(n) rows: epoch \(record.epoch) \(String(format: "%.3f", record.seconds)) s")
    }
  }

  /// The reference CNN on the real train.csv: 90% train, a seeded 10% validation, pixels / 255,
  /// Adam 1e-3 with a cosine schedule, batch 128, `DIGITS_CNN_EPOCHS` epochs (default 3).
  /// `DIGITS_CNN_INIT=he` for Kaiming init instead of PyTorch's default (`torch`). 2026-11-29,
  /// 3 epochs: `torch`-sized weights (biases zero in that run) 99.21% validation accuracy
  /// (PyTorch's own script: 99.14% on its own split), `he` 98.67%.
  @Test(.enabled(if: ProcessInfo.processInfo.environment["DIGITS_TRAIN_CSV"] != nil))
  func referenceCNN_onTrainCSV() throws {
    BLAS.setThreadCount(2)
    let text = try String(contentsOfFile: Self.environment["DIGITS_TRAIN_CSV"]!, encoding: .utf8)
    var pixels: [Float] = []
    var labels: [UInt8] = []
    for line in text.split(separator: "\n").dropFirst() {
      let fields = line.split(separator: ",")
      labels.append(UInt8(fields[0])!)
      pixels += fields.dropFirst().map { Float(Int($0)!) / 255 }
    }
    let all = Tensor(shape: [labels.count, 784], scalars: pixels)
    var rng = SeededGenerator(seed: 0)
    let order = rng.permutation(labels.count)
    let cut = labels.count / 10
    let (validation, train) = (Array(order[..<cut]), Array(order[cut...]))
    var architecture = Self.referenceCNN
    architecture.initialization = Initialization(rawValue: Self.environment["DIGITS_CNN_INIT"] ?? "torch") ?? .torch
    var model = Sequential(spec: architecture, inputSize: 784, using: &rng)
    let spec = OptimizerSpec(kind: .adam, learningRate: 1e-3)
    var optimizer = makeOptimizer(spec, for: model)
    let history = Trainer.fit(
      &model, optimizer: &optimizer, optimizerSpec: spec,
      features: all.gatheringRows(train), labels: train.map { labels[$0] },
      validation: (all.gatheringRows(validation), validation.map { labels[$0] }),
      options: TrainingOptions(
        epochs: Int(Self.environment["DIGITS_CNN_EPOCHS"] ?? "") ?? 3, batchSize: 128, schedule: .cosine),
      using: &rng)
    for record in history {
      print(
        "bench cnn on train.csv: epoch \(record.epoch) \(String(format: "%.1f", record.seconds)) s,"
          + " train loss \(record.trainLoss), validation acc \(record.validationAccuracy!)")
    }
  }

  static let referenceCNN = ModelSpec(
    inputShape: [1, 28, 28],
    layers: [
      .conv2d(filters: 32, kernel: 3), .relu, .batchNorm,
      .conv2d(filters: 32, kernel: 3), .relu, .batchNorm, .maxPool2d(size: 2), .dropout(rate: 0.25),
      .conv2d(filters: 64, kernel: 3), .relu, .batchNorm,
      .conv2d(filters: 64, kernel: 3), .relu, .batchNorm, .maxPool2d(size: 2), .dropout(rate: 0.25),
      .flatten, .dense(units: 256), .relu, .dropout(rate: 0.5), .dense(units: 10),
    ],
    initialization: .he)

  /// The numpy notebook's network on the real train.csv: 784-10-10, uniform init, SGD lr 0.1,
  /// 500 full-batch iterations on 90%, validated on a seeded 10%.
  @Test(.enabled(if: ProcessInfo.processInfo.environment["DIGITS_TRAIN_CSV"] != nil))
  func seedNetwork_onTrainCSV() throws {
    BLAS.setThreadCount(2)
    let text = try String(contentsOfFile: Self.environment["DIGITS_TRAIN_CSV"]!, encoding: .utf8)
    var pixels: [Float] = []
    var labels: [UInt8] = []
    for line in text.split(separator: "\n").dropFirst() {
      let fields = line.split(separator: ",")
      labels.append(UInt8(fields[0])!)
      pixels += fields.dropFirst().map { Float(Int($0)!) / 255 }
    }
    let all = Tensor(shape: [labels.count, 784], scalars: pixels)
    var rng = SeededGenerator(seed: 0)
    let order = rng.permutation(labels.count)
    let cut = labels.count / 10
    let (validation, train) = (Array(order[..<cut]), Array(order[cut...]))
    var model = Sequential(spec: .seedNetwork, inputSize: 784, using: &rng)
    let spec = OptimizerSpec(kind: .sgd, learningRate: 0.1)
    var optimizer = makeOptimizer(spec, for: model)
    let start = Date()
    let history = Trainer.fit(
      &model, optimizer: &optimizer, optimizerSpec: spec,
      features: all.gatheringRows(train), labels: train.map { labels[$0] },
      validation: (all.gatheringRows(validation), validation.map { labels[$0] }),
      options: TrainingOptions(
        epochs: Int(Self.environment["DIGITS_SEED_ITERATIONS"] ?? "") ?? 500, batchSize: nil,
        accumulationRows: Int(Self.environment["DIGITS_ACCUMULATION_ROWS"] ?? "") ?? 2048),
      using: &rng)
    let last = history.last!
    print(
      "bench seed 784-10-10 full batch x\(history.count) on \(train.count) rows: \(String(format: "%.2f", Date().timeIntervalSince(start))) s,"
        + " train acc \(last.trainAccuracy), validation acc \(last.validationAccuracy!)")
    if history.count == 500 { #expect(last.validationAccuracy! > 0.8) }
  }
}
