import Foundation
import Testing
import NeuralNet
import Tensor

// MARK: - Random data

func randomTensor(_ shape: [Int], _ rng: inout SeededGenerator, in low: Float = -1, _ high: Float = 1) -> Tensor {
  Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextFloat(in: low, high) })
}

// MARK: - Finite differences

/// Central differences of a scalar function of a float32 tensor, perturbing each element by ±h
/// in float and evaluating the loss in Double.
func numericalGradient(of value: Tensor, h: Float = 1e-2, _ loss: (Tensor) -> Double) -> [Double] {
  var probe = value
  return value.scalars.indices.map { k in
    let original = probe.scalars[k]
    probe.scalars[k] = original + h
    let plus = loss(probe)
    probe.scalars[k] = original - h
    let minus = loss(probe)
    probe.scalars[k] = original
    return (plus - minus) / (Double(original + h) - Double(original - h))
  }
}

/// ‖a − b‖ / max(‖a‖, ‖b‖, tiny): one number per gradient, robust to entries near zero.
func relativeError(_ analytic: [Float], _ numeric: [Double]) -> Double {
  precondition(analytic.count == numeric.count)
  var diff = 0.0, na = 0.0, nb = 0.0
  for (a, b) in zip(analytic, numeric) {
    diff += (Double(a) - b) * (Double(a) - b)
    na += Double(a) * Double(a)
    nb += b * b
  }
  return diff.squareRoot() / max(na.squareRoot(), nb.squareRoot(), 1e-12)
}

/// `Σ r ⊙ y` in Double: a loss whose gradient with respect to y is exactly r.
func projected(_ y: Tensor, _ r: Tensor) -> Double {
  zip(y.scalars, r.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
}

/// numpy.allclose: |a − b| ≤ atol + rtol·|b| elementwise; reports the worst offender.
func expectClose(
  _ actual: [Float], _ expected: [Float], atol: Float = 1e-5, rtol: Float = 1e-5, _ what: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(actual.count == expected.count, "\(what): count", sourceLocation: sourceLocation)
  var worst: (Int, Float, Float)? = nil
  var worstExcess: Float = 0
  for (k, (a, e)) in zip(actual, expected).enumerated() {
    let excess = abs(a - e) - (atol + rtol * abs(e))
    if excess > worstExcess || !(a.isFinite) {
      worstExcess = max(excess, worstExcess)
      worst = (k, a, e)
    }
  }
  #expect(worst == nil, "\(what): element \(worst.map { "\($0.0): \($0.1) vs \($0.2)" } ?? "")", sourceLocation: sourceLocation)
}

// MARK: - Fixtures

/// A case written by Fixtures/make_fixtures.py: manifest.json plus raw little-endian float32 .bin files.
struct GoldenCase {
  struct Manifest: Decodable {
    var labels: [UInt8]
    var loss: Double
    var learningRate: Float
    var arrays: [String: [Int]]
    enum CodingKeys: String, CodingKey {
      case labels, loss, arrays
      case learningRate = "learning_rate"
    }
  }

  let spec: ModelSpec
  let manifest: Manifest
  let arrays: [String: Tensor]

  init(_ name: String) throws {
    let root = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    let dir = root.appendingPathComponent(name)
    let json = try Data(contentsOf: dir.appendingPathComponent("manifest.json"))
    spec = try JSONDecoder().decode(ModelSpec.self, from: json)
    manifest = try JSONDecoder().decode(Manifest.self, from: json)
    var arrays: [String: Tensor] = [:]
    for (key, shape) in manifest.arrays {
      let data = try Data(contentsOf: dir.appendingPathComponent("\(key).bin"))
      arrays[key] = Tensor(shape: shape, scalars: littleEndianFloats(data))
    }
    self.arrays = arrays
  }

  subscript(_ key: String) -> Tensor { arrays[key]! }

  var parameters: [String: Tensor] {
    arrays.filter { $0.key.hasPrefix("layer") }
  }
}

func littleEndianFloats(_ data: Data) -> [Float] {
  let bytes = [UInt8](data)
  return stride(from: 0, to: bytes.count, by: 4).map { i in
    Float(
      bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
  }
}
