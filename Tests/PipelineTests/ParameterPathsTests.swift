import Foundation
import Testing
@testable import Pipeline

@Suite struct ParameterPathsTests {
  struct Settings: Codable {
    var epochs: Int
    var optimizer: [String: Double]
    var layers: [LayerSetting]
    var schedule: String
  }
  enum LayerSetting: Codable { case dense(Int), relu }

  @Test func flatten_nestsWithDotsAndLiftsTheSettingsSection() throws {
    struct Parameters: Codable { var seed: UInt64; var settings: Settings; var note: String }
    let parameters = Parameters(
      seed: 42,
      settings: Settings(epochs: 30, optimizer: ["learning_rate": 0.001, "epsilon": 1e-8], layers: [.dense(10), .relu], schedule: "cosine"),
      note: "a, b")
    let json = String(decoding: try canonicalJSON(parameters), as: UTF8.self)
    #expect(ParameterPaths.flatten(json) == [
      "seed": "42",
      "epochs": "30",
      "optimizer.learning_rate": "0.001",
      "optimizer.epsilon": "1e-08",
      "layers": "[{dense: {_0: 10}}, {relu: {}}]",
      "schedule": "cosine",
      "note": "\"a, b\"",  // quoted where a bare string would read as YAML structure
    ])
  }

  @Test func flatten_ofNoParametersIsEmpty() {
    #expect(ParameterPaths.flatten("{}").isEmpty)
    #expect(ParameterPaths.flatten("not json").isEmpty)
    #expect(ParameterPaths.flatten(#"{"a":{},"b":[],"c":null,"d":true}"#) == ["a": "{}", "b": "[]", "c": "null", "d": "true"])
  }

  @Test func flowText_writesOneValueAsAPipelineFileWould() {
    #expect(ParameterPaths.flowText(#"[{"dense":128},"relu",{"dense":10}]"#) == "[{dense: 128}, relu, {dense: 10}]")
    #expect(ParameterPaths.flowText(#"{"layers":["flatten"],"init":"he"}"#) == "{init: he, layers: [flatten]}")
    #expect(ParameterPaths.flowText("0.25") == "0.25")
    #expect(ParameterPaths.flowText("not json") == nil)
  }

  @Test func changes_listOldAndNewValuesInPathOrder() {
    let old = #"{"seed":42,"settings":{"epochs":12,"shift":2}}"#
    let new = #"{"seed":42,"settings":{"epochs":30,"scale":0.1}}"#
    #expect(ParameterPaths.changes(from: old, to: new) == ["epochs 12 → 30", "+ scale 0.1", "- shift 2"])
    #expect(ParameterPaths.changes(from: old, to: old).isEmpty)
    #expect(ParameterPaths.changes(from: "{}", to: #"{"a":{"b":1}}"#) == ["+ a.b 1"])
  }

  @Test func changes_reachIntoListsOfTheSameLength() {
    func layers(_ padding: [Int]) -> String {
      let convolutions = padding.map { #"{"conv2d":{"filters":32,"kernel":3,"padding":\#($0)}}"# }
      return #"{"settings":{"model":{"layers":[\#(convolutions.joined(separator: #","relu","#))]}}}"#
    }
    #expect(ParameterPaths.changes(from: layers([1, 1]), to: layers([1, 0])) == ["model.layers[2].conv2d.padding 1 → 0"])
    // A layer added or removed shifts every position after it: the lists are shown whole.
    #expect(ParameterPaths.changes(from: layers([1]), to: layers([1, 1])) == [
      "model.layers [{conv2d: {filters: 32, kernel: 3, padding: 1}}] → "
        + "[{conv2d: {filters: 32, kernel: 3, padding: 1}}, relu, {conv2d: {filters: 32, kernel: 3, padding: 1}}]"
    ])
  }
}
