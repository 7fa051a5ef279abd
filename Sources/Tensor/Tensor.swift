/// A dense float32 array, row-major, with value semantics (copy-on-write through the `Array`).
///
/// Two-dimensional kernels view a tensor as `rows × columns`, where `rows = shape[0]` and
/// `columns` is the product of the remaining extents (1 for a vector), so an image batch
/// `(N, 28, 28)` and a feature matrix `(N, 784)` are the same thing to GEMM.
public struct Tensor: Sendable, Equatable {
  public var shape: [Int]
  public var scalars: [Float]

  /// A tensor with the given shape and row-major scalars; `scalars.count` must equal the shape's product.
  public init(shape: [Int], scalars: [Float]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
    precondition(
      scalars.count == shape.reduce(1, *),
      "shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
    self.shape = shape
    self.scalars = scalars
  }

  public init(zeros shape: [Int]) {
    self.init(shape: shape, repeating: 0)
  }

  public init(shape: [Int], repeating value: Float) {
    self.init(shape: shape, scalars: Array(repeating: value, count: shape.reduce(1, *)))
  }

  /// A tensor whose scalars are written by `initializer`, which must set every element.
  /// Skips the zero fill that `init(zeros:)` pays for buffers that are overwritten at once.
  @inlinable
  public init(
    uninitializedShape shape: [Int],
    initializingWith initializer: (inout UnsafeMutableBufferPointer<Float>) throws -> Void
  ) rethrows {
    let count = shape.reduce(1, *)
    self.shape = shape
    self.scalars = try Array(unsafeUninitializedCapacity: count) { buffer, initialized in
      try initializer(&buffer)
      initialized = count
    }
  }

  /// Number of scalars: the product of `shape`.
  public var count: Int { scalars.count }

  /// `shape[0]` (1 for a scalar tensor).
  public var rows: Int { rowCount(of: shape) }

  /// Product of all extents after the first (1 for a vector).
  public var columns: Int { columnCount(of: shape) }

  /// Rows `indices` gathered, in order, into a new tensor of shape `(indices.count, shape[1...])`:
  /// mini-batch selection.
  public func gatheringRows(_ indices: some Collection<Int>) -> Tensor {
    let width = columns
    let source = rows
    let outShape = Tensor.shape(shape, withRows: indices.count)
    let picked = Array(indices)
    for row in picked { precondition(row >= 0 && row < source, "row \(row) out of range 0..<\(source)") }
    guard !picked.isEmpty && width > 0 else { return Tensor(zeros: outShape) }
    return scalars.withUnsafeBufferPointer { src in
      Tensor(uninitializedShape: outShape) { dst in
        // Each destination row is written by one chunk, so sharing the pointers is safe. A
        // mini-batch's rows lie scattered over the whole feature matrix, and two threads bring
        // them in from memory faster than one.
        nonisolated(unsafe) let (from, to) = (src.baseAddress!, dst.baseAddress!)
        forEachChunk(of: picked.count, minimumPerThread: max(1, (1 << 15) / width)) { chunk in
          for i in chunk {
            // Rows are contiguous in row-major order: one memcpy-like copy each.
            (to + i * width).initialize(from: from + picked[i] * width, count: width)
          }
        }
      }
    }
  }

  /// Rows `range` as a new tensor (contiguous, so a single copy).
  public func slicingRows(_ range: Range<Int>) -> Tensor {
    precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) out of 0..<\(rows)")
    let width = columns
    return Tensor(shape: Tensor.shape(shape, withRows: range.count), scalars: Array(scalars[(range.lowerBound * width)..<(range.upperBound * width)]))
  }

  /// `shape` with `count` rows: its first extent replaced (a scalar's shape becomes `[count]`).
  /// Shared with `ByteMatrix`, which views its shape the same way.
  static func shape(_ shape: [Int], withRows count: Int) -> [Int] { shape.isEmpty ? [count] : [count] + shape.dropFirst() }

  /// The same scalars under a new shape with the same element count.
  public func reshaped(_ newShape: [Int]) -> Tensor {
    Tensor(shape: newShape, scalars: scalars)
  }
}

/// The rows of a row-major shape viewed as a matrix: `shape[0]` (1 for a scalar).
func rowCount(of shape: [Int]) -> Int { shape.first ?? 1 }
/// The columns of a row-major shape viewed as a matrix: the product of the extents after the first.
func columnCount(of shape: [Int]) -> Int { shape.dropFirst().reduce(1, *) }

extension Tensor: CustomStringConvertible {
  public var description: String {
    let head = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
    return "Tensor(shape: \(shape), [\(head)\(count > 8 ? ", ..." : "")])"
  }
}

extension Tensor {
  /// Sets every scalar to `value` in place (no reallocation: gradients are zeroed every step).
  public mutating func fill(with value: Float) {
    guard count > 0 else { return }
    scalars.withUnsafeMutableBufferPointer { buffer in
      // The chunks are disjoint, so sharing the pointer is safe.
      nonisolated(unsafe) let start = buffer.baseAddress!
      forEachChunk(of: buffer.count) { chunk in
        UnsafeMutableBufferPointer(start: start + chunk.lowerBound, count: chunk.count).update(repeating: value)
      }
    }
  }
}
