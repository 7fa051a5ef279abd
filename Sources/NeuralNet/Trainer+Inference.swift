import Tensor

// MARK: - A trained model on rows it does not learn from

extension Trainer {
  /// Mean softmax cross-entropy and accuracy of `model` on a labelled set, in batches.
  public static func evaluate(
    _ model: inout Sequential, features: Tensor, labels: [UInt8], batchSize: Int = 1024
  ) -> (loss: Float, accuracy: Float) {
    let n = features.rows
    precondition(labels.count == n, "\(labels.count) labels for \(n) feature rows")
    guard n > 0 else { return (0, 0) }
    var lossSum = 0.0
    var correct = 0
    for start in stride(from: 0, to: n, by: batchSize) {
      let range = start..<min(n, start + batchSize)
      let logits = model.forward(features.slicingRows(range), training: false)
      let y = Array(labels[range])
      lossSum += Double(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: y).loss) * Double(y.count)
      correct += countArgmaxMatches(logits, labels: y)
    }
    return (Float(lossSum / Double(n)), Float(correct) / Float(n))
  }

  /// Inference in batches (keeps memory flat): class probabilities `(N, classes)`.
  public static func predictProbabilities(_ model: inout Sequential, features: Tensor, batchSize: Int = 1024) -> Tensor {
    precondition(batchSize > 0, "batch size must be positive")
    let n = features.rows
    var scalars: [Float] = []
    scalars.reserveCapacity(n * model.outputSize)
    for start in stride(from: 0, to: n, by: batchSize) {
      let logits = model.forward(features.slicingRows(start..<min(n, start + batchSize)), training: false)
      scalars.append(contentsOf: softmax(logits).scalars)
    }
    return Tensor(shape: [n, model.outputSize], scalars: scalars)
  }
}
