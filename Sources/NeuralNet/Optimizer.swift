import Foundation
import Tensor

/// An optimizer's settings, as written in the pipeline's YAML (snake_case keys):
///
///     optimizer: {kind: adamw, learning_rate: 0.001, weight_decay: 0.01}
///
/// Omitted keys take the defaults below. Decode with the decoder's default key strategy
/// (the keys are spelled out explicitly, not converted).
public struct OptimizerSpec: Codable, Sendable, Hashable {
  public enum Kind: String, Codable, Sendable {
    /// `p ← p − η·(∇ + λ·p)`
    case sgd
    /// `v ← μ·v + ∇ + λ·p;  p ← p − η·v` (torch.optim.SGD with momentum)
    case momentum
    /// torch.optim.Adam, weight decay as L2 added to the gradient
    case adam
    /// torch.optim.AdamW, decoupled weight decay `p ← p·(1 − η·λ)` before the Adam step
    case adamw
  }

  public var kind: Kind
  public var learningRate: Float
  public var momentum: Float
  public var beta1: Float
  public var beta2: Float
  public var epsilon: Float
  /// adamw: decoupled; the others: L2, `λ·p` added to the gradient.
  public var weightDecay: Float

  public init(
    kind: Kind, learningRate: Float, momentum: Float = 0.9, beta1: Float = 0.9, beta2: Float = 0.999,
    epsilon: Float = 1e-8, weightDecay: Float = 0
  ) {
    self.kind = kind
    self.learningRate = learningRate
    self.momentum = momentum
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
  }

  enum CodingKeys: String, CodingKey {
    case kind
    case learningRate = "learning_rate"
    case momentum, beta1, beta2, epsilon
    case weightDecay = "weight_decay"
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      kind: try c.decode(Kind.self, forKey: .kind),
      learningRate: try c.decode(Float.self, forKey: .learningRate),
      momentum: try c.decodeIfPresent(Float.self, forKey: .momentum) ?? 0.9,
      beta1: try c.decodeIfPresent(Float.self, forKey: .beta1) ?? 0.9,
      beta2: try c.decodeIfPresent(Float.self, forKey: .beta2) ?? 0.999,
      epsilon: try c.decodeIfPresent(Float.self, forKey: .epsilon) ?? 1e-8,
      weightDecay: try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? 0)
  }
}

/// Updates a model's parameters from the gradients its last `backward` accumulated, at a
/// learning rate it keeps and schedules itself.
public protocol Optimizer: Sendable {
  /// The rate the next `step` uses.
  var learningRate: Float { get }
  /// Sets `learningRate` for epoch `epoch` (counted from 0) of `epochs`, from the schedule.
  mutating func startEpoch(_ epoch: Int, of epochs: Int)
  mutating func step(_ model: inout Sequential)
}

/// The optimizer for `spec`, scheduled by `schedule`, with state buffers shaped like `model`'s
/// trainable parameters.
public func makeOptimizer(_ spec: OptimizerSpec, schedule: LearningRateSchedule = .constant, for model: Sequential) -> any Optimizer {
  GradientDescent(spec: spec, schedule: schedule, parameterShapes: model.namedTrainableParameters.map(\.value.shape))
}

/// The learning rate per epoch `e` of `E`, from the optimizer's base rate `η`. The pipeline
/// file spells them `constant`, `cosine` and `one_cycle`.
public enum LearningRateSchedule: String, Codable, Sendable, Hashable {
  /// `η_e = η`
  case constant
  /// `η_e = η·(1 + cos(π·e/E))/2`: cosine annealing towards 0, stepped per epoch
  /// (torch's `CosineAnnealingLR(T_max=E)` stepped once per epoch).
  case cosine
  /// Smith's one cycle with torch's `OneCycleLR` defaults, stepped per epoch rather than per
  /// batch: from η/25 up to η over the first 30% of the epochs, then down to η/25·10⁻⁴, both
  /// halves along a cosine.
  case oneCycle = "one_cycle"

  public func learningRate(base: Float, epoch: Int, epochs: Int) -> Float {
    switch self {
    case .constant: return base
    case .cosine: return Float(Double(base) * (1 + cos(Double.pi * Double(epoch) / Double(max(epochs, 1)))) / 2)
    case .oneCycle:
      let peak = Double(base)
      let (start, end) = (peak / 25, peak / 25 / 1e4)
      let rising = min(max(1, Int((0.3 * Double(epochs)).rounded())), max(epochs - 1, 0))
      /// From `a` at t = 0 to `b` at t = 1 along half a cosine.
      func cosine(_ t: Double, from a: Double, to b: Double) -> Float { Float(b + (a - b) * (1 + cos(Double.pi * t)) / 2) }
      return epoch < rising
        ? cosine(Double(epoch) / Double(rising), from: start, to: peak)
        : cosine(Double(epoch - rising) / Double(epochs - rising), from: peak, to: end)
    }
  }
}

/// SGD, momentum, Adam and AdamW as settings of one first-order update (tinygrad-style):
/// SGD is heavy-ball momentum with `μ = 0`; AdamW is Adam with the weight decay moved out of
/// the gradient. Matches PyTorch's update order, so the same hyperparameters mean the same thing.
public struct GradientDescent: Optimizer {
  public let spec: OptimizerSpec
  public let schedule: LearningRateSchedule
  public private(set) var learningRate: Float
  /// Number of `step` calls so far (Adam's `t`).
  public private(set) var stepCount = 0
  /// Velocity (sgd, momentum) or first moment m (adam, adamw), one per parameter.
  private var firstMoments: [Tensor]
  /// Second moment v (adam, adamw); empty for the others.
  private var secondMoments: [Tensor]

  public init(spec: OptimizerSpec, schedule: LearningRateSchedule = .constant, parameterShapes: [[Int]]) {
    self.spec = spec
    self.schedule = schedule
    learningRate = spec.learningRate
    firstMoments = parameterShapes.map { Tensor(zeros: $0) }
    switch spec.kind {
    case .sgd, .momentum: secondMoments = []
    case .adam, .adamw: secondMoments = parameterShapes.map { Tensor(zeros: $0) }
    }
  }

  public mutating func startEpoch(_ epoch: Int, of epochs: Int) {
    learningRate = schedule.learningRate(base: spec.learningRate, epoch: epoch, epochs: epochs)
  }

  public mutating func step(_ model: inout Sequential) {
    stepCount += 1
    let (spec, t, learningRate) = (self.spec, stepCount, self.learningRate)
    model.updateParameters { index, parameter, gradient in
      switch spec.kind {
      case .sgd, .momentum:
        momentumUpdate(
          parameter: &parameter, gradient: gradient, velocity: &firstMoments[index],
          learningRate: learningRate, momentum: spec.kind == .sgd ? 0 : spec.momentum,
          weightDecay: spec.weightDecay)
      case .adam, .adamw:
        adamUpdate(
          parameter: &parameter, gradient: gradient,
          firstMoment: &firstMoments[index], secondMoment: &secondMoments[index],
          learningRate: learningRate, beta1: spec.beta1, beta2: spec.beta2, epsilon: spec.epsilon,
          weightDecay: spec.weightDecay, decoupledWeightDecay: spec.kind == .adamw, step: t)
      }
    }
  }
}
