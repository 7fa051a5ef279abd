import Tensor

/// A differentiable layer: a forward/backward pair with mirrored signatures.
///
/// `forward` keeps what `backward` needs (only when `training`); `backward` takes `dL/dy`,
/// *accumulates* `dL/dθ` into the layer's gradient buffers and returns `dL/dx`.
public protocol Layer: Sendable {
  mutating func forward(_ x: Tensor, training: Bool) -> Tensor
  mutating func backward(_ dy: Tensor) -> Tensor
}

/// Errors from restoring a model.
public enum NeuralNetError: Error, CustomStringConvertible, Equatable {
  case missingParameter(name: String)
  case shapeMismatch(name: String, expected: [Int], actual: [Int])
  /// The layers do not fit together or the input (see `ModelSpec.outputShape(inputSize:)`).
  case invalidArchitecture(String)

  public var description: String {
    switch self {
    case .missingParameter(let name):
      "model parameters have no \"\(name)\" (does the model file match the architecture?)"
    case .shapeMismatch(let name, let expected, let actual):
      "parameter \"\(name)\" has shape \(actual), the architecture needs \(expected)"
    case .invalidArchitecture(let message):
      "invalid architecture: \(message)"
    }
  }
}
