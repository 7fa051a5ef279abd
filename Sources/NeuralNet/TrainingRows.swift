import Tensor

/// Training features as `Trainer.fit` takes them: a float tensor, or bytes that stand for floats
/// (`ByteMatrix`, what the pipeline trains on). Batches and a full batch's chunks are cut in the
/// features' own form, and become floats only as the network reads them.
public protocol TrainingRows: Sendable {
  var rows: Int { get }
  var columns: Int { get }
  func slicingRows(_ range: Range<Int>) -> Self
  func gatheringRows(_ indices: some Collection<Int>) -> Self
  /// The rows as the network reads them.
  func floats() -> Tensor
}

extension Tensor: TrainingRows {
  /// The tensor itself, uncopied.
  public func floats() -> Tensor { self }
}

extension ByteMatrix: TrainingRows {
  /// The bytes expanded (`expanded()`).
  public func floats() -> Tensor { expanded() }
}
