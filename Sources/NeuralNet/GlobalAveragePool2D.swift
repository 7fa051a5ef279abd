import Tensor

/// Global average pooling (PyTorch's `nn.AdaptiveAvgPool2d(1)` followed by `nn.Flatten()`):
/// each channel's plane becomes its mean, `y[n, c] = Σ_{h,w} x[n, c, h, w] / (H·W)`, so a dense
/// layer can follow without `flatten`. Backward spreads each gradient evenly over its plane,
/// `dx[n, c, h, w] = dy[n, c] / (H·W)`. `// x: (N, C, H, W) -> y: (N, C)`
public struct GlobalAveragePool2D: Layer {
  /// The forward input's shape, for backward.
  private var inputShape: [Int]?

  public init() {}

  public mutating func forward(_ x: Tensor, training: Bool) -> Tensor {
    precondition(x.shape.count == 4, "globalavgpool expects (N, C, H, W), got \(x.shape)")
    let (planes, area) = (x.shape[0] * x.shape[1], x.shape[2] * x.shape[3])
    let scale = 1 / Float(area)
    let means = (0..<planes).map { plane in
      x.scalars[plane * area..<(plane + 1) * area].reduce(0, +) * scale
    }
    inputShape = training ? x.shape : nil
    return Tensor(shape: [x.shape[0], x.shape[1]], scalars: means)
  }

  /// `// dy: (N, C) -> dx: (N, C, H, W)`
  public mutating func backward(_ dy: Tensor, inputGradient: Bool) -> Tensor? {
    guard let shape = inputShape else { preconditionFailure("GlobalAveragePool2D.backward without a training forward pass") }
    precondition(dy.shape == [shape[0], shape[1]], "globalavgpool dy has shape \(dy.shape), expected \([shape[0], shape[1]])")
    let area = shape[2] * shape[3]
    let scale = 1 / Float(area)
    return Tensor(shape: shape, scalars: dy.scalars.flatMap { repeatElement($0 * scale, count: area) })
  }
}

extension GlobalAveragePool2D {
  /// `globalavgpool`: `(C, H, W) -> (C)`, each channel's mean.
  public struct Kind: LayerKind {
    public static let name = "globalavgpool"
    public static var bare: Kind? { Kind() }

    public init() {}

    public func outputShape(forInput shape: [Int]) throws(LayerShapeError) -> [Int] {
      guard shape.count == 3 else { throw LayerShapeError(" needs (C, H, W) input, got \(shape)") }
      return [shape[0]]
    }

    public func makeLayer(inputShape shape: [Int], position: Int, initialization: Initialization, generator: inout SeededGenerator?)
      -> any Layer
    {
      GlobalAveragePool2D()
    }
  }
}

extension LayerSpec {
  public static let globalAveragePool = LayerSpec(GlobalAveragePool2D.Kind())
}
