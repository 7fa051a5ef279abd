import Tensor

/// `(N, C, H, W) -> (N, C·H·W)` (any trailing extents), row-major, like `nn.Flatten`. The
/// scalars are not copied; backward restores the input's shape.
public struct Flatten: Layer {
  private var inputShape: [Int]?

  public init() {}

  public mutating func forward(_ x: Tensor, training: Bool) -> Tensor {
    inputShape = training ? x.shape : nil
    return x.reshaped([x.rows, x.columns])
  }

  public mutating func backward(_ dy: Tensor, inputGradient: Bool) -> Tensor? {
    guard let shape = inputShape else { preconditionFailure("Flatten.backward without a training forward pass") }
    return dy.reshaped(shape)
  }
}

extension Flatten {
  /// `flatten`: `(C, H, W) -> (C·H·W)`.
  public struct Kind: LayerKind {
    public static let name = "flatten"
    public static var bare: Kind? { Kind() }

    public init() {}

    public func outputShape(forInput shape: [Int]) throws(LayerShapeError) -> [Int] {
      guard let count = scalarCount(shape) else { throw LayerShapeError(": \(shape) has too many scalars to count") }
      return [count]
    }

    public func makeLayer(inputShape shape: [Int], position: Int, initialization: Initialization, generator: inout SeededGenerator?)
      -> any Layer
    {
      Flatten()
    }
  }
}

extension LayerSpec {
  public static let flatten = LayerSpec(Flatten.Kind())
}
