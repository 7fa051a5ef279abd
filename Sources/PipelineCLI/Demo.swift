import ArgumentParser
import DataIO
import DigitsPipeline
import Foundation
import Machine
import Pipeline
import Report
import Tensor

extension PipelineCommand {
  /// The original project's demo, in a terminal: test digits drawn in half blocks, each with the
  /// network's guess and its probability.
  struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Draw test digits in the terminal with the model's guess and its probability.",
      discussion: "Brings the predict stage up to date first (from the cache when it is fresh); with --model, no training is done.")

    @OptionGroup var locations: Locations

    @Option(help: "How many test digits to draw.")
    var count = 8

    @Option(help: "The first test row to draw (0-based).")
    var start = 0

    @Option(help: "Digits per line of output.")
    var perLine = 4

    func validate() throws {
      guard count >= 1 else { throw ValidationError("--count must be at least 1") }
      guard start >= 0 else { throw ValidationError("--start cannot be negative") }
      guard perLine >= 1 else { throw ValidationError("--per-line must be at least 1") }
    }

    func run() throws {
      let kernels = try failing { try ProcessSetup.prepareForNumericWork(log: ConsoleReporter.printError) }
      let reporter = ConsoleReporter()
      let scratch = ScratchRegistry()
      Interruption.install(removing: scratch)
      let machine = MachineSummary.current(kernelChoice: kernels).lines
      let outcomes = try failing {
        try locations.runner(reporter: reporter, scratch: scratch, machine: machine).run(target: StageName.predict)
      }
      reporter.finishLine()
      let (pixels, probabilities) = try failing {
        let parsed = ParsedArrays(directory: try outcomes.directory(of: StageName.parse))
        let predictions = Predictions(directory: try outcomes.directory(of: StageName.predict))
        return (
          try NumpyFile.read(from: parsed.testPixels).values(as: UInt8.self),
          try NumpyFile.read(from: predictions.probabilities).values(as: Float.self))
      }
      let rows = pixels.count / DigitCSV.pixelCount
      guard start < rows else {
        ConsoleReporter.printError("error: --start \(start) is past the last test row (\(rows - 1))")
        throw ExitCode.failure
      }
      let classes = DigitCSV.classCount
      let labels = argmaxRows(probabilities, columns: classes)
      let panels = (start..<min(rows, start + count)).map { row in
        TerminalDigit.Panel(
          pixels: Array(pixels[row * DigitCSV.pixelCount..<(row + 1) * DigitCSV.pixelCount]),
          caption: "#\(row + 1): "
            + TerminalDigit.caption(label: labels[row], probability: Double(probabilities[row * classes + labels[row]])))
      }
      print()
      for first in stride(from: 0, to: panels.count, by: perLine) {
        for line in TerminalDigit.sideBySide(Array(panels[first..<min(panels.count, first + perLine)])) {
          print(line)
        }
        print()
      }
    }
  }
}
