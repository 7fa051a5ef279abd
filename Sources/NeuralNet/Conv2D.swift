import Tensor

/// 2-D convolution over NCHW images (PyTorch's `nn.Conv2d`, cross-correlation, zero padding):
///
///     y[n, f, oh, ow] = b[f] + Σ_{c,i,j} W[f, c, i, j] · x[n, c, oh·s − p + i, ow·s − p + j]
///
/// `// x: (N, C, H, W), W: (F, C, k, k), b: (F) -> y: (N, F, Ho, Wo)`, `Ho = ⌊(H + 2p − k)/s⌋ + 1`.
/// The weight layout is PyTorch's, so a `Conv2d.weight` loads unchanged. Runs as im2col + SGEMM
/// per image, the images split over the BLAS thread count (see `conv2d` in Tensor).
public struct Conv2D: Layer {
  public var weight: Tensor          // (F, C, k, k)
  public var bias: Tensor            // (F)
  public var weightGradient: Tensor  // (F, C, k, k), dL/dW accumulated
  public var biasGradient: Tensor    // (F), dL/db accumulated
  public let padding: Int
  public let stride: Int
  /// Apply `max(·, 0)` to the output in the same pass (and mask dy by it in backward): how
  /// `Sequential` runs a convolution that is followed by a ReLU layer. Off by default.
  public var fusedReLU = false
  /// The forward input, kept for `dW` (its patches are rebuilt in backward rather than stored),
  /// and with `fusedReLU` the output, for the mask.
  private var input: Tensor?
  private var output: Tensor?

  public var filters: Int { weight.shape[0] }
  public var inputChannels: Int { weight.shape[1] }
  public var kernel: Int { weight.shape[2] }

  /// A layer with the given parameters and zero gradients.
  public init(weight: Tensor, bias: Tensor, padding: Int, stride: Int) {
    precondition(
      weight.shape.count == 4 && weight.shape[2] == weight.shape[3],
      "conv2d weight must be (F, C, k, k), got \(weight.shape)")
    precondition(bias.shape == [weight.shape[0]], "conv2d bias must be (\(weight.shape[0])), got \(bias.shape)")
    precondition(padding >= 0 && stride > 0, "conv2d padding must be ≥ 0 and stride > 0")
    self.weight = weight
    self.bias = bias
    self.padding = padding
    self.stride = stride
    weightGradient = Tensor(zeros: weight.shape)
    biasGradient = Tensor(zeros: bias.shape)
  }

  /// Draws W (row-major over `(F, C, k, k)`), then b, from `generator`. `.he` is Kaiming-uniform
  /// with `fan_in = C·k·k`, `W ~ U(−√(6/fan_in), √(6/fan_in))`, b = 0; `.uniform` is `U[−0.5, 0.5)` for
  /// both; `.torch` is `U(−1/√fan_in, 1/√fan_in)` for both (PyTorch's default).
  public init(
    inputChannels: Int, filters: Int, kernel: Int, padding: Int, stride: Int,
    initialization: Initialization, using generator: inout SeededGenerator
  ) {
    let fanIn = inputChannels * kernel * kernel
    let (low, high): (Float, Float)
    switch initialization {
    case .he:
      let bound = (6 / Float(fanIn)).squareRoot()
      (low, high) = (-bound, bound)
    case .uniform:
      (low, high) = (-0.5, 0.5)
    case .torch:
      let bound = 1 / Float(fanIn).squareRoot()
      (low, high) = (-bound, bound)
    }
    let w = (0..<(filters * fanIn)).map { _ in generator.nextFloat(in: low, high) }
    let b: [Float] =
      switch initialization {
      case .he: Array(repeating: 0, count: filters)
      case .uniform: (0..<filters).map { _ in generator.nextFloat(in: -0.5, 0.5) }
      case .torch: (0..<filters).map { _ in generator.nextFloat(in: low, high) }
      }
    self.init(
      weight: Tensor(shape: [filters, inputChannels, kernel, kernel], scalars: w),
      bias: Tensor(shape: [filters], scalars: b), padding: padding, stride: stride)
  }

  /// `// x: (N, C, H, W) -> y: (N, F, Ho, Wo)` (`max(y, 0)` with `fusedReLU`)
  public mutating func forward(_ x: Tensor, training: Bool) -> Tensor {
    let y = conv2d(x, weight: weight, bias: bias, padding: padding, stride: stride, fusedReLU: fusedReLU)
    input = training ? x : nil
    output = training && fusedReLU ? y : nil
    return y
  }

  /// Accumulates `dW`, `db`; returns `dx`. `// dy: (N, F, Ho, Wo) -> dx: (N, C, H, W)`
  public mutating func backward(_ dy: Tensor) -> Tensor {
    backward(dy, inputGradient: true)!
  }

  /// The parameter half of `backward`, for a first layer whose `dx` nobody needs.
  public mutating func accumulateParameterGradients(_ dy: Tensor) {
    _ = backward(dy, inputGradient: false)
  }

  private mutating func backward(_ dy: Tensor, inputGradient: Bool) -> Tensor? {
    guard let x = input else { preconditionFailure("Conv2D.backward without a training forward pass") }
    return conv2dBackward(
      dy, input: x, weight: weight, padding: padding, stride: stride, reluOutput: output,
      weightGradient: &weightGradient, biasGradient: &biasGradient, inputGradient: inputGradient)
  }

  public mutating func zeroGradients() {
    weightGradient.fill(with: 0)
    biasGradient.fill(with: 0)
  }

  /// The output shape for one `(C, H, W)` image.
  public func outputShape(forInput shape: [Int]) -> [Int] {
    let g = WindowGeometry(
      channels: shape[0], height: shape[1], width: shape[2], kernel: kernel, padding: padding, stride: stride)
    return [filters, g.outputHeight, g.outputWidth]
  }

  /// Calls `update(index, &parameter, gradient)` for W (at `index`) then b (at `index + 1`).
  mutating func updateParameters(startingAt index: Int, _ update: (Int, inout Tensor, Tensor) -> Void) {
    update(index, &weight, weightGradient)
    update(index + 1, &bias, biasGradient)
  }
}
