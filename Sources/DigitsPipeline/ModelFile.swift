import DataIO
import Foundation
import NeuralNet
import Tensor

/// `model.npz`: one float32 array per named parameter (`layer0.weight`, …) plus `architecture`,
/// a string array holding the model's spec as JSON, so numpy users get everything with
/// `numpy.load("model.npz")` and no pickle.
///
/// The architecture also records how the pixels were normalised in training, so a model loaded
/// into another pipeline (`--model`) can be checked against the features it will be given.
public struct ModelFile {
  public var network: Sequential
  /// `feature = pixel * scale + offset` as in training; nil in files that did not record it.
  public var normalisation: NormaliseStage.Normalisation?

  public init(network: Sequential, normalisation: NormaliseStage.Normalisation?) {
    self.network = network
    self.normalisation = normalisation
  }

  static let architectureKey = "architecture"

  struct Architecture: Codable {
    var format = 1
    var inputSize: Int
    var spec: ModelSpec
    var normalisation: NormaliseStage.Normalisation?
  }

  public func write(to url: URL) throws {
    let model = network
    let architecture = Architecture(inputSize: model.inputSize, spec: model.spec, normalisation: normalisation)
    // Sorted keys: the same model must give the same bytes (the cache and the tests compare them).
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var arrays: [(name: String, array: NumpyArray)] = [
      (Self.architectureKey, NumpyArray(string: String(decoding: try encoder.encode(architecture), as: UTF8.self)))
    ]
    for (name, value) in model.namedParameters {
      arrays.append((name, NumpyArray(shape: value.shape, values: value.scalars)))
    }
    try NumpyArchive.write(arrays, to: url)
  }

  public static func read(from url: URL) throws -> ModelFile {
    let arrays: [(name: String, array: NumpyArray)]
    do {
      arrays = try NumpyArchive.read(from: url)
    } catch {
      throw ModelFileError(url: url, message: "not a readable model file (\(error))")
    }
    guard let json = arrays.first(where: { $0.name == architectureKey })?.array.stringValue else {
      throw ModelFileError(url: url, message: "no '\(architectureKey)' entry: not a model written by this pipeline")
    }
    let architecture: Architecture
    do {
      architecture = try JSONDecoder().decode(Architecture.self, from: Data(json.utf8))
    } catch {
      throw ModelFileError(url: url, message: "unreadable architecture (\(error))")
    }
    var parameters: [String: Tensor] = [:]
    for (name, array) in arrays where name != architectureKey {
      parameters[name] = Tensor(shape: array.shape, scalars: try array.values(as: Float.self))
    }
    do {
      let network = try Sequential(spec: architecture.spec, inputSize: architecture.inputSize, parameters: parameters)
      return ModelFile(network: network, normalisation: architecture.normalisation)
    } catch {
      throw ModelFileError(url: url, message: "\(error)")
    }
  }
}

public struct ModelFileError: Error, CustomStringConvertible {
  public let url: URL
  public let message: String
  public var description: String { "\(url.path): \(message)" }
}
