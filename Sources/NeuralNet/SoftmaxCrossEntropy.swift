import Tensor

/// Mean softmax cross-entropy over the batch, fused with its gradient:
///
///     L = -1/N Σ_i log softmax(z_i)[y_i],    dL/dz = (softmax(z) - onehot(y)) / N
///
/// `// logits: (N, C), labels: N class indices`. Stable for any logit magnitude (row max subtracted).
public enum SoftmaxCrossEntropy {
  public static func lossAndGradient(logits: Tensor, labels: [UInt8]) -> (loss: Float, gradient: Tensor) {
    let (loss, gradient) = softmaxCrossEntropy(logits: logits, labels: labels)
    return (Float(loss), gradient)
  }

  /// The same for rows that are one chunk of a batch of `batchSize` rows: both the loss and the
  /// gradient are divided by `batchSize`, so the chunks' results sum to the whole batch's.
  public static func lossAndGradient(logits: Tensor, labels: [UInt8], batchSize: Int) -> (loss: Double, gradient: Tensor) {
    softmaxCrossEntropy(logits: logits, labels: labels, batchSize: batchSize)
  }

  /// The same against label-smoothed targets `q = (1 − ε)·onehot(y) + ε/C` (PyTorch's
  /// `CrossEntropyLoss(label_smoothing=ε)`): `L = -1/N Σ_i Σ_j q_ij log softmax(z_i)_j`,
  /// `dL/dz = (softmax(z) − q) / N` with `N = batchSize`. `ε = 0` is plain cross-entropy.
  public static func lossAndGradient(
    logits: Tensor, labels: [UInt8], batchSize: Int, labelSmoothing: Float
  ) -> (loss: Double, gradient: Tensor) {
    softmaxCrossEntropy(logits: logits, labels: labels, batchSize: batchSize, labelSmoothing: labelSmoothing)
  }
}

/// Row-wise softmax `p_ij = exp(z_ij - max_k z_ik) / Σ_k exp(z_ik - max_k z_ik)`.
/// `// logits: (N, C) -> probabilities: (N, C)`
public func softmax(_ logits: Tensor) -> Tensor {
  softmaxRows(logits)
}
