/// A network architecture as written in the pipeline's YAML:
///
///     model:
///       init: uniform
///       layers: [{dense: 10}, relu, {dense: 10}]
///
/// Encoding is deterministic (the pipeline fingerprints it with sorted keys) and round-trips.
public struct ModelSpec: Codable, Sendable, Hashable {
  public var layers: [LayerSpec]
  public var initialization: Initialization

  public init(layers: [LayerSpec], initialization: Initialization) {
    self.layers = layers
    self.initialization = initialization
  }

  enum CodingKeys: String, CodingKey {
    case layers
    case initialization = "init"
  }

  /// The seed network of the original numpy notebook: 784 → 10 → ReLU → 10, uniform init.
  public static let seedNetwork = ModelSpec(
    layers: [.dense(units: 10), .relu, .dense(units: 10)], initialization: .uniform)
}

/// One layer: a bare string (`relu`) or a one-key mapping (`{dense: 800}`).
public enum LayerSpec: Codable, Sendable, Hashable {
  /// Fully connected, `y = x·W + b`, with `units` outputs.
  case dense(units: Int)
  /// `y = max(x, 0)`.
  case relu

  private struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  public init(from decoder: any Decoder) throws {
    if let single = try? decoder.singleValueContainer(), let name = try? single.decode(String.self) {
      guard name == "relu" else {
        throw DecodingError.dataCorruptedError(
          in: single,
          debugDescription: "unknown layer \"\(name)\": expected \"relu\" or a mapping like {dense: 800}")
      }
      self = .relu
      return
    }
    let keyed = try decoder.container(keyedBy: Key.self)
    guard keyed.allKeys.count == 1, let key = keyed.allKeys.first else {
      throw DecodingError.dataCorrupted(
        .init(
          codingPath: decoder.codingPath,
          debugDescription: "a layer mapping must have exactly one key, like {dense: 800}; got \(keyed.allKeys.map(\.stringValue))"))
    }
    switch key.stringValue {
    case "dense":
      let units = try keyed.decode(Int.self, forKey: key)
      guard units > 0 else {
        throw DecodingError.dataCorruptedError(
          forKey: key, in: keyed, debugDescription: "dense needs a positive number of units, got \(units)")
      }
      self = .dense(units: units)
    default:
      throw DecodingError.dataCorruptedError(
        forKey: key, in: keyed, debugDescription: "unknown layer \"\(key.stringValue)\": expected dense or relu")
    }
  }

  public func encode(to encoder: any Encoder) throws {
    switch self {
    case .relu:
      var single = encoder.singleValueContainer()
      try single.encode("relu")
    case .dense(let units):
      var keyed = encoder.container(keyedBy: Key.self)
      try keyed.encode(units, forKey: Key(stringValue: "dense"))
    }
  }
}

/// How `Sequential(spec:inputSize:using:)` draws the initial parameters.
public enum Initialization: String, Codable, Sendable, Hashable {
  /// Kaiming-uniform for ReLU (`torch.nn.init.kaiming_uniform_` with `a = 0`):
  /// `W ~ U(-√(6/fan_in), √(6/fan_in))`, biases zero.
  case he
  /// Weights and biases `~ U[-0.5, 0.5)`: the numpy notebook's `np.random.rand(..) - 0.5`.
  case uniform
}
