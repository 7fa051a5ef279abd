import Tensor

/// `y = max(x, 0)`; backward `dx = dy ⊙ 1[y > 0]` (the gradient at 0 is taken as 0, like PyTorch).
public struct ReLU: Layer {
  /// The forward output, kept for the mask.
  private var output: Tensor?

  public init() {}

  public mutating func forward(_ x: Tensor, training: Bool) -> Tensor {
    let y = relu(x)
    output = training ? y : nil
    return y
  }

  public mutating func backward(_ dy: Tensor, inputGradient: Bool) -> Tensor? {
    guard let y = output else { preconditionFailure("ReLU.backward without a training forward pass") }
    return reluBackward(dy, output: y)
  }
}

extension ReLU {
  /// `relu`: `y = max(x, 0)`.
  public struct Kind: LayerKind {
    public static let name = "relu"
    public static var bare: Kind? { Kind() }

    public init() {}

    public func outputShape(forInput shape: [Int]) throws(LayerShapeError) -> [Int] { shape }

    public func makeLayer(inputShape shape: [Int], position: Int, initialization: Initialization, generator: inout SeededGenerator?)
      -> any Layer
    {
      ReLU()
    }
  }
}

extension LayerSpec {
  public static let relu = LayerSpec(ReLU.Kind())
}
