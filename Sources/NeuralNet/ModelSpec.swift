/// A network architecture as written in the pipeline's YAML:
///
///     model:
///       init: uniform
///       layers: [{dense: 10}, relu, {dense: 10}]
///
/// A convolutional network says how to read its input rows as images with `input_shape`
/// (`[C, H, W]`, whose product must be the row width; absent = flat rows):
///
///     model:
///       init: he
///       input_shape: [1, 28, 28]
///       layers: [{conv2d: {filters: 32, kernel: 3}}, relu, batchnorm, {maxpool2d: 2},
///                {dropout: 0.25}, flatten, {dense: 10}]
///
/// `input_shape` is a property of the model rather than a layer, so layer positions (and so the
/// parameter names `layer<i>.*`) are the same as in the equivalent PyTorch `nn.Sequential`.
/// Encoding is deterministic (the pipeline fingerprints it with sorted keys) and round-trips;
/// an absent `input_shape` is not written, so flat models encode exactly as before.
public struct ModelSpec: Codable, Sendable, Hashable {
  public var layers: [LayerSpec]
  public var initialization: Initialization
  /// Per-row shape `[C, H, W]` (or any shape) the model sees; nil = flat rows `[inputSize]`.
  public var inputShape: [Int]?

  public init(layers: [LayerSpec], initialization: Initialization) {
    self.layers = layers
    self.initialization = initialization
  }

  public init(inputShape: [Int]?, layers: [LayerSpec], initialization: Initialization) {
    self.layers = layers
    self.initialization = initialization
    self.inputShape = inputShape
  }

  enum CodingKeys: String, CodingKey {
    case layers
    case initialization = "init"
    case inputShape = "input_shape"
  }

  /// The seed network of the original numpy notebook: 784 → 10 → ReLU → 10, uniform init.
  public static let seedNetwork = ModelSpec(
    layers: [.dense(units: 10), .relu, .dense(units: 10)], initialization: .uniform)

  /// The per-row output shape for rows of `inputSize` scalars (`[10]` for a classifier), or
  /// `NeuralNetError.invalidArchitecture` saying which layer does not fit (a dense layer on images
  /// without `flatten`, a kernel larger than its input, an `input_shape` of the wrong size, ...).
  public func outputShape(inputSize: Int) throws -> [Int] {
    try layerInputShapes(inputSize: inputSize).last!
  }

  /// The per-row shape entering each layer, then the output shape (`layers.count + 1` entries).
  func layerInputShapes(inputSize: Int) throws -> [[Int]] {
    func fail(_ message: String) -> NeuralNetError { .invalidArchitecture(message) }
    var shape = [inputSize]
    if let inputShape {
      guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }) else {
        throw fail("input_shape \(inputShape) must be non-empty with positive extents")
      }
      guard inputShape.reduce(1, *) == inputSize else {
        throw fail("input_shape \(inputShape) has \(inputShape.reduce(1, *)) scalars, the rows have \(inputSize)")
      }
      shape = inputShape
    }
    var shapes = [shape]
    for (position, layer) in layers.enumerated() {
      let name = "layer \(position) (\(layer.name))"
      switch layer {
      case .dense(let units):
        guard shape.count == 1 else { throw fail("\(name) needs flat input, got \(shape); add flatten before it") }
        shape = [units]
      case .relu, .dropout, .batchNorm:
        break
      case .conv2d(let filters, let kernel, let padding, let stride):
        guard shape.count == 3 else { throw fail("\(name) needs (C, H, W) input, got \(shape); set input_shape") }
        let (h, w) = (shape[1] + 2 * padding - kernel, shape[2] + 2 * padding - kernel)
        guard h >= 0 && w >= 0 else { throw fail("\(name): kernel \(kernel) with padding \(padding) does not fit \(shape)") }
        shape = [filters, h / stride + 1, w / stride + 1]
      case .maxPool2d(let size):
        guard shape.count == 3 else { throw fail("\(name) needs (C, H, W) input, got \(shape)") }
        guard shape[1] >= size && shape[2] >= size else { throw fail("\(name): window \(size) does not fit \(shape)") }
        shape = [shape[0], shape[1] / size, shape[2] / size]
      case .flatten:
        shape = [shape.reduce(1, *)]
      }
      shapes.append(shape)
    }
    return shapes
  }
}

/// One layer: a bare string (`relu`, `batchnorm`, `flatten`) or a one-key mapping
/// (`{dense: 800}`, `{conv2d: {filters: 32, kernel: 3, padding: 1, stride: 1}}`,
/// `{maxpool2d: 2}`, `{dropout: 0.25}`).
public enum LayerSpec: Codable, Sendable, Hashable {
  /// Fully connected, `y = x·W + b`, with `units` outputs. Needs flat input.
  case dense(units: Int)
  /// `y = max(x, 0)`.
  case relu
  /// 2-D convolution with `filters` output channels and a `kernel × kernel` window
  /// (`Conv2D`). YAML `{conv2d: {filters: 32, kernel: 3}}`; `padding` defaults to `kernel / 2`
  /// ("same" size for odd kernels at stride 1) and `stride` to 1. Needs `(C, H, W)` input.
  case conv2d(filters: Int, kernel: Int, padding: Int, stride: Int)
  /// Max pooling with window = stride = `size` (`MaxPool2D`). YAML `{maxpool2d: 2}`.
  case maxPool2d(size: Int)
  /// Batch normalisation over channels (`BatchNorm`): BatchNorm2d on images, BatchNorm1d on rows.
  case batchNorm
  /// Inverted dropout with drop probability `rate` in [0, 1) (`Dropout`). YAML `{dropout: 0.25}`.
  case dropout(rate: Float)
  /// `(C, H, W) -> (C·H·W)` (`Flatten`).
  case flatten

  /// A convolution with the default "same" padding `kernel / 2` and stride 1.
  public static func conv2d(filters: Int, kernel: Int) -> LayerSpec {
    .conv2d(filters: filters, kernel: kernel, padding: kernel / 2, stride: 1)
  }

  /// The YAML name of the layer kind.
  public var name: String {
    switch self {
    case .dense: "dense"
    case .relu: "relu"
    case .conv2d: "conv2d"
    case .maxPool2d: "maxpool2d"
    case .batchNorm: "batchnorm"
    case .dropout: "dropout"
    case .flatten: "flatten"
    }
  }

  private struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  private static let bareNames: [String: LayerSpec] = ["relu": .relu, "batchnorm": .batchNorm, "flatten": .flatten]
  private static let convolutionKeys: Set<String> = ["filters", "kernel", "padding", "stride"]

  public init(from decoder: any Decoder) throws {
    if let single = try? decoder.singleValueContainer(), let name = try? single.decode(String.self) {
      guard let layer = Self.bareNames[name] else {
        throw DecodingError.dataCorruptedError(
          in: single,
          debugDescription: "unknown layer \"\(name)\": expected relu, batchnorm, flatten or a mapping like {dense: 800}")
      }
      self = layer
      return
    }
    let keyed = try decoder.container(keyedBy: Key.self)
    guard keyed.allKeys.count == 1, let key = keyed.allKeys.first else {
      throw DecodingError.dataCorrupted(
        .init(
          codingPath: decoder.codingPath,
          debugDescription: "a layer mapping must have exactly one key, like {dense: 800}; got \(keyed.allKeys.map(\.stringValue))"))
    }
    func positive(_ value: Int, _ what: String, in container: KeyedDecodingContainer<Key>, key: Key) throws -> Int {
      guard value > 0 else {
        throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "\(what) must be positive, got \(value)")
      }
      return value
    }
    switch key.stringValue {
    case "dense":
      let units = try keyed.decode(Int.self, forKey: key)
      self = .dense(units: try positive(units, "dense units", in: keyed, key: key))
    case "conv2d":
      let options = try keyed.nestedContainer(keyedBy: Key.self, forKey: key)
      let unknown = options.allKeys.map(\.stringValue).filter { !Self.convolutionKeys.contains($0) }
      guard unknown.isEmpty else {
        throw DecodingError.dataCorruptedError(
          forKey: key, in: keyed, debugDescription: "conv2d has unknown keys \(unknown.sorted()); expected filters, kernel, padding, stride")
      }
      let (filtersKey, kernelKey) = (Key(stringValue: "filters"), Key(stringValue: "kernel"))
      let (paddingKey, strideKey) = (Key(stringValue: "padding"), Key(stringValue: "stride"))
      let filters = try positive(options.decode(Int.self, forKey: filtersKey), "conv2d filters", in: options, key: filtersKey)
      let kernel = try positive(options.decode(Int.self, forKey: kernelKey), "conv2d kernel", in: options, key: kernelKey)
      let padding = try options.decodeIfPresent(Int.self, forKey: paddingKey) ?? kernel / 2
      guard padding >= 0 else {
        throw DecodingError.dataCorruptedError(forKey: paddingKey, in: options, debugDescription: "conv2d padding must be ≥ 0, got \(padding)")
      }
      let stride = try positive(options.decodeIfPresent(Int.self, forKey: strideKey) ?? 1, "conv2d stride", in: options, key: strideKey)
      self = .conv2d(filters: filters, kernel: kernel, padding: padding, stride: stride)
    case "maxpool2d":
      self = .maxPool2d(size: try positive(keyed.decode(Int.self, forKey: key), "maxpool2d size", in: keyed, key: key))
    case "dropout":
      let rate = try keyed.decode(Float.self, forKey: key)
      guard rate >= 0 && rate < 1 else {
        throw DecodingError.dataCorruptedError(forKey: key, in: keyed, debugDescription: "dropout rate must be in [0, 1), got \(rate)")
      }
      self = .dropout(rate: rate)
    default:
      throw DecodingError.dataCorruptedError(
        forKey: key, in: keyed,
        debugDescription: "unknown layer \"\(key.stringValue)\": expected dense, conv2d, maxpool2d, dropout, relu, batchnorm or flatten")
    }
  }

  public func encode(to encoder: any Encoder) throws {
    switch self {
    case .relu, .batchNorm, .flatten:
      var single = encoder.singleValueContainer()
      try single.encode(name)
    case .dense(let units):
      var keyed = encoder.container(keyedBy: Key.self)
      try keyed.encode(units, forKey: Key(stringValue: name))
    case .conv2d(let filters, let kernel, let padding, let stride):
      // Every key written, defaults included: one canonical form per layer for fingerprints.
      var keyed = encoder.container(keyedBy: Key.self)
      var options = keyed.nestedContainer(keyedBy: Key.self, forKey: Key(stringValue: name))
      try options.encode(filters, forKey: Key(stringValue: "filters"))
      try options.encode(kernel, forKey: Key(stringValue: "kernel"))
      try options.encode(padding, forKey: Key(stringValue: "padding"))
      try options.encode(stride, forKey: Key(stringValue: "stride"))
    case .maxPool2d(let size):
      var keyed = encoder.container(keyedBy: Key.self)
      try keyed.encode(size, forKey: Key(stringValue: name))
    case .dropout(let rate):
      var keyed = encoder.container(keyedBy: Key.self)
      try keyed.encode(rate, forKey: Key(stringValue: name))
    }
  }
}
