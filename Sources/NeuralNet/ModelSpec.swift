import Tensor

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
      guard let scalars = scalarCount(inputShape) else {
        throw fail("input_shape \(inputShape) has too many scalars to count, the rows have \(inputSize)")
      }
      guard scalars == inputSize else {
        throw fail("input_shape \(inputShape) has \(scalars) scalars, the rows have \(inputSize)")
      }
      shape = inputShape
    }
    var shapes = [shape]
    for (position, layer) in layers.enumerated() {
      do throws(LayerShapeError) {
        shape = try layer.kind.outputShape(forInput: shape)
        // Every later size is computed from this one: it must be countable without overflow.
        guard scalarCount(shape) != nil else { throw LayerShapeError(" makes rows of shape \(shape), too many scalars to count") }
      } catch {
        throw NeuralNetError.invalidArchitecture("layer \(position) (\(layer.name))\(error.message)")
      }
      shapes.append(shape)
    }
    return shapes
  }
}

/// One layer: a bare string (`relu`, `batchnorm`, `flatten`) or a one-key mapping
/// (`{dense: 800}`, `{conv2d: {filters: 32, kernel: 3, padding: 1, stride: 1}}`,
/// `{maxpool2d: 2}`, `{dropout: 0.25}`). What each kind means, reads and builds is its
/// `LayerKind`, beside the layer in its own file; `registeredKinds` lists them.
public struct LayerSpec: Codable, Sendable, Hashable {
  public let kind: any LayerKind

  public init(_ kind: some LayerKind) { self.kind = kind }

  /// Every kind a pipeline file can name. A new layer kind is its own file and one entry here.
  /// (The order is the one error messages list them in: mappings first, then bare names.)
  public static let registeredKinds: [any LayerKind.Type] = [
    Dense.Kind.self, Conv2D.Kind.self, MaxPool2D.Kind.self, Dropout.Kind.self,
    ReLU.Kind.self, BatchNorm.Kind.self, Flatten.Kind.self, GlobalAveragePool2D.Kind.self,
  ]

  /// The YAML name of the layer kind.
  public var name: String { type(of: kind).name }

  public static func == (a: LayerSpec, b: LayerSpec) -> Bool { AnyHashable(a.kind) == AnyHashable(b.kind) }
  public func hash(into hasher: inout Hasher) { AnyHashable(kind).hash(into: &hasher) }

  private struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  private static var bareKinds: [any LayerKind.Type] { registeredKinds.filter { $0.bare != nil } }
  private static var mappedKinds: [any LayerKind.Type] { registeredKinds.filter { $0.bare == nil } }

  /// "a, b or c"
  private static func list(_ kinds: [any LayerKind.Type]) -> String {
    let names = kinds.map { $0.name }
    return names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
  }

  public init(from decoder: any Decoder) throws {
    if let single = try? decoder.singleValueContainer(), let name = try? single.decode(String.self) {
      guard let kind = Self.bareKinds.first(where: { $0.name == name })?.bare else {
        throw DecodingError.dataCorruptedError(
          in: single,
          debugDescription: "unknown layer \"\(name)\": expected \(Self.bareKinds.map { $0.name }.joined(separator: ", ")) or a mapping like {dense: 800}")
      }
      self.kind = kind
      return
    }
    let keyed = try decoder.container(keyedBy: Key.self)
    guard keyed.allKeys.count == 1, let key = keyed.allKeys.first else {
      throw DecodingError.dataCorrupted(
        .init(
          codingPath: decoder.codingPath,
          debugDescription: "a layer mapping must have exactly one key, like {dense: 800}; got \(keyed.allKeys.map(\.stringValue))"))
    }
    guard let kindType = Self.mappedKinds.first(where: { $0.name == key.stringValue }) else {
      throw DecodingError.dataCorruptedError(
        forKey: key, in: keyed,
        debugDescription: "unknown layer \"\(key.stringValue)\": expected \(Self.list(Self.mappedKinds + Self.bareKinds))")
    }
    kind = try keyed.decode(kindType, forKey: key)
  }

  public func encode(to encoder: any Encoder) throws {
    if type(of: kind).bare != nil {
      var single = encoder.singleValueContainer()
      try single.encode(name)
    } else {
      var keyed = encoder.container(keyedBy: Key.self)
      try keyed.encode(kind, forKey: Key(stringValue: name))
    }
  }
}

/// One kind of layer as a pipeline file names it: the settings it reads (its `Codable` form is
/// the value under its key, `800` in `{dense: 800}`), the shape it makes of its input, and the
/// layer it builds. Each lives beside its layer; `LayerSpec.registeredKinds` lists them.
public protocol LayerKind: Codable, Sendable, Hashable {
  /// The name in a pipeline file: `dense`, `relu`, ...
  static var name: String { get }
  /// The layer when written as its bare name (`relu`); nil (the default) for kinds written as a
  /// mapping with settings.
  static var bare: Self? { get }
  /// The per-row shape this layer makes of `shape`, or why it cannot take it.
  func outputShape(forInput shape: [Int]) throws(LayerShapeError) -> [Int]
  /// A new layer for input rows of `shape`, at `position` in its model, drawing its initial state
  /// from `generator`; without one (a model about to be restored), zero weights and dropout
  /// streams seeded by position.
  func makeLayer(inputShape shape: [Int], position: Int, initialization: Initialization, generator: inout SeededGenerator?)
    -> any Layer
  /// What the layer would hold while training on rows of `shape`, counted without building it
  /// (`TrainingMemory`); by default no parameters and its output kept for backward.
  func trainingFootprint(forInput shape: [Int]) -> LayerFootprint
}

extension LayerKind {
  public static var bare: Self? { nil }
}

/// A kind written as one value under its key (`{dense: 800}`, `{maxpool2d: 2}`, `{dropout: 0.25}`):
/// its `Codable` form is that value, checked by `problem(with:)`.
public protocol SingleSettingKind: LayerKind {
  associatedtype Setting: Codable & Hashable & Sendable
  var setting: Setting { get }
  init(setting: Setting)
  /// Why `setting` is not allowed ("dense units must be positive, got 0"); nil when it is.
  static func problem(with setting: Setting) -> String?
}

extension SingleSettingKind {
  public init(from decoder: any Decoder) throws {
    let single = try decoder.singleValueContainer()
    let setting = try single.decode(Setting.self)
    if let problem = Self.problem(with: setting) {
      throw DecodingError.dataCorruptedError(in: single, debugDescription: problem)
    }
    self.init(setting: setting)
  }

  public func encode(to encoder: any Encoder) throws {
    var single = encoder.singleValueContainer()
    try single.encode(setting)
  }
}

/// Why a layer does not fit its input, as the end of a sentence that names the layer
/// (" needs flat input, got [32, 7, 7]; add flatten before it").
public struct LayerShapeError: Error {
  public var message: String
  public init(_ message: String) { self.message = message }
}

/// The number of scalars in a row of `shape`, or nil when it would overflow an `Int` (a pipeline
/// file can ask for `filters: 100000000000000000`; a shape rule must not trap on it).
func scalarCount(_ shape: [Int]) -> Int? {
  var count = 1
  for extent in shape {
    let (product, overflow) = count.multipliedReportingOverflow(by: extent)
    guard !overflow else { return nil }
    count = product
  }
  return count
}

/// The value of a layer setting that must be positive, or a decoding error that says so.
func positive(_ value: Int, _ what: String, codingPath: [any CodingKey]) throws -> Int {
  guard value > 0 else {
    throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(what) must be positive, got \(value)"))
  }
  return value
}
