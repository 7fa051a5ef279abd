import DataIO
import NeuralNet
import Pipeline

// MARK: - The ranges of the train section's numbers

/// Throws a one-line `PipelineError` at `keyPath` unless `value` lies in `range`.
func check<Value: Comparable & CustomStringConvertible>(
  _ value: Value, in range: some RangeExpression<Value>, _ keyPath: String, _ what: String
) throws {
  guard range.contains(value) else { throw PipelineError("\(keyPath) must be \(what) (got \(value))", at: keyPath) }
}

extension OptimizerSpec {
  /// Momentum and Adam's betas are decay rates in [0, 1) (at 1, Adam's bias correction divides by
  /// zero); epsilon keeps Adam's denominator off zero; weight decay pulls weights towards zero.
  func validate() throws {
    try check(momentum, in: 0..<1, "train.optimizer.momentum", "at least 0 and less than 1")
    try check(beta1, in: 0..<1, "train.optimizer.beta1", "at least 0 and less than 1")
    try check(beta2, in: 0..<1, "train.optimizer.beta2", "at least 0 and less than 1")
    guard epsilon > 0 else {
      throw PipelineError("train.optimizer.epsilon must be positive (got \(epsilon))", at: "train.optimizer.epsilon")
    }
    try check(weightDecay, in: 0..., "train.optimizer.weight_decay", "at least 0")
  }
}

extension Augmentation {
  /// The side of the square digit images, in pixels.
  static let imageSide = Int(Double(DigitCSV.pixelCount).squareRoot())

  /// Bounds that keep every distortion an image: a shift or an elastic field far beyond the image
  /// samples nothing but background (and, far enough, coordinates past what an `Int` holds, a
  /// trap); a zoom of `1 ± scale` must stay positive; the elastic field's Gaussian needs a width.
  func validate() throws {
    let side = Float(Self.imageSide)
    try check(shift, in: 0...side, "train.augmentation.shift", "between 0 and \(Self.imageSide) pixels")
    try check(rotation, in: 0...180, "train.augmentation.rotation", "between 0 and 180 degrees")
    try check(scale, in: 0..<1, "train.augmentation.scale", "at least 0 and less than 1")
    try check(elasticAlpha, in: 0...1000, "train.augmentation.elastic_alpha", "between 0 and 1000 pixels (Simard et al. use 34)")
    guard elasticSigma > 0 && elasticSigma <= side else {
      throw PipelineError(
        "train.augmentation.elastic_sigma must be more than 0 and at most \(Self.imageSide) pixels (got \(elasticSigma))",
        at: "train.augmentation.elastic_sigma")
    }
  }
}
