import DataIO
import Foundation
import NeuralNet
import Pipeline
import TestSupport
import Tensor
import Testing
@testable import DigitsPipeline

/// The whole pipeline on a tiny dataset the test makes: zip in, submission out, cache behaviour.
@Suite struct EndToEndTests {
  let folder: TemporaryFolder
  let dataset = TinyDataset()
  let zip: URL

  init() throws {
    folder = try TemporaryFolder()
    zip = folder.url.appending(path: "digits.zip")
    try writeZip(["train.csv": Data(dataset.trainCSV.utf8), "test.csv": Data(dataset.testCSV.utf8)], to: zip)
  }

  static let configurationYAML = """
    name: tiny
    seed: 3
    normalise:
      scaling: standardize
    split:
      validation_fraction: 0.2
    train:
      model:
        init: he
        layers: [{dense: 32}, relu, {dense: 10}]
      optimizer: {kind: adam, learning_rate: 0.01}
      epochs: 4
      batch_size: 32
      schedule: cosine
    """

  func configuration(_ overrides: [String] = []) throws -> DigitsConfiguration {
    try PipelineFile.decode(DigitsConfiguration.self, yaml: Self.configurationYAML, fileName: "tiny.yaml", overrides: overrides)
  }

  func runner(output: String = "out", overrides: [String] = [], input: URL? = nil, model: URL? = nil) throws -> Runner {
    let graph = try DigitsPipeline.graph(configuration: configuration(overrides), input: input ?? zip, pretrainedModel: model)
    return Runner(graph: graph, outputDirectory: folder.url.appending(path: output, directoryHint: .isDirectory))
  }

  func ran(_ outcomes: [StageOutcome]) -> [String] {
    outcomes.filter { if case .ran = $0.action { true } else { false } }.map(\.name)
  }

  @Test func fullRun_writesAKaggleSubmissionThatIsMostlyRight() throws {
    let outcomes = try runner().run()
    #expect(ran(outcomes) == ["unpack", "parse", "split", "normalise", "train", "evaluate", "predict", "report"])

    // The format's one check, as `pipeline submit` runs it (SubmissionTests tests the check).
    let submission = folder.url.appending(path: "out/submission.csv")
    let predicted = try Submission.labels(in: Data(contentsOf: submission), file: submission.path, rows: dataset.testRows)
    let correct = Swift.zip(predicted, dataset.testLabels).filter { $0 == $1 }.count
    #expect(correct >= dataset.testRows * 9 / 10, "a bar per class is easy: \(correct)/\(dataset.testRows)")

    let evaluation = Evaluation(directory: outcomes.first { $0.name == "evaluate" }!.directory)
    let metrics = try JSONDecoder().decode(Metrics.self, from: Data(contentsOf: evaluation.metrics))
    #expect(metrics.rows == 60)
    #expect(metrics.accuracy >= 0.9)
    #expect(metrics.confusion.flatMap { $0 }.reduce(0, +) == 60)
    // Published beside the submission, the same bytes as the cache entry's.
    #expect(try Data(contentsOf: folder.url.appending(path: "out/metrics.json")) == Data(contentsOf: evaluation.metrics))
  }

  /// The rows the train stage learns from, made floats, are the normalise stage's features of the
  /// split's rows, bit for bit, under either scaling: training makes its floats from the pixels
  /// itself, and evaluation reads the normalise stage's files.
  @Test(arguments: ["standardize", "unit"]) func trainingRows_areTheNormaliseStagesFeatures(scaling: String) throws {
    let outcomes = try runner(output: scaling, overrides: ["normalise.scaling=\(scaling)"]).run()
    let directory = { (stage: String) in outcomes.first { $0.name == stage }!.directory }
    let stages = [StageName.parse, StageName.normalise, StageName.split]
    let context = StageContext(
      outputDirectory: folder.url.appending(path: "unused"),
      inputDirectories: Dictionary(uniqueKeysWithValues: stages.map { ($0, directory($0)) }),
      reporter: SilentReporter(), stageName: StageName.train)
    let rows = try LabelledRows.load(context, from: LabelledRows.Inputs())
    let normalised = NormalisedFeatures(directory: directory(StageName.normalise))
    let features = try NumpyFile.read(from: normalised.trainFeatures).values(as: Float.self)
    let split = SplitIndices(directory: directory(StageName.split))
    func expected(_ indices: URL) throws -> [UInt32] {
      let width = DigitCSV.pixelCount
      return try NumpyFile.read(from: indices).values(as: Int64.self)
        .flatMap { features[(Int($0) * width)..<((Int($0) + 1) * width)] }.map(\.bitPattern)
    }
    #expect(rows.train.features.expanded().scalars.map(\.bitPattern) == (try expected(split.trainIndices)))
    #expect(rows.validation.features.scalars.map(\.bitPattern) == (try expected(split.validationIndices)))
    #expect(rows.train.labels.count == rows.train.features.rows && !rows.validation.labels.isEmpty)
  }

  @Test func secondRun_runsNothing() throws {
    try runner().run()
    let outcomes = try runner().run()
    #expect(ran(outcomes).isEmpty)
  }

  @Test func trainingParameterChange_rerunsTrainEvaluatePredictOnly() throws {
    try runner().run()
    let outcomes = try runner(overrides: ["train.epochs=2"]).run()
    #expect(ran(outcomes) == ["train", "evaluate", "predict", "report"])
  }

  @Test func splitChange_doesNotRecomputeUnitScaledFeatures() throws {
    try runner(overrides: ["normalise.scaling=unit"]).run()
    let outcomes = try runner(overrides: ["normalise.scaling=unit", "split.validation_fraction=0.3"]).run()
    #expect(ran(outcomes) == ["split", "train", "evaluate", "predict", "report"])
  }

  @Test func addingEnsembleMembers_trainsOnlyTheNewOnes() throws {
    try runner().run()
    let outcomes = try runner(overrides: ["ensemble=3"]).run()
    #expect(ran(outcomes) == ["train.2", "train.3", "evaluate", "predict", "report"])
    let evaluation = Evaluation(directory: outcomes.first { $0.name == "evaluate" }!.directory)
    let metrics = try JSONDecoder().decode(Metrics.self, from: Data(contentsOf: evaluation.metrics))
    #expect(metrics.memberAccuracies?.count == 3)
    #expect(metrics.accuracy >= 0.9)
  }

  @Test func stageGroup_runsEveryEnsembleMember() throws {
    let outcomes = try runner(overrides: ["ensemble=2"]).run(target: "train")
    #expect(ran(outcomes) == ["unpack", "parse", "split", "normalise", "train", "train.2"])
  }

  @Test func sameSeed_givesBitIdenticalModelAndSubmission() throws {
    let first = try runner(output: "a").run()
    let second = try runner(output: "b").run()
    var differing: [String] = []
    for (a, b) in Swift.zip(first, second) {
      #expect(a.fingerprint == b.fingerprint)
      // history.json and the report record wall-clock seconds; everything else must match to the byte.
      for file in try FileManager.default.contentsOfDirectory(atPath: a.directory.path)
      where ![Manifest.fileName, "history.json", "index.html"].contains(file) {
        if try Data(contentsOf: a.directory.appending(path: file)) != Data(contentsOf: b.directory.appending(path: file)) {
          differing.append("\(a.name)/\(file)")
        }
      }
    }
    #expect(differing == [])
  }

  @Test func savedModel_reloadsWithTheSamePredictions() throws {
    let outcomes = try runner().run()
    let trained = TrainedModel(directory: outcomes.first { $0.name == "train" }!.directory)
    let predictions = Predictions(directory: outcomes.first { $0.name == "predict" }!.directory)
    var model = try ModelFile.read(from: trained.model).network
    let normalised = NormalisedFeatures(directory: outcomes.first { $0.name == "normalise" }!.directory)
    let features = try NumpyFile.read(from: normalised.testFeatures)
    let probabilities = Trainer.predictProbabilities(
      &model, features: .init(shape: features.shape, scalars: try features.values(as: Float.self)))
    #expect(probabilities.scalars == (try NumpyFile.read(from: predictions.probabilities).values(as: Float.self)))
  }

  /// Test-time augmentation is a prediction setting: turning it on retrains nothing, and the
  /// probabilities are the mean over the image and its four one-pixel shifts.
  @Test func testTimeShift_averagesFiveViews_andRetrainsNothing() throws {
    try runner().run()
    let outcomes = try runner(overrides: ["test_time_shift=1"]).run()
    #expect(ran(outcomes) == ["evaluate", "predict", "report"])

    let trained = TrainedModel(directory: outcomes.first { $0.name == "train" }!.directory)
    let normalised = NormalisedFeatures(directory: outcomes.first { $0.name == "normalise" }!.directory)
    let predictions = Predictions(directory: outcomes.first { $0.name == "predict" }!.directory)
    var model = try ModelFile.read(from: trained.model).network
    let array = try NumpyFile.read(from: normalised.testFeatures)
    let features = Tensor(shape: array.shape, scalars: try array.values(as: Float.self))
    let background = try JSONDecoder().decode(
      NormaliseStage.Normalisation.self, from: Data(contentsOf: normalised.normalisation)
    ).offset
    let views = [features] + [(1, 0), (-1, 0), (0, 1), (0, -1)].map { right, down in
      shiftedImages(features, height: 28, width: 28, right: right, down: down, background: background)
    }
    let perView = views.map { Trainer.predictProbabilities(&model, features: $0) }
    let expected = (0..<features.rows * 10).map { index in perView.reduce(0) { $0 + $1.scalars[index] } / 5 }
    let written = try NumpyFile.read(from: predictions.probabilities).values(as: Float.self)
    #expect(written.count == expected.count)
    #expect(Swift.zip(written, expected).allSatisfy { abs($0 - $1) < 1e-6 })
    #expect(written != perView[0].scalars)
  }

  /// test_time_rotation: the image and its copies turned by −D and +D degrees, averaged; a
  /// setting of evaluate and predict alone.
  @Test func testTimeRotation_averagesThreeViews_andRetrainsNothing() throws {
    try runner().run()
    let outcomes = try runner(overrides: ["test_time_rotation=8"]).run()
    #expect(ran(outcomes) == ["evaluate", "predict", "report"])
    var model = try ModelFile.read(from: TrainedModel(directory: outcomes.directory(of: "train")).model).network
    let normalised = NormalisedFeatures(directory: try outcomes.directory(of: "normalise"))
    let array = try NumpyFile.read(from: normalised.testFeatures)
    let features = Tensor(shape: array.shape, scalars: try array.values(as: Float.self))
    let background = try JSONDecoder().decode(
      NormaliseStage.Normalisation.self, from: Data(contentsOf: normalised.normalisation)).offset
    let views = [features] + [-8, 8].map { rotatedImages(features, height: 28, width: 28, degrees: $0, background: background) }
    let perView = views.map { Trainer.predictProbabilities(&model, features: $0) }
    let expected = (0..<features.rows * 10).map { index in perView.reduce(0) { $0 + $1.scalars[index] } / 3 }
    let written = try NumpyFile.read(from: Predictions(directory: outcomes.directory(of: "predict")).probabilities).values(as: Float.self)
    #expect(Swift.zip(written, expected).allSatisfy { abs($0 - $1) < 1e-6 })
    #expect(written != perView[0].scalars)
    #expect(throws: PipelineError.self) { try runner(overrides: ["test_time_rotation=50"]) }
    #expect(throws: PipelineError.self) { try runner(overrides: ["test_time_rotation=0"]) }
  }

  @Test func testTimeShift_outOfRange_isAPipelineFileError() throws {
    #expect(throws: PipelineError.self) { try runner(overrides: ["test_time_shift=14"]) }
  }

  @Test(.enabled(if: Python.hasNumpy)) func numpy_readsEveryArtifactAndTheModel() throws {
    let outcomes = try runner().run()
    let directories = outcomes.map(\.directory.path)
    let report = try Python.run("""
      import sys, glob, os, numpy as np
      shapes = []
      for directory in sys.argv[1:]:
          for path in sorted(glob.glob(os.path.join(directory, "*.np[yz]"))):
              data = np.load(path, allow_pickle=False)
              if path.endswith(".npz"):
                  shapes += [f"{os.path.basename(path)}:{k}:{data[k].dtype}:{data[k].shape}" for k in data.files]
              else:
                  shapes.append(f"{os.path.basename(path)}:{data.dtype}:{data.shape}")
      print("\\n".join(shapes))
      """, arguments: directories)
    let lines = Set(report.split(separator: "\n").map(String.init))
    #expect(lines.contains("train_pixels.npy:uint8:(300, 784)"))
    #expect(lines.contains("train_labels.npy:uint8:(300,)"))
    #expect(lines.contains("test_features.npy:float32:(40, 784)"))
    #expect(lines.contains("train_indices.npy:int64:(240,)"))
    #expect(lines.contains("probabilities.npy:float32:(40, 10)"))
    #expect(lines.contains("confusion.npy:int64:(10, 10)"))
    #expect(lines.contains { $0.hasPrefix("model.npz:architecture:<U") })
    #expect(lines.contains { $0.hasPrefix("model.npz:") && $0.hasSuffix(":float32:(784, 32)") || $0.hasSuffix(":float32:(32, 784)") })
  }

  // MARK: - A model from elsewhere

  @Test func pretrainedModel_replacesTrainingAndPredictsTheSame() throws {
    let trained = try runner(output: "a").run()
    let modelFile = folder.url.appending(path: "model.npz")
    try FileManager.default.copyItem(at: TrainedModel(directory: trained.first { $0.name == "train" }!.directory).model, to: modelFile)

    let outcomes = try runner(output: "b", model: modelFile).run(skipping: ["evaluate"])
    #expect(ran(outcomes) == ["unpack", "parse", "split", "normalise", "pretrained", "predict"])
    let submission = { (name: String) in try Data(contentsOf: self.folder.url.appending(path: "\(name)/submission.csv")) }
    #expect(try submission("a") == submission("b"))
  }

  @Test func pretrainedModel_fromAnotherNormalisation_isAClearError() throws {
    let trained = try runner(output: "a").run()
    let modelFile = TrainedModel(directory: trained.first { $0.name == "train" }!.directory).model
    #expect { try runner(output: "b", overrides: ["normalise.scaling=unit"], model: modelFile).run() } throws: { error in
      "\(error)".contains("use the pipeline file the model was trained with")
    }
  }

  @Test func damagedModelFile_isAClearError() throws {
    let modelFile = folder.url.appending(path: "model.npz")
    try Data("PK garbage".utf8).write(to: modelFile)
    #expect { try runner(model: modelFile).run() } throws: { error in
      "\(error)".contains("model.npz: not a readable model file")
    }
  }

  @Test func skippingAStage_skipsWhatReadsIt_butNotWhatATargetNeeds() throws {
    let outcomes = try runner().run(skipping: ["evaluate"])
    #expect(ran(outcomes) == ["unpack", "parse", "split", "normalise", "train", "predict"])
    #expect { try runner().run(target: "predict", skipping: ["normalise"]) } throws: { error in
      "\(error)".contains("cannot run 'predict' while skipping")
    }
  }

  @Test func report_isOnePageWithEverySection() throws {
    try runner().run()
    let page = try String(contentsOf: folder.url.appending(path: "out/report/index.html"), encoding: .utf8)
    for section in ["run", "training", "confusion", "per-class", "mistakes", "distribution"] {
      #expect(page.contains("id=\"\(section)\""), "section \(section)")
    }
    // Self-contained: the only address in the page is the SVG namespace name, which is never fetched.
    let addresses = page.components(separatedBy: "://").dropFirst().map { $0.prefix(while: { $0 != "\"" }) }
    #expect(addresses.allSatisfy { $0 == "www.w3.org/2000/svg" })
    let metrics = try JSONDecoder().decode(Metrics.self, from: Data(contentsOf: try runner().run().first { $0.name == "evaluate" }!.directory.appending(path: "metrics.json")))
    #expect(page.contains(String(format: "%.2f%%", metrics.accuracy * 100)))
  }

  /// The report's run section, where it says what ran.
  func runSection(_ output: String) throws -> String {
    let page = try String(contentsOf: folder.url.appending(path: "\(output)/report/index.html"), encoding: .utf8)
    let start = try #require(page.range(of: "<section id=\"run\">"))
    let end = try #require(page.range(of: "</section>", range: start.upperBound..<page.endIndex))
    return String(page[start.lowerBound..<end.lowerBound])
  }

  @Test func report_ofATrainingRun_listsTheTrainSettingsAsATable() throws {
    try runner().run()
    let run = try runSection("out")
    #expect(run.contains("<tbody data-parameters-of=\"train\">"))
    #expect(run.contains("<tr data-parameter=\"epochs\"><td><code>epochs</code></td><td><code>4</code></td></tr>"))
    #expect(run.contains("<td><code>optimizer.kind</code></td><td><code>adam</code></td>"))
    #expect(run.contains("<td><code>model.layers</code></td><td><code>[{dense: 32}, relu, {dense: 10}]</code></td>"))
    #expect(run.contains("<dd id=\"model-source\">trained by this pipeline</dd>"))
    #expect(run.contains("<code>784 → dense 32 → relu → dense 10</code>, 25\u{2009}450 parameters"))
    #expect(!run.contains("&quot;epochs&quot;"))  // no JSON dump
  }

  @Test func report_withAModelFile_describesTheFile_notThePipelineFilesTraining() throws {
    // A network this pipeline never trained, written straight to a model file.
    var generator = SeededGenerator(seed: 11)
    let spec = ModelSpec(layers: [.dense(units: 16), .relu, .dense(units: 10)], initialization: .he)
    let network = Sequential(spec: spec, inputSize: 784, using: &generator)
    let modelFile = folder.url.appending(path: "small <model>.npz")
    try ModelFile(network: network, normalisation: nil).write(to: modelFile)
    let bytes = try Data(contentsOf: modelFile)

    let outcomes = try runner(model: modelFile).run()
    #expect(ran(outcomes) == ["unpack", "parse", "split", "normalise", "pretrained", "evaluate", "predict", "report"])
    let run = try runSection("out")
    let hash = Fingerprint.of(bytes: bytes)
    // Named as given, escaped; its size (about 50 KiB) in the report's binary units.
    let named = modelFile.path.replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    #expect(run.contains("<dd id=\"model-source\"><code>\(named)</code> (sha256 <code title=\"\(hash.hex)\">\(hash.short)</code>, "))
    #expect(run.contains(" KiB), from outside the pipeline: not trained by this run</dd>"))
    #expect(run.contains("<code>784 → dense 16 → relu → dense 10</code>, 12\u{2009}730 parameters"))
    #expect(run.contains("<code>{init: he, layers: [{dense: 16}, relu, {dense: 10}]}</code>"))
    #expect(run.contains("<dd id=\"model-normalisation\">not recorded</dd>"))
    #expect(run.contains("<dd id=\"model-training\">not recorded: "))
    #expect(run.contains("<dd id=\"ensemble\">1 model (<code>pretrained</code>)</dd>"))
    // The parts of the pipeline file that ran still show; its train section does not.
    #expect(run.contains("<tbody data-parameters-of=\"normalise\">"))
    #expect(run.contains("<tbody data-parameters-of=\"evaluate\">"))
    for trainSetting in ["data-parameters-of=\"train\"", "optimizer.kind", "learning_rate", ">adam<", "cosine", "data-parameter=\"epochs\"", "dense: 32"] {
      #expect(!run.contains(trainSetting), "\(trainSetting)")
    }
  }

  // MARK: - Bad input

  @Test func badPixel_namesFileLineAndColumn_andLeavesNoParseEntry() throws {
    var csv = dataset.trainCSV
    let thirdLine = csv.split(separator: "\n")[2]
    csv = csv.replacingOccurrences(of: thirdLine, with: thirdLine.replacingOccurrences(of: ",", with: ",x", options: [], range: thirdLine.range(of: ",")))
    let bad = folder.url.appending(path: "bad.zip")
    try writeZip(["train.csv": Data(csv.utf8), "test.csv": Data(dataset.testCSV.utf8)], to: bad)
    #expect { try runner(input: bad).run() } throws: { error in
      let message = "\(error)"
      return message.contains("train.csv:3:3") && message.contains("x") && !message.contains("\n")
    }
    let parseFolder = folder.url.appending(path: "out/cache/parse")
    #expect(((try? FileManager.default.contentsOfDirectory(atPath: parseFolder.path)) ?? []).isEmpty)
  }

  @Test func notAZip_isAOneLineErrorNamingTheFile() throws {
    let bogus = folder.url.appending(path: "bogus.zip")
    try Data("this is not a zip".utf8).write(to: bogus)
    #expect { try runner(input: bogus).run() } throws: { error in
      "\(error)".contains("bogus.zip") && !"\(error)".contains("\n")
    }
  }

  @Test func missingMember_isNamed() throws {
    let partial = folder.url.appending(path: "partial.zip")
    try writeZip(["train.csv": Data(dataset.trainCSV.utf8)], to: partial)
    #expect { try runner(input: partial).run() } throws: { error in
      "\(error)".contains("test.csv") && "\(error)".contains("partial.zip")
    }
  }

  @Test func divergingTraining_stopsNamingTheEpochAndSuggestingALowerRate() throws {
    #expect { try runner(overrides: ["train.optimizer.learning_rate=1.0e30"]).run() } throws: { error in
      let message = "\(error)"
      return message.contains("in epoch 1") && message.contains("lower learning rate")
    }
    #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder.url.appending(path: "out/cache/train").path)) ?? []).isEmpty)
  }

  @Test func aFolderACSVPathOrAZipWithATopFolder_allGiveTheSameParse() throws {
    let plain = try runner(output: "zip").run(target: "parse")
    let folderInput = folder.url.appending(path: "unzipped", directoryHint: .isDirectory)
    try FileManager.default.createDirectory(at: folderInput, withIntermediateDirectories: true)
    try Data(dataset.trainCSV.utf8).write(to: folderInput.appending(path: "train.csv"))
    try Data(dataset.testCSV.utf8).write(to: folderInput.appending(path: "test.csv"))
    let nested = folder.url.appending(path: "nested.zip")
    try writeZip(
      ["digit-recognizer/train.csv": Data(dataset.trainCSV.utf8), "digit-recognizer/test.csv": Data(dataset.testCSV.utf8)],
      to: nested)

    for (name, input) in [("folder", folderInput), ("csv", folderInput.appending(path: "test.csv")), ("nested", nested)] {
      let outcome = try runner(output: name, input: input).run(target: "parse")
      let arrays = ParsedArrays(directory: outcome.last!.directory)
      let expected = ParsedArrays(directory: plain.last!.directory)
      for file in [\ParsedArrays.trainPixels, \.trainLabels, \.testPixels] {
        #expect(try Data(contentsOf: arrays[keyPath: file]) == Data(contentsOf: expected[keyPath: file]), "\(name)")
      }
    }
  }

  @Test func zipWithATraversingEntry_isRefusedBeforeAnythingIsWritten() throws {
    let hostile = folder.url.appending(path: "hostile.zip")
    try writeZip(
      ["train.csv": Data(dataset.trainCSV.utf8), "test.csv": Data(dataset.testCSV.utf8), "../escape.txt": Data("x".utf8)],
      to: hostile)
    #expect { try runner(input: hostile).run() } throws: { error in
      "\(error)".contains("hostile.zip") && "\(error)".contains("escape.txt")
    }
    #expect(!FileManager.default.fileExists(atPath: folder.url.appending(path: "escape.txt").path))
  }

  @Test func missingInput_isNamed() throws {
    #expect { try runner(input: folder.url.appending(path: "nowhere.zip")).run() } throws: { error in
      "\(error)".contains("nowhere.zip")
    }
  }
}
