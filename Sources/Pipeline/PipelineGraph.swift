import Foundation

/// Stages in an order where every stage comes after the stages it reads.
public struct PipelineGraph: Sendable {
  public let stages: [any Stage]

  /// Checks that names are unique, that every input names an earlier stage (so the order given
  /// is a valid topological order and the graph has no cycles), and that each input expects the
  /// artifacts that stage writes: a miswired graph fails here, before anything runs.
  public init(_ stages: [any Stage]) throws {
    var outputs: [String: any ArtifactSet.Type] = [:]
    for stage in stages {
      guard outputs[stage.name] == nil else {
        throw PipelineError("two stages are named '\(stage.name)'")
      }
      for input in stage.declaredInputs {
        guard let written = outputs[input.stage] else {
          throw PipelineError("stage '\(stage.name)' reads '\(input.stage)', which is not an earlier stage")
        }
        if let expected = input.artifacts, ObjectIdentifier(expected) != ObjectIdentifier(written) {
          throw PipelineError("stage '\(stage.name)' reads '\(input.stage)' as \(expected), but it writes \(written)")
        }
      }
      outputs[stage.name] = stage.outputType
    }
    self.stages = stages
  }

  public var names: [String] { stages.map(\.name) }

  public func stage(named name: String) -> (any Stage)? {
    stages.first { $0.name == name }
  }

  /// The stages a user means by `target`: the stage of that name and the group `target.*`
  /// (ensemble members are `train`, `train.2`, …).
  public func resolve(_ target: String) throws -> [String] {
    let matches = names.filter { $0 == target || $0.hasPrefix(target + ".") }
    guard !matches.isEmpty else {
      throw PipelineError("no stage named '\(target)' (stages: \(names.joined(separator: ", ")))")
    }
    return matches
  }

  /// `name` and every stage it depends on, directly or not.
  public func closure(of name: String) -> Set<String> {
    var result: Set<String> = [name]
    var pending = [name]
    while let next = pending.popLast() {
      for input in stage(named: next)?.inputs ?? [] where result.insert(input).inserted {
        pending.append(input)
      }
    }
    return result
  }

  /// The stages that read `name`'s artifacts, directly or not.
  public func descendants(of name: String) -> Set<String> {
    var result = Set<String>()
    for stage in stages where stage.inputs.contains(where: { $0 == name || result.contains($0) }) {
      result.insert(stage.name)
    }
    return result
  }
}

/// An error worth one line to the user: what went wrong and where.
public struct PipelineError: Error, CustomStringConvertible, Sendable {
  public var description: String
  /// The setting the error is about, dotted (`train.epochs`), when there is one: a pipeline file
  /// read by `PipelineFile` puts that setting's file, line and column in front of the message.
  public var keyPath: String?
  public init(_ description: String, at keyPath: String? = nil) {
    self.description = description
    self.keyPath = keyPath
  }
}

/// A stage that failed: its name, and the error it threw.
public struct StageFailure: Error, CustomStringConvertible, @unchecked Sendable {
  public let stage: String
  public let underlying: any Error
  public var description: String { "stage '\(stage)' failed: \(underlying)" }
}
