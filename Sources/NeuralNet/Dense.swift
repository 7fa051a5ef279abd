import Tensor

/// Fully connected layer `y = x·W + b`.
///
/// `// x: (N, in), W: (in, out), b: (out) -> y: (N, out)`
///
/// The weight is stored `(in, out)` so the forward pass is a plain row-major GEMM; a PyTorch
/// `nn.Linear.weight` is the transpose, `(out, in)`. (A layer with few outputs multiplies by a
/// kept `Wᵀ` instead, the orientation `gemm` runs thin products in; see `transposedWeight`.)
public struct Dense: Layer {
  public var weight: Tensor {        // (in, out)
    didSet { transposedWeight = nil }
  }
  public var bias: Tensor            // (out)
  public var weightGradient: Tensor  // (in, out), dL/dW accumulated
  public var biasGradient: Tensor    // (out), dL/db accumulated
  /// The forward input, kept for `dW = xᵀ·dy`.
  private var input: Tensor?
  /// `Wᵀ`, kept between forward passes while W is unchanged, for layers with so few outputs that
  /// `gemm` would otherwise transpose W on every call (full-batch training of a 784-10-10 network
  /// runs a hundred chunks per step through the same W).
  private var transposedWeight: Tensor?

  public var inputSize: Int { weight.rows }
  public var outputSize: Int { weight.columns }

  /// A layer with the given parameters and zero gradients.
  public init(weight: Tensor, bias: Tensor) {
    precondition(weight.shape.count == 2, "dense weight must be (in, out), got \(weight.shape)")
    precondition(bias.shape == [weight.shape[1]], "dense bias must be (\(weight.shape[1])), got \(bias.shape)")
    self.weight = weight
    self.bias = bias
    weightGradient = Tensor(zeros: weight.shape)
    biasGradient = Tensor(zeros: bias.shape)
  }

  /// Draws W row-major, then b, from `generator` (see `Initialization`).
  public init(inputSize: Int, outputSize: Int, initialization: Initialization, using generator: inout SeededGenerator) {
    let (low, high): (Float, Float)
    switch initialization {
    case .he:
      let bound = (6 / Float(inputSize)).squareRoot()
      (low, high) = (-bound, bound)
    case .uniform:
      (low, high) = (-0.5, 0.5)
    case .torch:
      let bound = 1 / Float(inputSize).squareRoot()
      (low, high) = (-bound, bound)
    }
    let w = (0..<(inputSize * outputSize)).map { _ in generator.nextFloat(in: low, high) }
    let b: [Float] =
      switch initialization {
      case .he: Array(repeating: 0, count: outputSize)
      case .uniform: (0..<outputSize).map { _ in generator.nextFloat(in: -0.5, 0.5) }
      case .torch: (0..<outputSize).map { _ in generator.nextFloat(in: low, high) }
      }
    self.init(weight: Tensor(shape: [inputSize, outputSize], scalars: w), bias: Tensor(shape: [outputSize], scalars: b))
  }

  /// `y = x·W + b`.  `// x: (N, in) -> y: (N, out)`
  public mutating func forward(_ x: Tensor, training: Bool) -> Tensor {
    precondition(x.columns == inputSize, "dense expects \(inputSize) input columns, got \(x.shape)")
    var y = Tensor(zeros: [x.rows, outputSize])
    if gemmCopiesTransposedB(m: x.rows, k: inputSize, n: outputSize) {
      if transposedWeight == nil { transposedWeight = weight.transposedMatrix() }
      gemm(x, transposedWeight!, transposeB: true, into: &y)  // (N, in)·((out, in))ᵀ, the same product
    } else {
      gemm(x, weight, into: &y)  // (N, in)·(in, out)
    }
    addRowVector(bias, to: &y)
    input = training ? x : nil
    return y
  }

  /// Accumulates `dW += xᵀ·dy` and `db += Σ_rows dy`, returns `dx = dy·Wᵀ`.
  /// `// dy: (N, out) -> dx: (N, in)`
  public mutating func backward(_ dy: Tensor) -> Tensor {
    accumulateParameterGradients(dy)
    return matmul(dy, weight, transposeB: true)  // (N, out)·(out, in)
  }

  /// The parameter half of `backward`, for a first layer whose `dx` nobody needs
  /// (skipping it saves a third of the layer's backward FLOPs).
  public mutating func accumulateParameterGradients(_ dy: Tensor) {
    guard let x = input else { preconditionFailure("Dense.backward without a training forward pass") }
    precondition(dy.rows == x.rows && dy.columns == outputSize, "dense dy has shape \(dy.shape)")
    gemm(x, transposeA: true, dy, beta: 1, into: &weightGradient)  // (in, N)·(N, out)
    accumulateColumnSums(of: dy, into: &biasGradient)
  }

  public mutating func zeroGradients() {
    weightGradient.fill(with: 0)
    biasGradient.fill(with: 0)
  }

  /// Calls `update(index, &parameter, gradient)` for W (at `index`) then b (at `index + 1`).
  mutating func updateParameters(startingAt index: Int, _ update: (Int, inout Tensor, Tensor) -> Void) {
    update(index, &weight, weightGradient)
    update(index + 1, &bias, biasGradient)
  }
}
