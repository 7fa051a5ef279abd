import Tensor

/// Layers run in order; the last layer's output is the logits.
///
/// Parameters are named by the layer's position in `spec.layers`, like PyTorch's `nn.Sequential`:
/// `"layer0.weight"` with shape `(in, out)` and `"layer0.bias"` with shape `(out)`; ReLU layers
/// have none, so the seed network 784-10-10 has `layer0.*` and `layer2.*`. A convolution has
/// `layer<i>.weight` `(F, C, k, k)` and `layer<i>.bias` `(F)`; a batch norm has `layer<i>.weight`
/// (γ) and `layer<i>.bias` (β), both `(C)`, plus the buffers `layer<i>.running_mean` and
/// `layer<i>.running_var` `(C)`. Pooling, dropout, flatten and ReLU have none.
///
/// Three views of that state:
/// - `namedParameters`: everything a saved model needs (trainable parameters *and* buffers), the
///   input of `init(spec:inputSize:parameters:)`;
/// - `namedTrainableParameters` / `namedGradients` / `updateParameters`: what optimizers see;
/// - `namedBuffers`: the running statistics, updated by training forwards, not by optimizers.
///
/// Two things are done for speed, invisibly to results: a convolution directly followed by a
/// ReLU runs as one fused pass (`Conv2D.fusedReLU`, bit-identical), and the kernels split their
/// work over `Workers.count` threads themselves (OpenBLAS stays on the calling thread).
public struct Sequential: Sendable {
  public let spec: ModelSpec
  public let inputSize: Int

  /// Where each position of `spec.layers` lives. Layers are kept in arrays per kind so that
  /// `denses[i].forward(...)` mutates in place; an enum payload or existential would be copied
  /// out and back, and the copy-on-write would duplicate the weights every step.
  private enum Slot: Sendable {
    case dense(Int), relu(Int), conv(Int), pool(Int), norm(Int), dropout(Int), flatten(Int)
    /// A ReLU computed by the convolution before it (`Conv2D.fusedReLU`): passes values through.
    case fusedReLU

    var hasParameters: Bool {
      switch self {
      case .dense, .conv, .norm: true
      case .relu, .pool, .dropout, .flatten, .fusedReLU: false
      }
    }
  }
  private var slots: [Slot] = []
  private var denses: [Dense] = []
  private var relus: [ReLU] = []
  private var convs: [Conv2D] = []
  private var pools: [MaxPool2D] = []
  private var norms: [BatchNorm] = []
  private var dropouts: [Dropout] = []
  private var flattens: [Flatten] = []
  /// Per-row shape of the logits.
  private var finalShape: [Int] = []

  /// A freshly initialised network; layers draw from `generator` in order: dense and conv layers
  /// their weights then biases, dropout layers one 64-bit seed for their own mask stream (see
  /// `Dropout`). Batch norms start at γ = 1, β = 0 and draw nothing.
  /// Traps if the layers do not fit the input; check with `ModelSpec.outputShape(inputSize:)`.
  public init(spec: ModelSpec, inputSize: Int, using generator: inout SeededGenerator) {
    let initialization = spec.initialization
    do {
      try self.init(
        spec: spec, inputSize: inputSize,
        makeDense: { _, inputs, units in
          Dense(inputSize: inputs, outputSize: units, initialization: initialization, using: &generator)
        },
        makeConv: { _, channels, filters, kernel, padding, stride in
          Conv2D(
            inputChannels: channels, filters: filters, kernel: kernel, padding: padding, stride: stride,
            initialization: initialization, using: &generator)
        },
        makeNorm: { _, channels in BatchNorm(channels: channels) },
        makeDropout: { _, rate in Dropout(rate: rate, generator: SeededGenerator(seed: generator.next())) })
    } catch {
      preconditionFailure("\(error)")
    }
  }

  /// Restores trained parameters and buffers by name (as returned by `namedParameters`). Throws
  /// `NeuralNetError` on a missing name, a shape mismatch or layers that do not fit the input;
  /// names not in the architecture are ignored. Dropout layers of a restored model seed their
  /// mask streams from their position (restored models are normally only used for inference).
  public init(spec: ModelSpec, inputSize: Int, parameters: [String: Tensor]) throws {
    func lookup(_ name: String, _ shape: [Int]) throws -> Tensor {
      guard let value = parameters[name] else { throw NeuralNetError.missingParameter(name: name) }
      guard value.shape == shape else {
        throw NeuralNetError.shapeMismatch(name: name, expected: shape, actual: value.shape)
      }
      return value
    }
    try self.init(
      spec: spec, inputSize: inputSize,
        makeDense: { position, inputs, units in
          Dense(
            weight: try lookup("layer\(position).weight", [inputs, units]),
            bias: try lookup("layer\(position).bias", [units]))
        },
        makeConv: { position, channels, filters, kernel, padding, stride in
          Conv2D(
            weight: try lookup("layer\(position).weight", [filters, channels, kernel, kernel]),
            bias: try lookup("layer\(position).bias", [filters]), padding: padding, stride: stride)
        },
        makeNorm: { position, channels in
          BatchNorm(
            weight: try lookup("layer\(position).weight", [channels]),
            bias: try lookup("layer\(position).bias", [channels]),
            runningMean: try lookup("layer\(position).running_mean", [channels]),
            runningVariance: try lookup("layer\(position).running_var", [channels]))
        },
        makeDropout: { position, rate in Dropout(rate: rate, generator: SeededGenerator(seed: UInt64(position))) })
  }

  /// Builds the layers; the closures make the ones that hold state (positions are in `spec.layers`).
  private init(
    spec: ModelSpec, inputSize: Int,
    makeDense: (_ position: Int, _ inputs: Int, _ units: Int) throws -> Dense,
    makeConv: (_ position: Int, _ channels: Int, _ filters: Int, _ kernel: Int, _ padding: Int, _ stride: Int) throws -> Conv2D,
    makeNorm: (_ position: Int, _ channels: Int) throws -> BatchNorm,
    makeDropout: (_ position: Int, _ rate: Float) -> Dropout
  ) throws {
    precondition(inputSize > 0, "input size must be positive")
    self.spec = spec
    self.inputSize = inputSize
    let shapes = try spec.layerInputShapes(inputSize: inputSize)
    for (position, layer) in spec.layers.enumerated() {
      let shape = shapes[position]
      switch layer {
      case .dense(let units):
        slots.append(.dense(denses.count))
        denses.append(try makeDense(position, shape[0], units))
      case .relu:
        if case .conv(let i) = slots.last {
          // Conv → ReLU: one pass over the output instead of two (same values, bit for bit).
          convs[i].fusedReLU = true
          slots.append(.fusedReLU)
        } else {
          slots.append(.relu(relus.count))
          relus.append(ReLU())
        }
      case .conv2d(let filters, let kernel, let padding, let stride):
        slots.append(.conv(convs.count))
        convs.append(try makeConv(position, shape[0], filters, kernel, padding, stride))
      case .maxPool2d(let size):
        slots.append(.pool(pools.count))
        pools.append(MaxPool2D(size: size))
      case .batchNorm:
        slots.append(.norm(norms.count))
        norms.append(try makeNorm(position, shape[0]))
      case .dropout(let rate):
        slots.append(.dropout(dropouts.count))
        dropouts.append(makeDropout(position, rate))
      case .flatten:
        slots.append(.flatten(flattens.count))
        flattens.append(Flatten())
      }
    }
    finalShape = shapes.last!
  }

  /// Width of the logits (the scalars per row of the last layer's output).
  public var outputSize: Int { finalShape.reduce(1, *) }

  /// `// x: (N, inputSize) -> logits: (N, outputSize)`; rows are viewed as `(N, input_shape...)`
  /// when the spec has an input shape. With `training`, layers keep what backward needs, batch
  /// norms use (and update the running averages from) batch statistics and dropout is active;
  /// without, batch norms use their running statistics and dropout is the identity.
  public mutating func forward(_ x: Tensor, training: Bool) -> Tensor {
    precondition(x.columns == inputSize, "model expects \(inputSize) input columns, got \(x.shape)")
    var h = spec.inputShape.map { x.reshaped([x.rows] + $0) } ?? x
    for slot in slots {
      switch slot {
      case .dense(let i): h = denses[i].forward(h, training: training)
      case .relu(let i): h = relus[i].forward(h, training: training)
      case .conv(let i): h = convs[i].forward(h, training: training)
      case .pool(let i): h = pools[i].forward(h, training: training)
      case .norm(let i): h = norms[i].forward(h, training: training)
      case .dropout(let i): h = dropouts[i].forward(h, training: training)
      case .flatten(let i): h = flattens[i].forward(h, training: training)
      case .fusedReLU: break
      }
    }
    return h.shape.count == 2 ? h : h.reshaped([h.rows, h.columns])
  }

  /// Backpropagates `dL/dlogits` through the layers in reverse, accumulating parameter
  /// gradients (call `zeroGradients()` first for a fresh step). Stops at the first layer with
  /// parameters, which computes only its parameter gradients: `dL/dx` of the input is not computed.
  public mutating func backward(_ dLogits: Tensor) {
    guard let first = slots.firstIndex(where: { $0.hasParameters }) else { return }
    var g = dLogits.reshaped([dLogits.rows] + finalShape)
    for position in slots.indices.reversed() where position >= first {
      let isFirst = position == first
      switch slots[position] {
      case .dense(let i):
        if isFirst { denses[i].accumulateParameterGradients(g) } else { g = denses[i].backward(g) }
      case .conv(let i):
        if isFirst { convs[i].accumulateParameterGradients(g) } else { g = convs[i].backward(g) }
      case .norm(let i):
        if isFirst { norms[i].accumulateParameterGradients(g) } else { g = norms[i].backward(g) }
      case .relu(let i): g = relus[i].backward(g)
      case .pool(let i): g = pools[i].backward(g)
      case .dropout(let i): g = dropouts[i].backward(g)
      case .flatten(let i): g = flattens[i].backward(g)
      case .fusedReLU: break
      }
    }
  }

  /// Whether the rows of a batch can be split between replicas without changing the result:
  /// batch norm's statistics span the whole batch, and dropout draws its masks from one stream.
  public var isRowIndependent: Bool { norms.isEmpty && dropouts.isEmpty }

  /// Adds another replica's accumulated gradients to this model's: data-parallel training runs
  /// forward/backward on a share of the rows in each replica, then sums them here, in a fixed
  /// order so the result does not depend on which replica finished first.
  public mutating func addGradients(from other: Sequential) {
    precondition(other.spec == spec && other.inputSize == inputSize, "replicas must share the architecture")
    for i in denses.indices {
      axpy(1, other.denses[i].weightGradient, &denses[i].weightGradient)
      axpy(1, other.denses[i].biasGradient, &denses[i].biasGradient)
    }
    for i in convs.indices {
      axpy(1, other.convs[i].weightGradient, &convs[i].weightGradient)
      axpy(1, other.convs[i].biasGradient, &convs[i].biasGradient)
    }
    for i in norms.indices {
      axpy(1, other.norms[i].weightGradient, &norms[i].weightGradient)
      axpy(1, other.norms[i].biasGradient, &norms[i].biasGradient)
    }
  }

  public mutating func zeroGradients() {
    for i in denses.indices { denses[i].zeroGradients() }
    for i in convs.indices { convs[i].zeroGradients() }
    for i in norms.indices { norms[i].zeroGradients() }
  }

  /// Everything a saved model needs, in a fixed order, layer by layer: weight then bias
  /// (dense `(in, out)`/`(out)`, conv `(F, C, k, k)`/`(F)`, batch norm γ/β `(C)`), and after a batch
  /// norm's β its buffers `running_mean`, `running_var`. Pass it to `init(spec:inputSize:parameters:)`
  /// to restore the model. Optimizers use `namedTrainableParameters`, which leaves the buffers out.
  public var namedParameters: [(name: String, value: Tensor)] {
    named(includeBuffers: true, buffersOnly: false, gradients: false)
  }

  /// The parameters optimizers update (`namedParameters` without the batch-norm buffers), in
  /// the order `updateParameters` visits them.
  public var namedTrainableParameters: [(name: String, value: Tensor)] {
    named(includeBuffers: false, buffersOnly: false, gradients: false)
  }

  /// The batch-norm running statistics: state that is saved but has no gradient.
  public var namedBuffers: [(name: String, value: Tensor)] {
    named(includeBuffers: true, buffersOnly: true, gradients: false)
  }

  /// Gradients, named and ordered like `namedTrainableParameters` (the same as `namedParameters`
  /// for models without batch norm).
  public var namedGradients: [(name: String, value: Tensor)] {
    named(includeBuffers: false, buffersOnly: false, gradients: true)
  }

  private func named(includeBuffers: Bool, buffersOnly: Bool, gradients: Bool) -> [(name: String, value: Tensor)] {
    var out: [(name: String, value: Tensor)] = []
    func add(_ position: Int, _ weight: Tensor, _ bias: Tensor) {
      guard !buffersOnly else { return }
      out.append(("layer\(position).weight", weight))
      out.append(("layer\(position).bias", bias))
    }
    for (position, slot) in slots.enumerated() {
      switch slot {
      case .dense(let i):
        let d = denses[i]
        gradients ? add(position, d.weightGradient, d.biasGradient) : add(position, d.weight, d.bias)
      case .conv(let i):
        let c = convs[i]
        gradients ? add(position, c.weightGradient, c.biasGradient) : add(position, c.weight, c.bias)
      case .norm(let i):
        let n = norms[i]
        gradients ? add(position, n.weightGradient, n.biasGradient) : add(position, n.weight, n.bias)
        if includeBuffers {
          out.append(("layer\(position).running_mean", n.runningMean))
          out.append(("layer\(position).running_var", n.runningVariance))
        }
      case .relu, .pool, .dropout, .flatten, .fusedReLU:
        break
      }
    }
    return out
  }

  /// Total number of trainable scalars (buffers not counted).
  public var parameterCount: Int {
    namedTrainableParameters.reduce(0) { $0 + $1.value.count }
  }

  /// Visits every trainable parameter in `namedTrainableParameters` order as
  /// `(index, &parameter, gradient)`, updating in place: the hook optimizers use.
  public mutating func updateParameters(_ update: (_ index: Int, _ parameter: inout Tensor, _ gradient: Tensor) -> Void) {
    var index = 0
    for slot in slots {
      switch slot {
      case .dense(let i): denses[i].updateParameters(startingAt: index, update)
      case .conv(let i): convs[i].updateParameters(startingAt: index, update)
      case .norm(let i): norms[i].updateParameters(startingAt: index, update)
      case .relu, .pool, .dropout, .flatten, .fusedReLU: continue
      }
      index += 2
    }
  }
}
