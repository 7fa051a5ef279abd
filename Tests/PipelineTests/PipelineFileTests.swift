import Foundation
import Testing
@testable import Pipeline

@Suite struct PipelineFileTests {
  struct Settings: Codable, Equatable {
    struct Train: Codable, Equatable {
      var epochs: Int
      var rate: Double
      var layers: [String]
    }
    var name: String
    var train: Train
  }

  let yaml = """
    name: demo
    train:
      epochs: 3
      rate: 0.5
      layers: [a, b]
    """

  @Test func decodes_aWellFormedFile() throws {
    let settings = try PipelineFile.decode(Settings.self, yaml: yaml, fileName: "p.yaml")
    #expect(settings == Settings(name: "demo", train: .init(epochs: 3, rate: 0.5, layers: ["a", "b"])))
  }

  @Test func overrides_replaceValuesReadAsYAML() throws {
    let settings = try PipelineFile.decode(
      Settings.self, yaml: yaml, fileName: "p.yaml",
      overrides: ["train.epochs=7", "train.layers=[x, y, z]", "name=other", "train.layers.1=w"])
    #expect(settings.train.epochs == 7)
    #expect(settings.train.layers == ["x", "w", "z"])
    #expect(settings.name == "other")
  }

  @Test func unknownKeyInTheFile_namesLineAndColumn() {
    let typo = yaml.replacingOccurrences(of: "rate:", with: "rat:")
    #expect { try PipelineFile.decode(Settings.self, yaml: typo, fileName: "p.yaml") } throws: { error in
      "\(error)".contains("p.yaml:") && "\(error)".contains("missing key 'train.rate'")
    }
    let extra = yaml + "\n  extra: 1"
    #expect { try PipelineFile.decode(Settings.self, yaml: extra, fileName: "p.yaml") } throws: { error in
      "\(error)" == "p.yaml:6:3: unknown key 'train.extra' (known here: epochs, layers, rate)"
    }
  }

  @Test func unknownKeyInAnOverride_isRejected() {
    #expect { try PipelineFile.decode(Settings.self, yaml: yaml, fileName: "p.yaml", overrides: ["train.epochz=3"]) } throws: { error in
      "\(error)".contains("unknown key 'train.epochz'") && "\(error)".contains("--set")
    }
  }

  @Test func wrongType_namesTheKeyAndPlace() {
    let bad = yaml.replacingOccurrences(of: "epochs: 3", with: "epochs: many")
    #expect { try PipelineFile.decode(Settings.self, yaml: bad, fileName: "p.yaml") } throws: { error in
      "\(error)" == "p.yaml:3:11: 'train.epochs' should be a whole number"
    }
  }

  @Test func syntaxError_namesLineAndColumn() {
    #expect { try PipelineFile.decode(Settings.self, yaml: "name: [unclosed\ntrain: 1", fileName: "p.yaml") } throws: { error in
      "\(error)".hasPrefix("p.yaml:2:")
    }
  }

  @Test func malformedOverride_isRejected() {
    #expect(throws: PipelineError.self) {
      try PipelineFile.decode(Settings.self, yaml: yaml, fileName: "p.yaml", overrides: ["train.epochs"])
    }
  }

  @Test func emptyFile_isAnError() {
    #expect { try PipelineFile.decode(Settings.self, yaml: "", fileName: "p.yaml") } throws: { error in
      "\(error)" == "p.yaml: the pipeline file is empty"
    }
  }

  // MARK: - Places of values from --set, and of the configuration's own checks

  @Test func wrongTypeInAnOverride_namesTheOverride_notALineOfTheValueText() {
    #expect { try PipelineFile.decode(Settings.self, yaml: yaml, fileName: "p.yaml", overrides: ["train.epochs=many"]) } throws: { error in
      "\(error)" == "p.yaml (--set train.epochs=many): 'train.epochs' should be a whole number"
    }
  }

  @Test func numberOutOfAWholeNumbersRange_saysTheRange() {
    let huge = yaml.replacingOccurrences(of: "epochs: 3", with: "epochs: 1e30")
    #expect { try PipelineFile.decode(Settings.self, yaml: huge, fileName: "p.yaml") } throws: { error in
      "\(error)" == "p.yaml:3:11: 'train.epochs' should be a whole number from \(Int64.min) to \(Int64.max) (got 1e30)"
    }
  }

  @Test func checkError_isPlacedAtItsSetting_inTheFileOrAtItsSet() {
    let check: (Settings) throws -> Void = { settings in
      if settings.train.rate > 1 { throw PipelineError("train.rate must be at most 1", at: "train.rate") }
      if settings.train.epochs > 5 { throw PipelineError("train: too many epochs", at: "train") }
    }
    let fast = yaml.replacingOccurrences(of: "rate: 0.5", with: "rate: 2")
    #expect { try PipelineFile.decode(Settings.self, yaml: fast, fileName: "p.yaml", check: check) } throws: { error in
      "\(error)" == "p.yaml:4:9: train.rate must be at most 1"
    }
    #expect { try PipelineFile.decode(Settings.self, yaml: yaml, fileName: "p.yaml", overrides: ["train.rate=3"], check: check) } throws: { error in
      "\(error)" == "p.yaml (--set train.rate=3): train.rate must be at most 1"
    }
    // A mapping is placed at its key; an override inside it is named too.
    #expect { try PipelineFile.decode(Settings.self, yaml: yaml, fileName: "p.yaml", overrides: ["train.epochs=9"], check: check) } throws: { error in
      "\(error)" == "p.yaml:2:1 (with --set train.epochs=9): train: too many epochs"
    }
  }

  @Test func checkError_withoutAKeyPath_namesTheFile() {
    #expect {
      try PipelineFile.decode(Settings.self, yaml: yaml, fileName: "p.yaml") { _ in throw PipelineError("no good") }
    } throws: { error in
      "\(error)" == "p.yaml: no good"
    }
  }

  // MARK: - Numbers that are not finite

  @Test(arguments: [".nan", ".NaN", ".inf", "-.inf", "+.Inf", "nan", "inf", "-infinity", "1e999"])
  func nonFiniteNumberInTheFile_isRefusedAtItsLineAndColumn(spelling: String) {
    let bad = yaml.replacingOccurrences(of: "rate: 0.5", with: "rate: \(spelling)")
    #expect { try PipelineFile.decode(Settings.self, yaml: bad, fileName: "p.yaml") } throws: { error in
      "\(error)" == "p.yaml:4:9: train.rate: \(spelling) is not a finite number"
    }
  }

  @Test func nonFiniteNumberInASet_namesTheSet() {
    #expect { try PipelineFile.decode(Settings.self, yaml: yaml, fileName: "p.yaml", overrides: ["train.rate=-.inf"]) } throws: { error in
      "\(error)" == "p.yaml (--set train.rate=-.inf): train.rate: -.inf is not a finite number"
    }
  }

  @Test func numberBeyondAFloatsRange_isNotFinite() throws {
    struct Rate: Codable { var rate: Float }
    #expect { try PipelineFile.decode(Rate.self, yaml: "rate: 1e39", fileName: "p.yaml") } throws: { error in
      "\(error)" == "p.yaml:1:7: rate: 1e39 is not a finite number as a 32-bit float (the largest is about 3.4e38)"
    }
    #expect(try PipelineFile.decode(Rate.self, yaml: "rate: 3e38", fileName: "p.yaml").rate == 3e38)
  }

  @Test func nanAsAString_isJustAString() throws {
    let named = yaml.replacingOccurrences(of: "name: demo", with: "name: nan")
    #expect(try PipelineFile.decode(Settings.self, yaml: named, fileName: "p.yaml").name == "nan")
  }
}
