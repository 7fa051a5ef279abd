import DataIO
import Foundation
import Pipeline

/// Parses the two CSV files into uint8 pixel arrays and labels, validating every field.
public struct ParseStage: Stage {
  public struct Parameters: Codable, Sendable, Hashable {}
  public typealias Output = ParsedArrays

  public static let version = 1
  public let name = StageName.parse
  public let parameters = Parameters()
  let unpacked = Input<UnpackedFiles>(StageName.unpack)
  /// Where the CSV files came from, for error messages only (not part of the fingerprint).
  public let sourceDescription: String

  public init(sourceDescription: String) { self.sourceDescription = sourceDescription }

  public func run(_ context: StageContext) throws {
    let files = context.read(unpacked)
    let output = context.output(ParsedArrays.self)

    let train = try parse(files.trainCSV, hasLabels: true, context: context)
    let test = try parse(files.testCSV, hasLabels: false, context: context)
    guard let labels = train.labels else { preconditionFailure("a labelled parse returns labels") }

    let width = DigitCSV.pixelCount
    try NumpyFile.write(NumpyArray(shape: [train.rowCount, width], values: train.pixels), to: output.trainPixels)
    try NumpyFile.write(NumpyArray(shape: [train.rowCount], values: labels), to: output.trainLabels)
    try NumpyFile.write(NumpyArray(shape: [test.rowCount, width], values: test.pixels), to: output.testPixels)
    context.log("train.csv: \(train.rowCount) labelled rows; test.csv: \(test.rowCount) rows")
  }

  private func parse(_ url: URL, hasLabels: Bool, context: StageContext) throws -> DigitTable {
    context.progress("parsing \(url.lastPathComponent)")
    let bytes: [UInt8]
    do {
      bytes = Array(try Data(contentsOf: url))
    } catch {
      throw PipelineError("\(url.lastPathComponent) (from \(sourceDescription)): cannot read (\(error.localizedDescription))")
    }
    let table: DigitTable
    do {
      table = try DigitCSV.parse(bytes: bytes, fileName: url.lastPathComponent, hasLabels: hasLabels)
    } catch let error as DataIOError {
      throw PipelineError("\(error.description) (in \(sourceDescription))")
    }
    guard table.rowCount > 0 else {
      throw PipelineError("\(url.lastPathComponent) (in \(sourceDescription)): no data rows after the header")
    }
    return table
  }
}
