import Tensor

/// Fully connected layer `y = x·W + b`.
///
/// `// x: (N, in), W: (in, out), b: (out) -> y: (N, out)`
///
/// The weight is stored `(in, out)` so the forward pass is a plain row-major GEMM; a PyTorch
/// `nn.Linear.weight` is the transpose, `(out, in)`. (A layer with few outputs multiplies by a
/// kept `Wᵀ` instead, the orientation `gemm` runs thin products in; see `transposedWeight`.)
public struct Dense: Layer {
  /// `weight` `(in, out)` and `bias` `(out)`.
  public var parameters: [Parameter]
  /// Apply `max(·, 0)` to the output in the same pass as the bias (and mask dy by it in
  /// backward): how `Sequential` runs a dense layer that is followed by a ReLU layer. Off by
  /// default.
  public var fusedReLU = false
  /// The forward input, kept for `dW = xᵀ·dy`, and with `fusedReLU` the output, for the mask.
  private var input: Tensor?
  private var output: Tensor?
  /// `Wᵀ`, kept between forward passes while W is unchanged, for layers with so few outputs that
  /// `gemm` would otherwise transpose W on every call (full-batch training of a 784-10-10 network
  /// runs a hundred chunks per step through the same W).
  private var transposedWeight: Tensor?

  public var weight: Tensor {  // (in, out)
    get { parameters[0].value }
    set {
      parameters[0].value = newValue
      parametersChanged()
    }
  }
  public var bias: Tensor {  // (out)
    get { parameters[1].value }
    set { parameters[1].value = newValue }
  }
  /// dL/dW accumulated, `(in, out)`.
  public var weightGradient: Tensor { parameters[0].gradient }
  /// dL/db accumulated, `(out)`.
  public var biasGradient: Tensor { parameters[1].gradient }

  public var inputSize: Int { weight.rows }
  public var outputSize: Int { weight.columns }

  /// A layer with the given parameters and zero gradients.
  public init(weight: Tensor, bias: Tensor) {
    precondition(weight.shape.count == 2, "dense weight must be (in, out), got \(weight.shape)")
    precondition(bias.shape == [weight.shape[1]], "dense bias must be (\(weight.shape[1])), got \(bias.shape)")
    parameters = [Parameter("weight", weight), Parameter("bias", bias)]
  }

  /// Draws W row-major, then b, from `generator` (see `Initialization`).
  public init(inputSize: Int, outputSize: Int, initialization: Initialization, using generator: inout SeededGenerator) {
    let (w, b) = initialization.draw(
      weightShape: [inputSize, outputSize], biases: outputSize, fanIn: inputSize, using: &generator)
    self.init(weight: w, bias: b)
  }

  /// Drops the kept `Wᵀ`.
  public mutating func parametersChanged() { transposedWeight = nil }

  /// `y = x·W + b` (`max(y, 0)` with `fusedReLU`).  `// x: (N, in) -> y: (N, out)`
  public mutating func forward(_ x: Tensor, training: Bool) -> Tensor {
    precondition(x.columns == inputSize, "dense expects \(inputSize) input columns, got \(x.shape)")
    var y = Tensor(zeros: [x.rows, outputSize])
    if gemmCopiesTransposedB(m: x.rows, k: inputSize, n: outputSize) {
      if transposedWeight == nil { transposedWeight = weight.transposedMatrix() }
      gemm(x, transposedWeight!, transposeB: true, into: &y)  // (N, in)·((out, in))ᵀ, the same product
    } else {
      gemm(x, weight, into: &y)  // (N, in)·(in, out)
    }
    addRowVector(bias, to: &y, relu: fusedReLU)
    input = training ? x : nil
    output = training && fusedReLU ? y : nil
    return y
  }

  /// Accumulates `dW += xᵀ·dy` and `db += Σ_rows dy`, returns `dx = dy·Wᵀ`.
  /// `// dy: (N, out) -> dx: (N, in)`
  public mutating func backward(_ dy: Tensor, inputGradient: Bool) -> Tensor? {
    guard let x = input else { preconditionFailure("Dense.backward without a training forward pass") }
    precondition(dy.rows == x.rows && dy.columns == outputSize, "dense dy has shape \(dy.shape)")
    let dy = output.map { reluBackward(dy, output: $0) } ?? dy
    gemm(x, transposeA: true, dy, beta: 1, into: &parameters[0].gradient)  // (in, N)·(N, out)
    accumulateColumnSums(of: dy, into: &parameters[1].gradient)
    return inputGradient ? matmul(dy, weight, transposeB: true) : nil  // (N, out)·(out, in)
  }
}

extension Dense {
  /// `{dense: units}`: fully connected with `units` outputs. Needs flat input.
  public struct Kind: SingleSettingKind {
    public static let name = "dense"
    public var units: Int

    public init(units: Int) { self.units = units }
    public init(setting: Int) { units = setting }
    public var setting: Int { units }
    public static func problem(with units: Int) -> String? { units > 0 ? nil : "dense units must be positive, got \(units)" }

    public func outputShape(forInput shape: [Int]) throws(LayerShapeError) -> [Int] {
      guard shape.count == 1 else { throw LayerShapeError(" needs flat input, got \(shape); add flatten before it") }
      return [units]
    }

    /// W `(in, out)` and b; the output kept (the input is the previous layer's output).
    public func trainingFootprint(forInput shape: [Int]) -> LayerFootprint {
      LayerFootprint(parameters: Double(shape[0]) * Double(units) + Double(units), keptPerRow: Double(units))
    }

    public func makeLayer(inputShape shape: [Int], position: Int, initialization: Initialization, generator: inout SeededGenerator?)
      -> any Layer
    {
      guard generator != nil else { return Dense(weight: Tensor(zeros: [shape[0], units]), bias: Tensor(zeros: [units])) }
      return Dense(inputSize: shape[0], outputSize: units, initialization: initialization, using: &generator!)
    }
  }
}

extension LayerSpec {
  /// `{dense: units}`.
  public static func dense(units: Int) -> LayerSpec { LayerSpec(Dense.Kind(units: units)) }
}
