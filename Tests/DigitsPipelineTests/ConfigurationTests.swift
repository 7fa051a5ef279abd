import DataIO
import Foundation
import NeuralNet
import Pipeline
import Tensor
import Testing
@testable import DigitsPipeline

@Suite struct ConfigurationTests {
  static let repository = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  @Test(arguments: ["default", "mlp", "seed"])
  func shippedPipelines_decodeAndBuildAGraph(name: String) throws {
    let url = Self.repository.appending(path: "pipelines/\(name).yaml")
    let configuration = try DigitsPipeline.loadConfiguration(from: url)
    #expect(configuration.name == name)
    let graph = try DigitsPipeline.graph(configuration: configuration, input: URL(filePath: "/dev/null"))
    let members = (1...configuration.memberCount).map(StageName.train(member:))
    let splits = configuration.split.folds.map { (1...$0).map(StageName.split(fold:)) } ?? [StageName.split]
    #expect(graph.names == ["unpack", "parse"] + splits + ["normalise"] + members + ["evaluate", "predict", "report"])
  }

  @Test func seedPipeline_isTheOriginalNetwork() throws {
    let configuration = try DigitsPipeline.loadConfiguration(from: Self.repository.appending(path: "pipelines/seed.yaml"))
    #expect(configuration.train.model == ModelSpec(layers: [.dense(units: 10), .relu, .dense(units: 10)], initialization: .uniform))
    #expect(configuration.train.batchSize == .full)
    #expect(configuration.train.epochs == 500)
    #expect(configuration.train.optimizer.kind == .sgd)
    #expect(configuration.train.optimizer.learningRate == 0.1)
    #expect(configuration.split.validationRows == 1000)
    #expect(configuration.normalise.scaling == .unit)
  }

  @Test func batchSize_acceptsANumberOrFull_andNothingElse() throws {
    let yaml = try String(contentsOf: Self.repository.appending(path: "pipelines/mlp.yaml"), encoding: .utf8)
    #expect(try PipelineFile.decode(DigitsConfiguration.self, yaml: yaml, fileName: "m", overrides: ["train.batch_size=full"]).train.batchSize == .full)
    #expect(try PipelineFile.decode(DigitsConfiguration.self, yaml: yaml, fileName: "m", overrides: ["train.batch_size=64"]).train.batchSize == .rows(64))
    #expect(throws: PipelineError.self) {
      try PipelineFile.decode(DigitsConfiguration.self, yaml: yaml, fileName: "m", overrides: ["train.batch_size=0"])
    }
    #expect(throws: PipelineError.self) {
      try PipelineFile.decode(DigitsConfiguration.self, yaml: yaml, fileName: "m", overrides: ["train.batch_size=half"])
    }
  }

  @Test func split_needsExactlyOneSize() throws {
    let url = Self.repository.appending(path: "pipelines/mlp.yaml")
    #expect { try DigitsPipeline.loadConfiguration(from: url, overrides: ["split.validation_rows=10"]) } throws: { error in
      "\(error)".contains("exactly one of validation_rows, validation_fraction and folds")
    }
    #expect(throws: PipelineError.self) {
      try DigitsPipeline.loadConfiguration(from: url, overrides: ["split.validation_fraction=1.5"])
    }
  }

  /// Undistorted last epochs must leave at least one distorted epoch; otherwise the
  /// augmentation would silently do nothing.
  @Test func undistortedLastEpochs_mustLeaveADistortedEpoch() throws {
    let url = Self.repository.appending(path: "pipelines/cnn.yaml")
    let fine = try DigitsPipeline.loadConfiguration(from: url, overrides: ["train.augmentation.undistorted_last_epochs=2"])
    #expect(fine.train.augmentation?.undistortedLastEpochs == 2)
    for bad in ["train.augmentation.undistorted_last_epochs=12", "train.augmentation.undistorted_last_epochs=-1"] {
      #expect { try DigitsPipeline.loadConfiguration(from: url, overrides: [bad]) } throws: { error in
        "\(error)".contains("undistorted_last_epochs must be at least 0 and less than train.epochs (12)")
      }
    }
  }

  /// ema_decay is a decay strictly between 0 and 1, and enters the train stage's parameters
  /// (so its fingerprint) only when set: pipelines without it keep their cache entries.
  @Test func emaDecay_isBetweenZeroAndOne_andEncodedOnlyWhenSet() throws {
    let url = Self.repository.appending(path: "pipelines/cnn.yaml")
    let averaged = try DigitsPipeline.loadConfiguration(from: url, overrides: ["train.ema_decay=0.999"])
    #expect(averaged.train.emaDecay == 0.999)
    let plain = try DigitsPipeline.loadConfiguration(from: url)
    #expect(!String(decoding: try canonicalJSON(plain.train), as: UTF8.self).contains("ema"))
    #expect(String(decoding: try canonicalJSON(averaged.train), as: UTF8.self).contains("\"ema_decay\":0.999"))
    for bad in ["train.ema_decay=1", "train.ema_decay=0", "train.ema_decay=-0.5"] {
      #expect { try DigitsPipeline.loadConfiguration(from: url, overrides: [bad]) } throws: { error in
        "\(error)".contains("train.ema_decay must be greater than 0 and less than 1")
      }
    }
  }

  /// A setting out of range is reported where it was written: the file's line and column, or
  /// the `--set` that gave it.
  @Test func settingOutOfRange_isPlacedAtItsLineOrItsSet() throws {
    let url = Self.repository.appending(path: "pipelines/mlp.yaml")
    #expect { try DigitsPipeline.loadConfiguration(from: url, overrides: ["train.epochs=0"]) } throws: { error in
      "\(error)" == "\(url.path) (--set train.epochs=0): train.epochs must be at least 1 (got 0)"
    }
    let yaml = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "epochs: 20", with: "epochs: 0")
    let file = FileManager.default.temporaryDirectory.appending(path: "epochs-\(UUID().uuidString).yaml")
    try yaml.write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }
    #expect { try DigitsPipeline.loadConfiguration(from: file) } throws: { error in
      "\(error)" == "\(file.path):25:11: train.epochs must be at least 1 (got 0)"
    }
  }

  /// Every number of the configuration is covered, whatever section declares it.
  @Test(arguments: [
    "train.optimizer.learning_rate", "train.optimizer.weight_decay", "train.label_smoothing", "split.validation_fraction",
    "train.augmentation.rotation", "train.augmentation.elastic_sigma",
  ])
  func nonFiniteNumber_isRefusedInAnyField(key: String) throws {
    let url = Self.repository.appending(path: "pipelines/cnn.yaml")
    for spelling in [".nan", "-.inf", "inf"] {
      #expect { try DigitsPipeline.loadConfiguration(from: url, overrides: ["\(key)=\(spelling)"]) } throws: { error in
        "\(error)" == "\(url.path) (--set \(key)=\(spelling)): \(key): \(spelling) is not a finite number"
      }
    }
  }

  /// Numbers that decode but that no training could use are refused with the range they missed,
  /// rather than trapping (a shift of 1e30 pixels reached an `Int` conversion) or training on NaN.
  @Test(arguments: [
    ("train.augmentation.shift=1e30", "train.augmentation.shift must be between 0 and 28 pixels (got 1e+30)"),
    ("train.augmentation.scale=1", "train.augmentation.scale must be at least 0 and less than 1 (got 1.0)"),
    ("train.augmentation.rotation=-5", "train.augmentation.rotation must be between 0 and 180 degrees (got -5.0)"),
    ("train.augmentation.elastic_alpha=1e9", "train.augmentation.elastic_alpha must be between 0 and 1000 pixels (Simard et al. use 34) (got 1e+09)"),
    ("train.augmentation.elastic_sigma=0", "train.augmentation.elastic_sigma must be more than 0 and at most 28 pixels (got 0.0)"),
    ("train.optimizer.beta2=1", "train.optimizer.beta2 must be at least 0 and less than 1 (got 1.0)"),
    ("train.optimizer.epsilon=0", "train.optimizer.epsilon must be positive (got 0.0)"),
    ("train.optimizer.weight_decay=-0.1", "train.optimizer.weight_decay must be at least 0 (got -0.1)"),
    ("train.label_smoothing=2", "train.label_smoothing must be between 0 and 1 (got 2.0)"),
    ("ensemble=1000000000", "ensemble must be between 1 and 100 networks (got 1000000000)"),
  ])
  func numberOutOfItsRange_isRefusedAtItsSet(override: String, message: String) {
    let url = Self.repository.appending(path: "pipelines/cnn.yaml")
    #expect { try DigitsPipeline.loadConfiguration(from: url, overrides: [override]) } throws: { error in
      "\(error)" == "\(url.path) (--set \(override)): \(message)"
    }
  }

  /// A model whose training step cannot fit the machine is refused at `train.model`, saying
  /// what it needs and what there is.
  @Test func modelTooLargeForThisMachine_isRefusedAtTrainModel_withNeededAndAvailable() throws {
    let url = Self.repository.appending(path: "pipelines/mlp.yaml")
    let override = "train.model.layers.0.dense=100000000"
    #expect { try DigitsPipeline.loadConfiguration(from: url, overrides: [override]) } throws: { error in
      let message = "\(error)"
      return message.hasPrefix("\(url.path):13:3 (with --set \(override)): train.model: training it needs about 2124 GiB for a batch of 128 rows (parameters 483 GiB,")
        && message.contains("adamw state 966 GiB") && message.contains(", but this machine has ")
        && !message.contains("\n")
    }
    // The same check with a machine given: the figures and where they come from.
    let configuration = try DigitsPipeline.loadConfiguration(from: Self.repository.appending(path: "pipelines/cnn.yaml"))
    let small = SystemMemory(bytes: 256 * 1_048_576, source: "a test")
    #expect { try configuration.validate(availableMemory: small) } throws: { error in
      (error as? PipelineError)?.keyPath == "train.model"
        && "\(error)".hasSuffix("but this machine has 256 MiB (a test)")
    }
  }

  /// The shipped pipelines need well under a gigabyte, `full` batches (seed.yaml) included.
  @Test(arguments: ["default", "mlp", "cnn", "seed"])
  func shippedPipelines_fitInAGigabyte(name: String) throws {
    let configuration = try DigitsPipeline.loadConfiguration(from: Self.repository.appending(path: "pipelines/\(name).yaml"))
    try configuration.validate(availableMemory: SystemMemory(bytes: 1_073_741_824, source: "a test"))
  }

  @Test func typoInALayer_isCaught() throws {
    let url = Self.repository.appending(path: "pipelines/mlp.yaml")
    #expect(throws: (any Error).self) {
      try DigitsPipeline.loadConfiguration(from: url, overrides: ["train.model.layers.1=relux"])
    }
  }

  @Test func modelThatDoesNotFitDigits_isAPipelineFileError() throws {
    let url = Self.repository.appending(path: "pipelines/mlp.yaml")
    #expect { try DigitsPipeline.loadConfiguration(from: url, overrides: ["train.model.layers=[{dense: 7}]"]) } throws: { error in
      "\(error)".contains("10 digit classes")
    }
    #expect { try DigitsPipeline.loadConfiguration(from: url, overrides: ["train.model.layers=[{conv2d: {filters: 4, kernel: 3}}, {dense: 10}]"]) } throws: { error in
      "\(error)".contains("train.model:")
    }
  }

  /// `make <stage>` lists the stages in the Makefile, which cannot read Swift: it must name the
  /// ones `--stage` takes, in the same order.
  @Test func makefileStages_areTheRunnableStages() throws {
    let makefile = try String(contentsOf: Self.repository.appending(path: "Makefile"), encoding: .utf8)
    let line = try #require(makefile.split(separator: "\n").first { $0.hasPrefix("STAGES") })
    let names = line.split(separator: "=", maxSplits: 1)[1].split(separator: " ").map(String.init)
    #expect(names == StageName.runnable)
  }

  @Test func submission_isKagglesFormat() {
    #expect(Submission.csv(labels: [3, 0, 9]) == "ImageId,Label\n1,3\n2,0\n3,9\n")
  }
}

@Suite struct ShippedModelTests {
  @Test func pretrainedModel_loadsAndFitsTheDefaultPipeline() throws {
    let url = ConfigurationTests.repository.appending(path: "input/pretrained.npz")
    let model = try ModelFile.read(from: url)
    #expect(model.network.inputSize == 784)
    #expect(model.network.outputSize == 10)
    let normalisation = try #require(model.normalisation)
    // The default pipeline standardizes: scale 1/(255·std) with std ≈ 0.308.
    #expect(abs(normalisation.scale - 1 / (255 * 0.3084)) < 1e-3)
  }
}
