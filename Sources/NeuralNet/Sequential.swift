import Tensor

/// Layers run in order; the last layer's output is the logits.
///
/// Parameters are named by the layer's position in `spec.layers`, like PyTorch's `nn.Sequential`:
/// `"layer0.weight"` with shape `(in, out)` and `"layer0.bias"` with shape `(out)`; ReLU layers
/// have none, so the seed network 784-10-10 has `layer0.*` and `layer2.*`.
public struct Sequential: Sendable {
  public let spec: ModelSpec
  public let inputSize: Int

  /// Where each position of `spec.layers` lives. Layers are kept in arrays per kind so that
  /// `denses[i].forward(...)` mutates in place; an enum payload or existential would be copied
  /// out and back, and the copy-on-write would duplicate the weights every step.
  private enum Slot: Sendable { case dense(Int), relu(Int) }
  private var slots: [Slot] = []
  private var denses: [Dense] = []
  private var relus: [ReLU] = []

  /// A freshly initialised network; layers draw their parameters from `generator` in order.
  public init(spec: ModelSpec, inputSize: Int, using generator: inout SeededGenerator) {
    self.init(spec: spec, inputSize: inputSize) { inputs, units in
      Dense(inputSize: inputs, outputSize: units, initialization: spec.initialization, using: &generator)
    }
  }

  /// Restores trained parameters by name (as returned by `namedParameters`). Throws
  /// `NeuralNetError` on a missing name or a shape mismatch; names not in the architecture are ignored.
  public init(spec: ModelSpec, inputSize: Int, parameters: [String: Tensor]) throws {
    var position = 0
    try self.init(spec: spec, inputSize: inputSize) { inputs, units in
      defer { position += 1 }
      while case .relu = spec.layers[position] { position += 1 }
      func lookup(_ name: String, _ shape: [Int]) throws -> Tensor {
        guard let value = parameters[name] else { throw NeuralNetError.missingParameter(name: name) }
        guard value.shape == shape else {
          throw NeuralNetError.shapeMismatch(name: name, expected: shape, actual: value.shape)
        }
        return value
      }
      return Dense(
        weight: try lookup("layer\(position).weight", [inputs, units]),
        bias: try lookup("layer\(position).bias", [units]))
    }
  }

  private init(
    spec: ModelSpec, inputSize: Int, makeDense: (_ inputs: Int, _ units: Int) throws -> Dense
  ) rethrows {
    precondition(inputSize > 0, "input size must be positive")
    self.spec = spec
    self.inputSize = inputSize
    var width = inputSize
    for layer in spec.layers {
      switch layer {
      case .dense(let units):
        slots.append(.dense(denses.count))
        denses.append(try makeDense(width, units))
        width = units
      case .relu:
        slots.append(.relu(relus.count))
        relus.append(ReLU())
      }
    }
  }

  /// Width of the logits (the last dense layer's units).
  public var outputSize: Int { denses.last?.outputSize ?? inputSize }

  /// `// x: (N, inputSize) -> logits: (N, outputSize)`. With `training`, layers keep what backward needs.
  public mutating func forward(_ x: Tensor, training: Bool) -> Tensor {
    precondition(x.columns == inputSize, "model expects \(inputSize) input columns, got \(x.shape)")
    var h = x
    for slot in slots {
      switch slot {
      case .dense(let i): h = denses[i].forward(h, training: training)
      case .relu(let i): h = relus[i].forward(h, training: training)
      }
    }
    return h
  }

  /// Backpropagates `dL/dlogits` through the layers in reverse, accumulating parameter
  /// gradients (call `zeroGradients()` first for a fresh step). `dL/dx` of the input is not computed.
  public mutating func backward(_ dLogits: Tensor) {
    var g = dLogits
    for (position, slot) in slots.enumerated().reversed() {
      let isFirst = position == 0
      switch slot {
      case .dense(let i):
        if isFirst { denses[i].accumulateParameterGradients(g) } else { g = denses[i].backward(g) }
      case .relu(let i):
        if !isFirst { g = relus[i].backward(g) }
      }
    }
  }

  public mutating func zeroGradients() {
    for i in denses.indices { denses[i].zeroGradients() }
  }

  /// Parameters in a fixed order: layer by layer, weight `(in, out)` then bias `(out)`.
  public var namedParameters: [(name: String, value: Tensor)] {
    namedPairs { d in (d.weight, d.bias) }
  }

  /// Gradients, named and ordered like `namedParameters`.
  public var namedGradients: [(name: String, value: Tensor)] {
    namedPairs { d in (d.weightGradient, d.biasGradient) }
  }

  private func namedPairs(_ pick: (Dense) -> (Tensor, Tensor)) -> [(name: String, value: Tensor)] {
    var out: [(name: String, value: Tensor)] = []
    for (position, slot) in slots.enumerated() {
      if case .dense(let i) = slot {
        let (w, b) = pick(denses[i])
        out.append(("layer\(position).weight", w))
        out.append(("layer\(position).bias", b))
      }
    }
    return out
  }

  /// Total number of trainable scalars.
  public var parameterCount: Int {
    denses.reduce(0) { $0 + $1.weight.count + $1.bias.count }
  }

  /// Visits every parameter in `namedParameters` order as `(index, &parameter, gradient)`,
  /// updating in place: the hook optimizers use.
  public mutating func updateParameters(_ update: (_ index: Int, _ parameter: inout Tensor, _ gradient: Tensor) -> Void) {
    var index = 0
    for slot in slots {
      if case .dense(let i) = slot {
        denses[i].updateParameters(startingAt: index, update)
        index += 2
      }
    }
  }
}
