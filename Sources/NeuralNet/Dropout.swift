import Tensor

/// Inverted dropout (PyTorch's `nn.Dropout(rate)`): in training each scalar is zeroed with
/// probability `rate` and the survivors are scaled by `1/(1 − rate)`, so inference is the
/// identity. `// x: any shape -> y: same shape`; backward `dx = dy ⊙ mask`.
///
/// The layer owns its random stream: a `SeededGenerator` seeded once, when the model is built,
/// from the model's generator. Masks are therefore a pure function of the model's seed and the
/// number of training forwards so far; copying the layer copies the stream (two copies draw the
/// same masks), which is what the finite-difference tests rely on.
public struct Dropout: Layer {
  public let rate: Float
  public var generator: SeededGenerator
  /// The last training mask (0 or 1/(1 − rate)), kept for backward.
  private var mask: Tensor?

  public init(rate: Float, generator: SeededGenerator) {
    precondition(rate >= 0 && rate < 1, "dropout rate must be in [0, 1), got \(rate)")
    self.rate = rate
    self.generator = generator
  }

  /// The masks are drawn from one stream, row after row.
  public var isRowIndependent: Bool { false }

  public mutating func forward(_ x: Tensor, training: Bool) -> Tensor {
    guard training, rate > 0 else {
      mask = nil
      return x
    }
    let m = dropoutMask(shape: x.shape, rate: rate, using: &generator)
    mask = m
    return multiply(x, m)
  }

  public mutating func backward(_ dy: Tensor, inputGradient: Bool) -> Tensor? {
    guard let m = mask else { return dy }  // rate 0: the identity
    return multiply(dy, m)
  }
}

extension Dropout {
  /// `{dropout: rate}`, the drop probability, in [0, 1).
  public struct Kind: SingleSettingKind {
    public static let name = "dropout"
    public var rate: Float

    public init(rate: Float) { self.rate = rate }
    public init(setting: Float) { rate = setting }
    public var setting: Float { rate }
    public static func problem(with rate: Float) -> String? {
      rate >= 0 && rate < 1 ? nil : "dropout rate must be in [0, 1), got \(rate)"
    }

    public func outputShape(forInput shape: [Int]) throws(LayerShapeError) -> [Int] { shape }

    /// The output and its mask.
    public func trainingFootprint(forInput shape: [Int]) -> LayerFootprint {
      LayerFootprint(keptPerRow: 2 * Double(scalarCount(shape) ?? 0))
    }

    /// The layer's mask stream is seeded by one draw from `generator`, or by its position.
    public func makeLayer(inputShape shape: [Int], position: Int, initialization: Initialization, generator: inout SeededGenerator?)
      -> any Layer
    {
      Dropout(rate: rate, generator: SeededGenerator(seed: generator?.next() ?? UInt64(position)))
    }
  }
}

extension LayerSpec {
  public static func dropout(rate: Float) -> LayerSpec { LayerSpec(Dropout.Kind(rate: rate)) }
}
