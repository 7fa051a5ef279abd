import DataIO
import Foundation
import NeuralNet
import Tensor

/// `model.npz`: one float32 array per named parameter (`layer0.weight`, …) plus `architecture`,
/// a string array holding the model's spec as JSON, so numpy users get everything with
/// `numpy.load("model.npz")` and no pickle.
public enum ModelFile {
  static let architectureKey = "architecture"

  struct Architecture: Codable {
    var format = 1
    var inputSize: Int
    var spec: ModelSpec
  }

  public static func write(_ model: Sequential, to url: URL) throws {
    let architecture = Architecture(inputSize: model.inputSize, spec: model.spec)
    // Sorted keys: the same model must give the same bytes (the cache and the tests compare them).
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var arrays: [(name: String, array: NumpyArray)] = [
      (architectureKey, NumpyArray(string: String(decoding: try encoder.encode(architecture), as: UTF8.self)))
    ]
    for (name, value) in model.namedParameters {
      arrays.append((name, NumpyArray(shape: value.shape, values: value.scalars)))
    }
    try NumpyArchive.write(arrays, to: url)
  }

  public static func read(from url: URL) throws -> Sequential {
    let arrays = try NumpyArchive.read(from: url)
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
      return try Sequential(spec: architecture.spec, inputSize: architecture.inputSize, parameters: parameters)
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
