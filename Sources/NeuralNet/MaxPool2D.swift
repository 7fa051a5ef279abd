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
