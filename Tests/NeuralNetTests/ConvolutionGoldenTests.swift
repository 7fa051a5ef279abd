import Foundation
import Testing
import NeuralNet
import Tensor

/// A layer case written by Fixtures/make_fixtures.py: layers/<name>/manifest.json
/// (`{"layer": LayerSpec, "arrays": {name: shape}}`) plus raw float32 .bin files.
struct LayerCase {
  struct Manifest: Decodable {
    var layer: LayerSpec
    var arrays: [String: [Int]]
  }

  let layer: LayerSpec
  let arrays: [String: Tensor]

  init(_ name: String) throws {
    let root = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    let dir = root.appendingPathComponent("layers").appendingPathComponent(name)
    let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: dir.appendingPathComponent("manifest.json")))
    layer = manifest.layer
    var arrays: [String: Tensor] = [:]
    for (key, shape) in manifest.arrays {
      let data = try Data(contentsOf: dir.appendingPathComponent("\(key).bin"))
      arrays[key] = Tensor(shape: shape, scalars: littleEndianFloats(data))
    }
    self.arrays = arrays
  }

  subscript(_ key: String) -> Tensor { arrays[key]! }
}

/// Agreement with numpy (float64, loops over windows) to atol = rtol = 1e-5.
@Suite struct ConvolutionGoldenTests {
  @Test(arguments: ["conv_same", "conv_stride2", "conv_valid5"])
  func conv2d_matchesNumpy(caseName: String) throws {
    let golden = try LayerCase(caseName)
    guard let convolution = golden.layer.kind as? Conv2D.Kind else {
      Issue.record("\(caseName) is not a conv2d case")
      return
    }
    var layer = Conv2D(weight: golden["weight"], bias: golden["bias"], padding: convolution.padding, stride: convolution.stride)
    let y = layer.forward(golden["x"], training: true)
    #expect(y.shape == golden["y"].shape)
    expectClose(y.scalars, golden["y"].scalars, "y")
    let dx = layer.backward(golden["dy"])
    expectClose(dx.scalars, golden["dx"].scalars, "dx")
    expectClose(layer.weightGradient.scalars, golden["grad.weight"].scalars, "grad.weight")
    expectClose(layer.biasGradient.scalars, golden["grad.bias"].scalars, "grad.bias")
  }

  @Test func maxpool2d_matchesNumpy() throws {
    let golden = try LayerCase("maxpool")
    guard let pooling = golden.layer.kind as? MaxPool2D.Kind else {
      Issue.record("maxpool is not a maxpool2d case")
      return
    }
    var layer = MaxPool2D(size: pooling.size)
    let y = layer.forward(golden["x"], training: true)
    #expect(y.shape == golden["y"].shape)
    expectClose(y.scalars, golden["y"].scalars, "y")
    expectClose(layer.backward(golden["dy"]).scalars, golden["dx"].scalars, "dx")
  }

  @Test(arguments: ["batchnorm2d", "batchnorm1d"])
  func batchnorm_matchesNumpyInTrainingAndInference(caseName: String) throws {
    let golden = try LayerCase(caseName)
    #expect(golden.layer == .batchNorm)
    let fresh = BatchNorm(
      weight: golden["weight"], bias: golden["bias"], runningMean: golden["running_mean"],
      runningVariance: golden["running_var"])
    var inference = fresh
    expectClose(inference.forward(golden["x"], training: false).scalars, golden["y_inference"].scalars, "y_inference")

    var layer = fresh
    expectClose(layer.forward(golden["x"], training: true).scalars, golden["y"].scalars, "y")
    expectClose(layer.runningMean.scalars, golden["after.running_mean"].scalars, "after.running_mean")
    expectClose(layer.runningVariance.scalars, golden["after.running_var"].scalars, "after.running_var")
    expectClose(layer.backward(golden["dy"]).scalars, golden["dx"].scalars, atol: 1e-5, rtol: 1e-4, "dx")
    expectClose(layer.weightGradient.scalars, golden["grad.weight"].scalars, "grad.weight")
    expectClose(layer.biasGradient.scalars, golden["grad.bias"].scalars, "grad.bias")
  }

  /// conv → ReLU → batch norm → max pool → flatten → dense on 1×8×8 images, training mode.
  @Test func smallCNN_matchesNumpy() throws {
    let golden = try GoldenCase("cnn")
    #expect(golden.spec.inputShape == [1, 8, 8])
    let x = golden["x"]
    var model = try Sequential(spec: golden.spec, inputSize: x.columns, parameters: golden.parameters)
    #expect(model.namedParameters.map(\.name).sorted() == golden.parameters.keys.sorted())

    model.zeroGradients()
    let logits = model.forward(x, training: true)
    expectClose(logits.scalars, golden["logits"].scalars, "logits")
    let (loss, dLogits) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: golden.manifest.labels)
    #expect(abs(Double(loss) - golden.manifest.loss) <= 1e-5 * max(1, golden.manifest.loss))
    expectClose(dLogits.scalars, golden["dlogits"].scalars, "dlogits")
    for (name, value) in model.namedBuffers {
      expectClose(value.scalars, golden["running.\(name)"].scalars, "running.\(name)")
    }

    model.backward(dLogits)
    for (name, gradient) in model.namedGradients {
      expectClose(gradient.scalars, golden["grad.\(name)"].scalars, atol: 1e-5, rtol: 1e-4, "grad.\(name)")
    }
    var sgd = makeOptimizer(OptimizerSpec(kind: .sgd, learningRate: golden.manifest.learningRate), for: model)
    sgd.step(&model)
    for (name, value) in model.namedTrainableParameters {
      expectClose(value.scalars, golden["sgd.\(name)"].scalars, "sgd.\(name)")
    }
  }
}
