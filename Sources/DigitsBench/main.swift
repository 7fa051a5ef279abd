// digits-bench: times this project's side of `make bench`, one task per call, and prints one
// JSON line. bench/compare.py runs it beside the reference implementations (pandas, numpy,
// PyTorch) in the same session and prints the ratios. Not part of the pipeline.
//
//   digits-bench parse TRAIN_CSV TEST_CSV
//   digits-bench seed TRAIN_CSV            500 full-batch iterations of 784-10-10 on 41,000 rows
//   digits-bench mlp TRAIN_CSV EPOCHS      784-800-10, Adam, batch 128, on 90% of the rows
//   digits-bench cnn TRAIN_CSV TEST_CSV EPOCHS
//                                          the reference CNN, as mlp; then predicts test.csv
//   digits-bench doctor                    what it runs on (`pipeline doctor`'s summary), as JSON
//   digits-bench dispatch                  what a kernel call split in two halves costs beyond one
//                                          half: through Dispatch, and through the worker pool
//   digits-bench conv                      the reference CNN's convolutions one by one, batch 128:
//                                          median milliseconds forward and backward, per layer
import DataIO
import Foundation
import Machine
import NeuralNet
import Tensor

struct BenchError: Error, CustomStringConvertible {
  let description: String
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
  let clock = ContinuousClock()
  let start = clock.now
  try body()
  let elapsed = start.duration(to: clock.now).components
  return Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
}

func report(_ fields: [String: Any]) {
  let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
  print(String(decoding: data, as: UTF8.self))
}

/// train.csv's pixels as features · (1/255) (bytes, as the pipeline trains on them; the
/// references divide by 255, which rounds 126 of the 256 values differently) and labels, split
/// as torch_reference.py splits it: a seeded permutation, the first 10% held out. (The
/// permutation differs from numpy's; only the sizes matter for timing.)
func loadTraining(_ path: String, holdOut: Int?) throws
  -> (train: (ByteMatrix, [UInt8]), validation: (Tensor, [UInt8]))
{
  let table = try DigitCSV.parse(contentsOf: URL(filePath: path), hasLabels: true)
  let features = unitScaled(table)
  let labels = table.labels!
  var generator = SeededGenerator(seed: 0)
  let order = generator.permutation(table.rowCount)
  let validationCount = holdOut ?? table.rowCount / 10
  let validation = Array(order[..<validationCount])
  let train = Array(order[validationCount...])
  return ((features.gatheringRows(train), train.map { labels[$0] }),
          (features.gatheringRows(validation).expanded(), validation.map { labels[$0] }))
}

/// A parsed file's pixels as the pipeline's `unit` scaling maps them (pixel · (1/255)).
func unitScaled(_ table: DigitTable) -> ByteMatrix {
  ByteMatrix(shape: [table.rowCount, 784], bytes: table.pixels, scale: 1 / 255, offset: 0)
}

/// Trains `spec` as torch_reference.py trains its networks (Adam, lr 0.001, batch 128, cosine
/// schedule) on 90% of train.csv; the median epoch time and the held-out accuracy.
func timeTraining(_ spec: ModelSpec, trainCSV: String, epochs: Int) throws
  -> (model: Sequential, epochSecondsMedian: Double, validationAccuracy: Float)
{
  let data = try loadTraining(trainCSV, holdOut: nil)
  var generator = SeededGenerator(seed: 0)
  var model = Sequential(spec: spec, inputSize: 784, using: &generator)
  let optimizerSpec = OptimizerSpec(kind: .adam, learningRate: 0.001)
  var optimizer = makeOptimizer(optimizerSpec, schedule: .cosine, for: model)
  let history = Trainer.fit(
    &model, optimizer: &optimizer, features: data.train.0, labels: data.train.1,
    validation: nil, options: TrainingOptions(epochs: epochs, batchSize: 128), using: &generator)
  let times = history.map(\.seconds).sorted()
  let accuracy = Trainer.evaluate(&model, features: data.validation.0, labels: data.validation.1).accuracy
  return (model, times[times.count / 2], accuracy)
}

/// `digits-bench dispatch`'s unit of work: a chain of 100,000 dependent additions.
@inline(never) func halfOfACall(_ scale: Double) -> Double {
  var sum = 0.0
  for i in 0..<100_000 { sum += Double(i) * scale }
  return sum
}

// Before any numeric work, as `pipeline run` does: the kernels a user of `pipeline` gets.
let kernelChoice: KernelChoice
do {
  kernelChoice = try ProcessSetup.prepareForNumericWork { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
} catch {
  FileHandle.standardError.write(Data("digits-bench: \(error)\n".utf8))
  exit(1)
}
let arguments = Array(CommandLine.arguments.dropFirst())
do {
  switch arguments.first {
  case "doctor" where arguments.count == 1:
    let summary = MachineSummary.current(kernelChoice: kernelChoice)
    print(String(decoding: try JSONEncoder().encode(summary), as: UTF8.self))

  case "dispatch" where arguments.count == 1:
    // Two halves of ~80 µs of serial arithmetic each, 3,000 times, against one half alone: the
    // extra time is what handing the other half to a second thread costs.
    let scale = Double(arguments.count) * 1e-9  // not a constant the compiler could fold
    let calls = 3000
    // (Each call's argument differs, so no call can be hoisted out of its loop.)
    let oneHalf = seconds { for call in 0..<calls where halfOfACall(scale * Double(call)) < 0 { print("") } }
    let dispatch = seconds {
      for call in 0..<calls {
        DispatchQueue.concurrentPerform(iterations: 2) { half in if halfOfACall(scale * Double(call + half)) < 0 { print("") } }
      }
    }
    let pool = seconds {
      for call in 0..<calls {
        Workers.concurrentPerform(iterations: 2) { half in if halfOfACall(scale * Double(call + half)) < 0 { print("") } }
      }
    }
    let extra = { (total: Double) in ((total - oneHalf) / Double(calls) * 1e6 * 10).rounded() / 10 }
    report([
      "task": "dispatch", "one_half_us": extra(2 * oneHalf), "dispatch_extra_us": extra(dispatch),
      "pool_extra_us": extra(pool), "workers": Workers.count,
    ])

  case "conv" where arguments.count == 1:
    // The reference CNN's four convolutions (input channels, filters, image side), each on a
    // batch of 128 random images: forward with its ReLU fused, as `Sequential` runs it, and
    // backward with the input gradient (the first layer's is not needed, as in training).
    let layers = [(1, 32, 28), (32, 32, 28), (32, 64, 14), (64, 64, 14)]
    var generator = SeededGenerator(seed: 0)
    var fields: [String: Any] = ["task": "conv", "batch": 128, "workers": Workers.count]
    for (position, (channels, filters, side)) in layers.enumerated() {
      func random(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in generator.nextFloat(in: -1, 1) })
      }
      let x = random([128, channels, side, side])
      let weight = random([filters, channels, 3, 3])
      let bias = random([filters])
      let dy = random([128, filters, side, side])
      var (dW, db) = (Tensor(zeros: weight.shape), Tensor(zeros: [filters]))
      var y = conv2d(x, weight: weight, bias: bias, padding: 1, stride: 1, fusedReLU: true)
      var (forward, backward): ([Double], [Double]) = ([], [])
      for _ in 0..<9 {
        forward.append(seconds { y = conv2d(x, weight: weight, bias: bias, padding: 1, stride: 1, fusedReLU: true) })
        backward.append(
          seconds {
            _ = conv2dBackward(
              dy, input: x, weight: weight, padding: 1, stride: 1, reluOutput: y, weightGradient: &dW,
              biasGradient: &db, inputGradient: position > 0)
          })
      }
      let median = { (times: [Double]) in (times.sorted()[times.count / 2] * 1e4).rounded() / 10 }
      fields["conv\(position + 1)_\(channels)x\(filters)_\(side)_forward_ms"] = median(forward)
      fields["conv\(position + 1)_\(channels)x\(filters)_\(side)_backward_ms"] = median(backward)
    }
    report(fields)

  case "parse" where arguments.count == 3:
    var rows = 0
    let elapsed = try seconds {
      rows = try DigitCSV.parse(contentsOf: URL(filePath: arguments[1]), hasLabels: true).rowCount
      rows += try DigitCSV.parse(contentsOf: URL(filePath: arguments[2]), hasLabels: false).rowCount
    }
    report(["task": "parse", "seconds": elapsed, "rows": rows])

  case "seed" where arguments.count == 2:
    // The notebook: shuffle, hold out 1,000 rows, 500 iterations of gradient descent, lr 0.1.
    let data = try loadTraining(arguments[1], holdOut: 1000)
    var generator = SeededGenerator(seed: 0)
    var model = Sequential(spec: .seedNetwork, inputSize: 784, using: &generator)
    let spec = OptimizerSpec(kind: .sgd, learningRate: 0.1)
    var optimizer = makeOptimizer(spec, for: model)
    var history: [EpochRecord] = []
    let elapsed = seconds {
      history = Trainer.fit(
        &model, optimizer: &optimizer, features: data.train.0, labels: data.train.1,
        validation: nil, options: TrainingOptions(epochs: 500, batchSize: nil), using: &generator)
    }
    let accuracy = Trainer.evaluate(&model, features: data.validation.0, labels: data.validation.1).accuracy
    report(["task": "seed", "seconds": elapsed, "iterations": history.count, "validation_accuracy": accuracy])

  case "mlp" where arguments.count == 3:
    let spec = ModelSpec(layers: [.dense(units: 800), .relu, .dense(units: 10)], initialization: .he)
    let run = try timeTraining(spec, trainCSV: arguments[1], epochs: Int(arguments[2]) ?? 3)
    report(["task": "mlp", "epoch_seconds_median": run.epochSecondsMedian, "validation_accuracy": run.validationAccuracy])

  case "cnn" where arguments.count == 4:
    // 32c3-32c3-pool-64c3-64c3-pool-256-10 with batch norm and dropout: torch_reference.py's cnn.
    let conv = { (filters: Int) in LayerSpec.conv2d(filters: filters, kernel: 3, padding: 1, stride: 1) }
    let spec = ModelSpec(
      inputShape: [1, 28, 28],
      layers: [
        conv(32), .relu, .batchNorm, conv(32), .relu, .batchNorm, .maxPool2d(size: 2), .dropout(rate: 0.25),
        conv(64), .relu, .batchNorm, conv(64), .relu, .batchNorm, .maxPool2d(size: 2), .dropout(rate: 0.25),
        .flatten, .dense(units: 256), .relu, .dropout(rate: 0.5), .dense(units: 10),
      ],
      initialization: .he)
    var run = try timeTraining(spec, trainCSV: arguments[1], epochs: Int(arguments[3]) ?? 3)
    let test = try DigitCSV.parse(contentsOf: URL(filePath: arguments[2]), hasLabels: false)
    let testFeatures = unitScaled(test).expanded()
    var probabilities = Tensor(zeros: [0])
    let predictSeconds = seconds {
      probabilities = Trainer.predictProbabilities(&run.model, features: testFeatures, batchSize: 1000)
    }
    report([
      "task": "cnn", "epoch_seconds_median": run.epochSecondsMedian, "validation_accuracy": run.validationAccuracy,
      "predict_seconds": predictSeconds, "predicted_rows": probabilities.rows,
    ])

  default:
    throw BenchError(description: "usage: digits-bench parse TRAIN TEST | seed TRAIN | mlp TRAIN EPOCHS | cnn TRAIN TEST EPOCHS | conv | dispatch | doctor")
  }
} catch {
  FileHandle.standardError.write(Data("digits-bench: \(error)\n".utf8))
  exit(1)
}
