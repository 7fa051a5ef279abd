import Testing
import NeuralNet
import Tensor

/// Each kind against values worked out by hand (textbook formulas in Double, see the comments)
/// for three steps on a 1→1 dense layer, w₀ = 1, b₀ = 0.5, with gradients g = 1, −0.5, 0.25
/// for both (input x = 1, dL/dy = g), learning rate 0.1.
@Suite struct OptimizerTests {
  static let gradients: [Float] = [1, -0.5, 0.25]

  func run(_ spec: OptimizerSpec) throws -> [(w: Float, b: Float)] {
    var model = try Sequential(
      spec: ModelSpec(layers: [.dense(units: 1)], initialization: .he), inputSize: 1,
      parameters: ["layer0.weight": Tensor(shape: [1, 1], scalars: [1]), "layer0.bias": Tensor(shape: [1], scalars: [0.5])])
    var optimizer = makeOptimizer(spec, for: model)
    var trajectory: [(w: Float, b: Float)] = []
    for g in Self.gradients {
      model.zeroGradients()
      _ = model.forward(Tensor(shape: [1, 1], scalars: [1]), training: true)
      model.backward(Tensor(shape: [1, 1], scalars: [g]))
      optimizer.step(&model)
      let p = model.namedParameters
      trajectory.append((p[0].value.scalars[0], p[1].value.scalars[0]))
    }
    return trajectory
  }

  func expectTrajectory(_ spec: OptimizerSpec, w: [Double], b: [Double], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let got = try run(spec)
    for step in 0..<3 {
      #expect(abs(Double(got[step].w) - w[step]) < 1e-6, "w step \(step + 1): \(got[step].w) vs \(w[step])", sourceLocation: sourceLocation)
      #expect(abs(Double(got[step].b) - b[step]) < 1e-6, "b step \(step + 1): \(got[step].b) vs \(b[step])", sourceLocation: sourceLocation)
    }
  }

  @Test func sgd_stepsAgainstTheGradientWithL2() throws {
    // p ← p − 0.1·(g + 0.1·p):  w: 1 → 0.89 → 0.9311 → 0.896789
    try expectTrajectory(
      OptimizerSpec(kind: .sgd, learningRate: 0.1, weightDecay: 0.1),
      w: [0.89, 0.9311, 0.896789], b: [0.395, 0.44105, 0.4116395])
  }

  @Test func momentum_accumulatesVelocity() throws {
    // v ← 0.9·v + g, p ← p − 0.1·v:  v = 1, 0.4, 0.61;  w: 0.9, 0.86, 0.799
    try expectTrajectory(
      OptimizerSpec(kind: .momentum, learningRate: 0.1, momentum: 0.9),
      w: [0.9, 0.86, 0.799], b: [0.4, 0.36, 0.299])
  }

  @Test func adam_biasCorrectsLikePyTorch() throws {
    // m̂ = m/(1−0.9ᵗ), v̂ = v/(1−0.999ᵗ), p ← p − 0.1·m̂/(√v̂ + 1e-8).
    // Step 2: m = 0.04, v = 0.001249, m̂ = 0.2105263, √v̂ = 0.7904508 → w = 0.9 − 0.0266338.
    try expectTrajectory(
      OptimizerSpec(kind: .adam, learningRate: 0.1),
      w: [0.900000001, 0.873366297, 0.839323383], b: [0.400000001, 0.373366297, 0.339323383])
  }

  @Test func adam_addsL2WeightDecayToTheGradient() throws {
    try expectTrajectory(
      OptimizerSpec(kind: .adam, learningRate: 0.1, weightDecay: 0.1),
      w: [0.900000001, 0.863218355, 0.818278508], b: [0.400000001, 0.36850348, 0.329365672])
  }

  @Test func adamw_decaysWeightsBeforeTheUpdate() throws {
    // p ← p·(1 − 0.1·0.1), then the plain Adam step: w₁ = 0.99 − 0.1 = 0.89.
    try expectTrajectory(
      OptimizerSpec(kind: .adamw, learningRate: 0.1, weightDecay: 0.1),
      w: [0.890000001, 0.854466297, 0.81187872], b: [0.395000001, 0.364416297, 0.32672922])
  }
}
