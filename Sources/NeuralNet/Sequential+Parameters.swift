import Tensor

// MARK: - A network's state by name: restoring, the optimizers' walk, replicas' gradients

extension Sequential {
  /// Restores trained parameters and buffers by name (as returned by `namedParameters`). Throws
  /// `NeuralNetError` on a missing name, a shape mismatch or layers that do not fit the input;
  /// names not in the architecture are ignored. Dropout layers of a restored model seed their
  /// mask streams from their position (restored models are normally only used for inference).
  public init(spec: ModelSpec, inputSize: Int, parameters: [String: Tensor]) throws {
    var none: SeededGenerator? = nil
    try self.init(spec: spec, inputSize: inputSize, drawingFrom: &none)
    func lookup(_ name: String, _ shape: [Int]) throws -> Tensor {
      guard let value = parameters[name] else { throw NeuralNetError.missingParameter(name: name) }
      guard value.shape == shape else {
        throw NeuralNetError.shapeMismatch(name: name, expected: shape, actual: value.shape)
      }
      return value
    }
    for position in layers.indices {
      let prefix = "layer\(position)."
      for j in layers[position].parameters.indices {
        let parameter = layers[position].parameters[j]
        layers[position].parameters[j].value = try lookup(prefix + parameter.name, parameter.value.shape)
      }
      for j in layers[position].buffers.indices {
        let buffer = layers[position].buffers[j]
        layers[position].buffers[j].value = try lookup(prefix + buffer.name, buffer.value.shape)
      }
      layers[position].parametersChanged()
    }
  }

  /// Adds another replica's accumulated gradients to this model's: data-parallel training runs
  /// forward/backward on a share of the rows in each replica, then sums them here, in a fixed
  /// order so the result does not depend on which replica finished first.
  public mutating func addGradients(from other: Sequential) {
    precondition(other.spec == spec && other.inputSize == inputSize, "replicas must share the architecture")
    for i in layers.indices {
      let theirs = other.layers[i].parameters
      for j in theirs.indices { axpy(1, theirs[j].gradient, &layers[i].parameters[j].gradient) }
    }
  }

  public mutating func zeroGradients() {
    for i in layers.indices { layers[i].zeroGradients() }
  }

  /// Everything a saved model needs, in a fixed order, layer by layer: its parameters (weight
  /// then bias: dense `(in, out)`/`(out)`, conv `(F, C, k, k)`/`(F)`, batch norm γ/β `(C)`), then
  /// its buffers (a batch norm's `running_mean`, `running_var`). Pass it to
  /// `init(spec:inputSize:parameters:)` to restore the model. Optimizers use
  /// `namedTrainableParameters`, which leaves the buffers out.
  public var namedParameters: [(name: String, value: Tensor)] {
    layers.enumerated().flatMap { position, layer in
      layer.parameters.map { ("layer\(position).\($0.name)", $0.value) }
        + layer.buffers.map { ("layer\(position).\($0.name)", $0.value) }
    }
  }

  /// The parameters optimizers update (`namedParameters` without the batch-norm buffers), in
  /// the order `updateParameters` visits them.
  public var namedTrainableParameters: [(name: String, value: Tensor)] {
    layers.enumerated().flatMap { position, layer in layer.parameters.map { ("layer\(position).\($0.name)", $0.value) } }
  }

  /// The batch-norm running statistics: state that is saved but has no gradient.
  public var namedBuffers: [(name: String, value: Tensor)] {
    layers.enumerated().flatMap { position, layer in layer.buffers.map { ("layer\(position).\($0.name)", $0.value) } }
  }

  /// Gradients, named and ordered like `namedTrainableParameters`.
  public var namedGradients: [(name: String, value: Tensor)] {
    layers.enumerated().flatMap { position, layer in layer.parameters.map { ("layer\(position).\($0.name)", $0.gradient) } }
  }

  /// Total number of trainable scalars (buffers not counted).
  public var parameterCount: Int {
    layers.reduce(0) { total, layer in layer.parameters.reduce(total) { $0 + $1.value.count } }
  }

  /// Visits every trainable parameter in `namedTrainableParameters` order as
  /// `(index, &parameter, gradient)`, updating in place: the hook optimizers use.
  public mutating func updateParameters(_ update: (_ index: Int, _ parameter: inout Tensor, _ gradient: Tensor) -> Void) {
    var index = 0
    for i in layers.indices where !layers[i].parameters.isEmpty {
      for j in layers[i].parameters.indices {
        let gradient = layers[i].parameters[j].gradient
        update(index, &layers[i].parameters[j].value, gradient)
        index += 1
      }
      layers[i].parametersChanged()
    }
  }
}
