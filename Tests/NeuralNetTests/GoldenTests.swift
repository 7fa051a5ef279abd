import Foundation
import Testing
import NeuralNet
import Tensor

/// Agreement with Fixtures/make_fixtures.py (numpy, float64) to 1e-5 (numpy.allclose with
/// atol = rtol = 1e-5): logits, loss, dL/dlogits, every parameter gradient and one SGD step.
@Suite struct GoldenTests {
  @Test(arguments: ["seed", "mlp"])
  func sequential_matchesNumpy(caseName: String) throws {
    let golden = try GoldenCase(caseName)
    var model = try Sequential(spec: golden.spec, inputSize: 784, parameters: golden.parameters)
    #expect(model.namedParameters.map(\.name).sorted() == golden.parameters.keys.sorted())

    model.zeroGradients()
    let logits = model.forward(golden["x"], training: true)
    expectClose(logits.scalars, golden["logits"].scalars, "logits")
    let (loss, dLogits) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: golden.manifest.labels)
    #expect(abs(Double(loss) - golden.manifest.loss) <= 1e-5 * max(1, golden.manifest.loss))
    expectClose(dLogits.scalars, golden["dlogits"].scalars, "dlogits")

    model.backward(dLogits)
    for (name, gradient) in model.namedGradients {
      expectClose(gradient.scalars, golden["grad.\(name)"].scalars, "grad.\(name)")
    }

    var sgd = makeOptimizer(OptimizerSpec(kind: .sgd, learningRate: golden.manifest.learningRate), for: model)
    sgd.step(&model)
    for (name, value) in model.namedParameters {
      expectClose(value.scalars, golden["sgd.\(name)"].scalars, "sgd.\(name)")
    }
  }
}
