import Foundation
import NeuralNet
import Testing

/// The layer kinds a pipeline file can name (`LayerSpec.registeredKinds`): each reads and writes
/// its own settings, and the errors list every registered kind.
@Suite struct LayerSpecTests {
  /// One spelling of every registered kind, as a pipeline file writes it (JSON here).
  static let spellings = [
    #"{"dense":800}"#, #"{"conv2d":{"filters":32,"kernel":3,"padding":1,"stride":1}}"#, #"{"maxpool2d":2}"#,
    #"{"dropout":0.25}"#, #""relu""#, #""batchnorm""#, #""flatten""#, #""globalavgpool""#,
  ]

  func decode(_ json: String) throws -> LayerSpec {
    try JSONDecoder().decode(LayerSpec.self, from: Data(json.utf8))
  }

  @Test func everyRegisteredKind_roundTripsThroughItsEncoding() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    for json in Self.spellings {
      let spec = try decode(json)
      #expect(String(decoding: try encoder.encode(spec), as: UTF8.self) == json)
      #expect(try decode(json) == spec)
    }
    #expect(Set(try Self.spellings.map { try decode($0).name }) == Set(LayerSpec.registeredKinds.map { $0.name }))
  }

  @Test func specsCompareByKindAndSettings() throws {
    #expect(try decode(#"{"dense":800}"#) == .dense(units: 800))
    #expect(try decode(#"{"dense":800}"#) != .dense(units: 801))
    #expect(try decode(#"{"conv2d":{"filters":32,"kernel":3}}"#) == .conv2d(filters: 32, kernel: 3, padding: 1, stride: 1))
    #expect(LayerSpec.relu != .flatten)
    #expect(Set([LayerSpec.relu, .relu, .batchNorm]).count == 2)
  }

  @Test func unknownNames_listTheRegisteredKinds() {
    #expect {
      try decode(#""relux""#)
    } throws: { error in
      "\(error)".contains("unknown layer \"relux\": expected relu, batchnorm, flatten, globalavgpool or a mapping like {dense: 800}")
    }
    #expect {
      try decode(#"{"densx":3}"#)
    } throws: { error in
      "\(error)".contains("unknown layer \"densx\": expected dense, conv2d, maxpool2d, dropout, relu, batchnorm, flatten or globalavgpool")
    }
  }

  @Test func settingsOutOfRange_areRefusedByTheirKind() {
    for (json, message) in [
      (#"{"dense":0}"#, "dense units must be positive, got 0"),
      (#"{"maxpool2d":-2}"#, "maxpool2d size must be positive, got -2"),
      (#"{"dropout":1}"#, "dropout rate must be in [0, 1), got 1.0"),
      (#"{"conv2d":{"filters":4,"kernel":3,"padding":-1}}"#, "conv2d padding must be ≥ 0, got -1"),
      (#"{"conv2d":{"filters":4,"kernel":3,"dilation":2}}"#, "conv2d has unknown keys [\"dilation\"]"),
    ] {
      #expect(throws: DecodingError.self, "\(json)") { try decode(json) }
      do {
        _ = try decode(json)
      } catch let DecodingError.dataCorrupted(context) {
        #expect(context.debugDescription.contains(message), "\(json): \(context.debugDescription)")
      } catch {
        Issue.record("\(json): \(error)")
      }
    }
  }

  /// Settings a pipeline file can write whose sizes overflow an `Int` are architecture errors,
  /// not traps in the shape rules.
  @Test func sizesBeyondAnInt_areArchitectureErrors() {
    let image = [1, 28, 28]
    for (spec, message) in [
      (ModelSpec(inputShape: image, layers: [.conv2d(filters: 4, kernel: 3, padding: Int.max / 2 + 1, stride: 1)], initialization: .he),
       "layer 0 (conv2d): padding \(Int.max / 2 + 1) is too large"),
      (ModelSpec(inputShape: image, layers: [.conv2d(filters: 4, kernel: Int.max)], initialization: .he),
       "layer 0 (conv2d): padding \(Int.max / 2) is too large"),
      (ModelSpec(inputShape: image, layers: [.conv2d(filters: 100_000_000_000_000_000, kernel: 3), .flatten], initialization: .he),
       "layer 0 (conv2d) makes rows of shape [100000000000000000, 28, 28], too many scalars to count"),
      (ModelSpec(inputShape: [1 << 32, 1 << 32, 1], layers: [.flatten], initialization: .he),
       "input_shape [4294967296, 4294967296, 1] has too many scalars to count, the rows have 784"),
    ] {
      #expect { try spec.outputShape(inputSize: 784) } throws: { error in
        (error as? NeuralNetError) == .invalidArchitecture(message)
      }
    }
  }
}
