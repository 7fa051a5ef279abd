import Tensor

/// Batch normalisation over channels (PyTorch's `nn.BatchNorm2d` for `(N, C, H, W)` input,
/// `nn.BatchNorm1d` for `(N, C)` rows), with `ε = 1e-5` and momentum 0.1:
///
///     training:   μ, σ² = per-channel mean and biased variance of the batch (M = N·H·W values)
///                 y = γ·(x − μ)/√(σ² + ε) + β
///                 running_mean ← 0.9·running_mean + 0.1·μ
///                 running_var  ← 0.9·running_var  + 0.1·σ²·M/(M − 1)    (unbiased, as torch)
///     inference:  y = γ·(x − running_mean)/√(running_var + ε) + β
///
/// `// x: (N, C, ...), γ = weight: (C), β = bias: (C) -> y: same shape as x`.
/// γ and β are trainable; the running statistics are *buffers*: saved with the model (see
/// `Sequential.namedParameters`) but never touched by an optimizer.
public struct BatchNorm: Layer {
  /// `weight` (γ) and `bias` (β), both `(C)`.
  public var parameters: [Parameter]
  /// `running_mean` and `running_var`, both `(C)`.
  public var buffers: [Buffer]
  public let momentum: Float
  public let epsilon: Float
  /// The training forward's input and batch statistics, for backward.
  private var saved: (input: Tensor, mean: Tensor, inverseStd: Tensor)?

  public var weight: Tensor {  // γ
    get { parameters[0].value }
    set { parameters[0].value = newValue }
  }
  public var bias: Tensor {  // β
    get { parameters[1].value }
    set { parameters[1].value = newValue }
  }
  public var runningMean: Tensor {
    get { buffers[0].value }
    set { buffers[0].value = newValue }
  }
  public var runningVariance: Tensor {
    get { buffers[1].value }
    set { buffers[1].value = newValue }
  }
  /// dL/dγ accumulated.
  public var weightGradient: Tensor { parameters[0].gradient }
  /// dL/dβ accumulated.
  public var biasGradient: Tensor { parameters[1].gradient }

  public var channels: Int { weight.count }

  /// A freshly initialised layer: γ = 1, β = 0, running mean 0, running variance 1.
  public init(channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
    self.init(
      weight: Tensor(shape: [channels], repeating: 1), bias: Tensor(zeros: [channels]),
      runningMean: Tensor(zeros: [channels]), runningVariance: Tensor(shape: [channels], repeating: 1),
      momentum: momentum, epsilon: epsilon)
  }

  public init(
    weight: Tensor, bias: Tensor, runningMean: Tensor, runningVariance: Tensor,
    momentum: Float = 0.1, epsilon: Float = 1e-5
  ) {
    let c = weight.count
    precondition(c > 0 && [weight, bias, runningMean, runningVariance].allSatisfy { $0.shape == [c] }, "batchnorm buffers must all be (C)")
    parameters = [Parameter("weight", weight), Parameter("bias", bias)]
    buffers = [Buffer("running_mean", runningMean), Buffer("running_var", runningVariance)]
    self.momentum = momentum
    self.epsilon = epsilon
  }

  /// The batch statistics span every row of the batch.
  public var isRowIndependent: Bool { false }

  public mutating func forward(_ x: Tensor, training: Bool) -> Tensor {
    precondition(x.shape.count >= 2 && x.shape[1] == channels, "batchnorm expects (N, \(channels), ...), got \(x.shape)")
    let c = channels
    let mean: Tensor
    let inverseStd: Tensor
    if training {
      let (mu, variance) = channelMeanAndVariance(x, channels: c)
      let m = Float(x.count / c)
      let unbiased = m > 1 ? m / (m - 1) : 1
      for k in 0..<c {
        buffers[0].value.scalars[k] = (1 - momentum) * buffers[0].value.scalars[k] + momentum * mu.scalars[k]
        buffers[1].value.scalars[k] = (1 - momentum) * buffers[1].value.scalars[k] + momentum * variance.scalars[k] * unbiased
      }
      mean = mu
      inverseStd = Tensor(shape: [c], scalars: variance.scalars.map { 1 / ($0 + epsilon).squareRoot() })
      saved = (x, mean, inverseStd)
    } else {
      mean = runningMean
      inverseStd = Tensor(shape: [c], scalars: runningVariance.scalars.map { 1 / ($0 + epsilon).squareRoot() })
      saved = nil
    }
    let scale = Tensor(shape: [c], scalars: (0..<c).map { weight.scalars[$0] * inverseStd.scalars[$0] })
    let shift = Tensor(shape: [c], scalars: (0..<c).map { bias.scalars[$0] - mean.scalars[$0] * scale.scalars[$0] })
    return channelAffine(x, channels: c, scale: scale, shift: shift)
  }

  /// Accumulates `dγ`, `dβ`; returns `dx` through the batch statistics (training mode).
  public mutating func backward(_ dy: Tensor, inputGradient: Bool) -> Tensor? {
    guard let (x, mean, inverseStd) = saved else { preconditionFailure("BatchNorm.backward without a training forward pass") }
    let (gamma, channels) = (weight, channels)
    return accumulatingWeightAndBiasGradients { dGamma, dBeta in
      batchNormBackward(
        dy, input: x, mean: mean, inverseStd: inverseStd, gamma: gamma, channels: channels,
        gammaGradient: &dGamma, betaGradient: &dBeta, inputGradient: inputGradient)
    }
  }
}

extension BatchNorm {
  /// `batchnorm`: over the channels, BatchNorm2d on images and BatchNorm1d on rows.
  public struct Kind: LayerKind {
    public static let name = "batchnorm"
    public static var bare: Kind? { Kind() }

    public init() {}

    public func outputShape(forInput shape: [Int]) throws(LayerShapeError) -> [Int] { shape }

    /// γ and β, the running mean and variance, per channel; the output kept (the saved input is
    /// the previous layer's output).
    public func trainingFootprint(forInput shape: [Int]) -> LayerFootprint {
      let channels = Double(shape[0])
      return LayerFootprint(parameters: 2 * channels, buffers: 2 * channels, keptPerRow: Double(scalarCount(shape) ?? 0))
    }

    public func makeLayer(inputShape shape: [Int], position: Int, initialization: Initialization, generator: inout SeededGenerator?)
      -> any Layer
    {
      BatchNorm(channels: shape[0])
    }
  }
}

extension LayerSpec {
  public static let batchNorm = LayerSpec(BatchNorm.Kind())
}
