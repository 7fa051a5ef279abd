import Tensor

/// Training features as `Trainer.fit` takes them: a float tensor, or bytes that stand for floats
/// (`ByteMatrix`, what the pipeline trains on). A full batch's chunks and each mini-batch are cut
/// or gathered in the features' own form, and become floats only as the network reads them.
public protocol TrainingRows: Sendable {
  /// The number of rows (examples).
  var rows: Int { get }
  /// The features of one row.
  var columns: Int { get }
  /// Rows `range`, in this form.
  func slicingRows(_ range: Range<Int>) -> Self
  /// Rows `indices`, in order, in this form.
  func gatheringRows(_ indices: some Collection<Int>) -> Self
  /// The rows as the network reads them.
  func floats() -> Tensor
  /// Bytes one feature takes in this form, for `ModelSpec.trainingMemory`.
  static var bytesPerFeature: Int { get }
  /// Whether `floats()` makes a new tensor rather than returning these rows.
  static var floatsAreACopy: Bool { get }
}

extension Tensor: TrainingRows {
  /// The tensor itself, uncopied.
  public func floats() -> Tensor { self }
  public static var bytesPerFeature: Int { MemoryLayout<Float>.size }
  public static var floatsAreACopy: Bool { false }
}

extension ByteMatrix: TrainingRows {
  /// The bytes expanded (`expanded()`).
  public func floats() -> Tensor { expanded() }
  public static var bytesPerFeature: Int { MemoryLayout<UInt8>.size }
  public static var floatsAreACopy: Bool { true }
}
