import Tensor

/// 2-D convolution over NCHW images (PyTorch's `nn.Conv2d`, cross-correlation, zero padding):
///
///     y[n, f, oh, ow] = b[f] + Σ_{c,i,j} W[f, c, i, j] · x[n, c, oh·s − p + i, ow·s − p + j]
///
/// `// x: (N, C, H, W), W: (F, C, k, k), b: (F) -> y: (N, F, Ho, Wo)`, `Ho = ⌊(H + 2p − k)/s⌋ + 1`.
/// The weight layout is PyTorch's, so a `Conv2d.weight` loads unchanged. Runs as im2col + SGEMM
/// per image, the images split over the BLAS thread count (see `conv2d` in Tensor).
public struct Conv2D: Layer {
  /// `weight` `(F, C, k, k)` and `bias` `(F)`.
  public var parameters: [Parameter]
  public let padding: Int
  public let stride: Int
  /// Apply `max(·, 0)` to the output in the same pass (and mask dy by it in backward): how
  /// `Sequential` runs a convolution that is followed by a ReLU layer. Off by default.
  public var fusedReLU = false
  /// The forward input, kept for `dW` (its patches are rebuilt in backward rather than stored),
  /// and with `fusedReLU` the output, for the mask.
  private var input: Tensor?
  private var output: Tensor?

  public var weight: Tensor {  // (F, C, k, k)
    get { parameters[0].value }
    set { parameters[0].value = newValue }
  }
  public var bias: Tensor {  // (F)
    get { parameters[1].value }
    set { parameters[1].value = newValue }
  }
  /// dL/dW accumulated, `(F, C, k, k)`.
  public var weightGradient: Tensor { parameters[0].gradient }
  /// dL/db accumulated, `(F)`.
  public var biasGradient: Tensor { parameters[1].gradient }

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
    parameters = [Parameter("weight", weight), Parameter("bias", bias)]
    self.padding = padding
    self.stride = stride
  }

  /// Draws W (row-major over `(F, C, k, k)`), then b, from `generator` (see `Initialization`),
  /// with `fan_in = C·k·k`.
  public init(
    inputChannels: Int, filters: Int, kernel: Int, padding: Int, stride: Int,
    initialization: Initialization, using generator: inout SeededGenerator
  ) {
    let (w, b) = initialization.draw(
      weightShape: [filters, inputChannels, kernel, kernel], biases: filters, fanIn: inputChannels * kernel * kernel,
      using: &generator)
    self.init(weight: w, bias: b, padding: padding, stride: stride)
  }

  /// `// x: (N, C, H, W) -> y: (N, F, Ho, Wo)` (`max(y, 0)` with `fusedReLU`)
  public mutating func forward(_ x: Tensor, training: Bool) -> Tensor {
    let y = conv2d(x, weight: weight, bias: bias, padding: padding, stride: stride, fusedReLU: fusedReLU)
    input = training ? x : nil
    output = training && fusedReLU ? y : nil
    return y
  }

  /// Accumulates `dW`, `db`; returns `dx`. `// dy: (N, F, Ho, Wo) -> dx: (N, C, H, W)`
  public mutating func backward(_ dy: Tensor, inputGradient: Bool) -> Tensor? {
    guard let x = input else { preconditionFailure("Conv2D.backward without a training forward pass") }
    let (weight, padding, stride, output) = (weight, padding, stride, output)
    return accumulatingWeightAndBiasGradients { dW, db in
      conv2dBackward(
        dy, input: x, weight: weight, padding: padding, stride: stride, reluOutput: output,
        weightGradient: &dW, biasGradient: &db, inputGradient: inputGradient)
    }
  }

  /// The output shape for one `(C, H, W)` image.
  public func outputShape(forInput shape: [Int]) -> [Int] {
    let g = WindowGeometry(
      channels: shape[0], height: shape[1], width: shape[2], kernel: kernel, padding: padding, stride: stride)
    return [filters, g.outputHeight, g.outputWidth]
  }
}

extension Conv2D {
  /// `{conv2d: {filters: 32, kernel: 3}}`: `filters` output channels, a `kernel × kernel` window;
  /// `padding` defaults to `kernel / 2` ("same" size for odd kernels at stride 1) and `stride`
  /// to 1. Needs `(C, H, W)` input.
  public struct Kind: LayerKind {
    public static let name = "conv2d"
    public var filters: Int
    public var kernel: Int
    public var padding: Int
    public var stride: Int

    public init(filters: Int, kernel: Int, padding: Int, stride: Int) {
      (self.filters, self.kernel, self.padding, self.stride) = (filters, kernel, padding, stride)
    }

    private struct Key: CodingKey {
      var stringValue: String
      var intValue: Int? { nil }
      init(stringValue: String) { self.stringValue = stringValue }
      init?(intValue: Int) { nil }
    }
    private static let keys = ["filters", "kernel", "padding", "stride"]

    public init(from decoder: any Decoder) throws {
      let options = try decoder.container(keyedBy: Key.self)
      let unknown = options.allKeys.map(\.stringValue).filter { !Self.keys.contains($0) }
      guard unknown.isEmpty else {
        throw DecodingError.dataCorrupted(
          .init(
            codingPath: decoder.codingPath,
            debugDescription: "conv2d has unknown keys \(unknown.sorted()); expected filters, kernel, padding, stride"))
      }
      let (filtersKey, kernelKey) = (Key(stringValue: "filters"), Key(stringValue: "kernel"))
      let (paddingKey, strideKey) = (Key(stringValue: "padding"), Key(stringValue: "stride"))
      let path = decoder.codingPath
      filters = try positive(options.decode(Int.self, forKey: filtersKey), "conv2d filters", codingPath: path + [filtersKey])
      kernel = try positive(options.decode(Int.self, forKey: kernelKey), "conv2d kernel", codingPath: path + [kernelKey])
      padding = try options.decodeIfPresent(Int.self, forKey: paddingKey) ?? kernel / 2
      guard padding >= 0 else {
        throw DecodingError.dataCorruptedError(forKey: paddingKey, in: options, debugDescription: "conv2d padding must be ≥ 0, got \(padding)")
      }
      stride = try positive(options.decodeIfPresent(Int.self, forKey: strideKey) ?? 1, "conv2d stride", codingPath: path + [strideKey])
    }

    /// Every key written, defaults included: one canonical form per layer for fingerprints.
    public func encode(to encoder: any Encoder) throws {
      var options = encoder.container(keyedBy: Key.self)
      try options.encode(filters, forKey: Key(stringValue: "filters"))
      try options.encode(kernel, forKey: Key(stringValue: "kernel"))
      try options.encode(padding, forKey: Key(stringValue: "padding"))
      try options.encode(stride, forKey: Key(stringValue: "stride"))
    }

    public func outputShape(forInput shape: [Int]) throws(LayerShapeError) -> [Int] {
      guard shape.count == 3 else { throw LayerShapeError(" needs (C, H, W) input, got \(shape); set input_shape") }
      // The padded extent minus the kernel, checked: a pipeline file can write any Int here.
      func span(_ extent: Int) throws(LayerShapeError) -> Int {
        let (doubled, o1) = padding.multipliedReportingOverflow(by: 2)
        let (padded, o2) = extent.addingReportingOverflow(doubled)
        guard !o1 && !o2 else { throw LayerShapeError(": padding \(padding) is too large") }
        return padded - kernel
      }
      let (h, w) = (try span(shape[1]), try span(shape[2]))
      guard h >= 0 && w >= 0 else { throw LayerShapeError(": kernel \(kernel) with padding \(padding) does not fit \(shape)") }
      return [filters, h / stride + 1, w / stride + 1]
    }

    /// W `(F, C, k, k)` and b; the output kept. The patches are rebuilt in backward, not kept:
    /// the workspace is backward's partial dW and db for each of up to 16 runs of images, and a
    /// patch matrix and its gradient `(C·k·k, Ho·Wo)` for each of up to 16 runs under way.
    public func trainingFootprint(forInput shape: [Int]) -> LayerFootprint {
      let output = (try? outputShape(forInput: shape)) ?? [0, 0, 0]
      let weights = Double(filters) * Double(shape[0]) * Double(kernel) * Double(kernel) + Double(filters)
      let patches = Double(shape[0]) * Double(kernel) * Double(kernel) * Double(output[1]) * Double(output[2])
      let runs = Double(min(16, Workers.count))
      return LayerFootprint(
        parameters: weights, keptPerRow: Double(output[0]) * Double(output[1]) * Double(output[2]),
        workspace: 16 * weights + runs * 2 * patches)
    }

    public func makeLayer(inputShape shape: [Int], position: Int, initialization: Initialization, generator: inout SeededGenerator?)
      -> any Layer
    {
      guard generator != nil else {
        return Conv2D(
          weight: Tensor(zeros: [filters, shape[0], kernel, kernel]), bias: Tensor(zeros: [filters]), padding: padding,
          stride: stride)
      }
      return Conv2D(
        inputChannels: shape[0], filters: filters, kernel: kernel, padding: padding, stride: stride,
        initialization: initialization, using: &generator!)
    }
  }
}

extension LayerSpec {
  public static func conv2d(filters: Int, kernel: Int, padding: Int, stride: Int) -> LayerSpec {
    LayerSpec(Conv2D.Kind(filters: filters, kernel: kernel, padding: padding, stride: stride))
  }

  /// A convolution with the default "same" padding `kernel / 2` and stride 1.
  public static func conv2d(filters: Int, kernel: Int) -> LayerSpec {
    .conv2d(filters: filters, kernel: kernel, padding: kernel / 2, stride: 1)
  }
}
