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
/// Two things are done for speed, invisibly to results: a convolution or dense layer directly
/// followed by a ReLU runs as one fused pass (`Conv2D.fusedReLU`, `Dense.fusedReLU`,
/// bit-identical), and the kernels split their work over `Workers.count` threads themselves
/// (OpenBLAS stays on the calling thread).
public struct Sequential: Sendable {
  public let spec: ModelSpec
  public let inputSize: Int
  /// One layer per position of `spec.layers`, mutated in place (an array element of existential
  /// type is opened for mutation where it lies; its storage is copied only when shared).
  var layers: [any Layer]
  /// Per-row shape of the logits.
  private let finalShape: [Int]

  /// A freshly initialised network; layers draw from `generator` in order: dense and conv layers
  /// their weights then biases, dropout layers one 64-bit seed for their own mask stream (see
  /// `Dropout`). Batch norms start at γ = 1, β = 0 and draw nothing.
  /// Traps if the layers do not fit the input; check with `ModelSpec.outputShape(inputSize:)`.
  public init(spec: ModelSpec, inputSize: Int, using generator: inout SeededGenerator) {
    var source: SeededGenerator? = generator
    do {
      try self.init(spec: spec, inputSize: inputSize, drawingFrom: &source)
    } catch {
      preconditionFailure("\(error)")
    }
    generator = source!
  }

  /// Builds the layers, drawing their initial state from `generator`, or (nil: to be restored)
  /// with zero weights and dropout streams seeded by position.
  init(spec: ModelSpec, inputSize: Int, drawingFrom generator: inout SeededGenerator?) throws {
    precondition(inputSize > 0, "input size must be positive")
    self.spec = spec
    self.inputSize = inputSize
    let shapes = try spec.layerInputShapes(inputSize: inputSize)
    var layers: [any Layer] = []
    for (position, layer) in spec.layers.enumerated() {
      if layer.kind is ReLU.Kind, var previous = layers.last as? any ReLUFusing {
        // Conv or dense → ReLU: one pass over the output instead of two (same values, bit for bit).
        previous.fusedReLU = true
        layers[layers.count - 1] = previous
        layers.append(FusedReLU())
      } else {
        layers.append(
          layer.kind.makeLayer(
            inputShape: shapes[position], position: position, initialization: spec.initialization, generator: &generator))
      }
    }
    self.layers = layers
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
    for i in layers.indices { h = layers[i].forward(h, training: training) }
    return h.shape.count == 2 ? h : h.reshaped([h.rows, h.columns])
  }

  /// Backpropagates `dL/dlogits` through the layers in reverse, accumulating parameter
  /// gradients (call `zeroGradients()` first for a fresh step). Stops at the first layer with
  /// parameters, which computes only its parameter gradients: `dL/dx` of the input is not computed.
  public mutating func backward(_ dLogits: Tensor) {
    guard let first = layers.firstIndex(where: { !$0.parameters.isEmpty }) else { return }
    var g = dLogits.reshaped([dLogits.rows] + finalShape)
    for i in layers.indices.reversed() where i > first { g = layers[i].backward(g) }
    layers[first].accumulateParameterGradients(g)
  }

  /// Whether the rows of a batch can be split between replicas without changing the result
  /// (not with batch norm, whose statistics span the batch, nor dropout, whose masks come from
  /// one stream).
  public var isRowIndependent: Bool { layers.allSatisfy(\.isRowIndependent) }
}

/// A layer that can apply the ReLU after it in its own pass over the output, and mask `dy` by
/// that output in backward: the same values, bit for bit, as the two layers one after the other.
protocol ReLUFusing: Layer {
  var fusedReLU: Bool { get set }
}

extension Conv2D: ReLUFusing {}
extension Dense: ReLUFusing {}

/// The position of a ReLU that the layer before it computes (`ReLUFusing`): values and
/// gradients pass through.
private struct FusedReLU: Layer {
  mutating func forward(_ x: Tensor, training: Bool) -> Tensor { x }
  mutating func backward(_ dy: Tensor, inputGradient: Bool) -> Tensor? { dy }
}
