// MARK: - Floats stored as bytes

/// A matrix of bytes that stand for floats, `value = Float(byte) * scale + offset`: normalised
/// pixels in a quarter of the memory of their floats.
///
/// Training can keep its rows in this form and make floats of a chunk or a batch only as the
/// network reads it, so a pass over every row brings a quarter of the bytes in from memory.
/// Every float made from it comes from `expandBytes`.
public struct ByteMatrix: Sendable, Equatable {
  /// `(rows, …)`, as a `Tensor`'s.
  public let shape: [Int]
  /// Row-major, `shape`'s product of them.
  public let bytes: [UInt8]
  public let scale: Float
  public let offset: Float

  public init(shape: [Int], bytes: [UInt8], scale: Float, offset: Float) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
    precondition(bytes.count == shape.reduce(1, *), "\(bytes.count) bytes for shape \(shape)")
    (self.shape, self.bytes, self.scale, self.offset) = (shape, bytes, scale, offset)
  }

  /// `shape[0]` (1 for a scalar), as a `Tensor`'s.
  public var rows: Int { rowCount(of: shape) }
  /// Product of all extents after the first, as a `Tensor`'s.
  public var columns: Int { columnCount(of: shape) }

  /// Rows `range`, still as bytes.
  public func slicingRows(_ range: Range<Int>) -> ByteMatrix {
    precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) out of 0..<\(rows)")
    let width = columns
    return withRows(range.count, Array(bytes[(range.lowerBound * width)..<(range.upperBound * width)]))
  }

  /// Rows `indices`, in order, still as bytes.
  public func gatheringRows(_ indices: some Collection<Int>) -> ByteMatrix {
    let width = columns
    var gathered: [UInt8] = []
    gathered.reserveCapacity(indices.count * width)
    for row in indices {
      precondition(row >= 0 && row < rows, "row \(row) out of range 0..<\(rows)")
      gathered += bytes[(row * width)..<((row + 1) * width)]
    }
    return withRows(indices.count, gathered)
  }

  /// The floats the bytes stand for, as a tensor of the same shape.
  public func expanded() -> Tensor {
    guard !bytes.isEmpty else { return Tensor(zeros: shape) }
    let (scale, offset) = (scale, offset)
    return bytes.withUnsafeBufferPointer { source in
      Tensor(uninitializedShape: shape) { destination in
        // Elementwise, so the split never changes a value.
        nonisolated(unsafe) let (from, to) = (source.baseAddress!, destination.baseAddress!)
        forEachChunk(of: source.count) { chunk in
          expandBytes(
            UnsafeBufferPointer(start: from + chunk.lowerBound, count: chunk.count), scale: scale, offset: offset,
            into: to + chunk.lowerBound)
        }
      }
    }
  }

  private func withRows(_ count: Int, _ newBytes: [UInt8]) -> ByteMatrix {
    ByteMatrix(shape: Tensor.shape(shape, withRows: count), bytes: newBytes, scale: scale, offset: offset)
  }
}

/// `Float(byte) * scale + offset` for each byte, a multiply and then an add (never fused), into
/// `destination`: the one definition of the value a byte stands for. (The pipeline's features
/// are made here, in its normalise stage and its train stage alike: `NormaliseStage.version`
/// stands for this definition.)
func expandBytes(
  _ bytes: UnsafeBufferPointer<UInt8>, scale: Float, offset: Float, into destination: UnsafeMutablePointer<Float>
) {
  // LLVM vectorises this loop: widen, convert, multiply, add.
  for i in bytes.indices { destination[i] = Float(bytes[i]) * scale + offset }
}
