import Tensor

/// Max pooling with a `size × size` window and stride `size` (PyTorch's `nn.MaxPool2d(size)`,
/// floor mode): `y[n, c, oh, ow] = max_{i,j < size} x[n, c, oh·size + i, ow·size + j]`.
/// Backward routes each gradient to the (first) maximum of its window.
/// `// x: (N, C, H, W) -> y: (N, C, ⌊H/size⌋, ⌊W/size⌋)`
public struct MaxPool2D: Layer {
  public let size: Int
  /// Per output, the index of its maximum within the input plane; and the input shape.
  private var argmax: [Int32] = []
  private var inputShape: [Int]?

  public init(size: Int) {
    precondition(size > 0, "maxpool2d size must be positive")
    self.size = size
  }

  public mutating func forward(_ x: Tensor, training: Bool) -> Tensor {
    let (y, indices) = maxPool2d(x, size: size)
    (argmax, inputShape) = training ? (indices, x.shape) : ([], nil)
    return y
  }

  /// `// dy: (N, C, Ho, Wo) -> dx: (N, C, H, W)`
  public mutating func backward(_ dy: Tensor, inputGradient: Bool) -> Tensor? {
    guard let shape = inputShape else { preconditionFailure("MaxPool2D.backward without a training forward pass") }
    return maxPool2dBackward(dy, argmax: argmax, inputShape: shape)
  }
}

extension MaxPool2D {
  /// `{maxpool2d: size}`: window = stride = `size`. Needs `(C, H, W)` input.
  public struct Kind: SingleSettingKind {
    public static let name = "maxpool2d"
    public var size: Int

    public init(size: Int) { self.size = size }
    public init(setting: Int) { size = setting }
    public var setting: Int { size }
    public static func problem(with size: Int) -> String? { size > 0 ? nil : "maxpool2d size must be positive, got \(size)" }

    public func outputShape(forInput shape: [Int]) throws(LayerShapeError) -> [Int] {
      guard shape.count == 3 else { throw LayerShapeError(" needs (C, H, W) input, got \(shape)") }
      guard shape[1] >= size && shape[2] >= size else { throw LayerShapeError(": window \(size) does not fit \(shape)") }
      return [shape[0], shape[1] / size, shape[2] / size]
    }

    /// The output and, per output, the 32-bit index of its window's maximum.
    public func trainingFootprint(forInput shape: [Int]) -> LayerFootprint {
      LayerFootprint(keptPerRow: 2 * Double(scalarCount((try? outputShape(forInput: shape)) ?? []) ?? 0))
    }

    public func makeLayer(inputShape shape: [Int], position: Int, initialization: Initialization, generator: inout SeededGenerator?)
      -> any Layer
    {
      MaxPool2D(size: size)
    }
  }
}

extension LayerSpec {
  public static func maxPool2d(size: Int) -> LayerSpec { LayerSpec(MaxPool2D.Kind(size: size)) }
}
