/// A Swift scalar type with a fixed numpy dtype, stored little-endian.
///
/// `BitwiseCopyable` because arrays of these are moved to and from file bytes with a plain memory
/// copy; that is only sound for types without references or padding.
public protocol NumpyScalar: Sendable, BitwiseCopyable {
  /// numpy's `dtype.str`, e.g. `"<f4"`.
  static var numpyDescr: String { get }
}

extension UInt8: NumpyScalar { public static var numpyDescr: String { "|u1" } }
extension Int8: NumpyScalar { public static var numpyDescr: String { "|i1" } }
extension UInt16: NumpyScalar { public static var numpyDescr: String { "<u2" } }
extension Int16: NumpyScalar { public static var numpyDescr: String { "<i2" } }
extension UInt32: NumpyScalar { public static var numpyDescr: String { "<u4" } }
extension Int32: NumpyScalar { public static var numpyDescr: String { "<i4" } }
extension UInt64: NumpyScalar { public static var numpyDescr: String { "<u8" } }
extension Int64: NumpyScalar { public static var numpyDescr: String { "<i8" } }
/// Swift's `Int` is 64 bits on every platform this project runs on, so it is numpy's int64.
extension Int: NumpyScalar { public static var numpyDescr: String { "<i8" } }
extension Float: NumpyScalar { public static var numpyDescr: String { "<f4" } }
extension Double: NumpyScalar { public static var numpyDescr: String { "<f8" } }

/// An n-dimensional array as numpy stores it: a shape, a dtype descriptor and the element bytes
/// in C (row-major) order, little-endian.
///
/// Typed access goes through `values(as:)`, which checks the dtype, so a `<f4` file can never be
/// silently read as `Int32`.
public struct NumpyArray: Sendable, Equatable {
  /// The dimensions; `[]` for a 0-d (scalar) array. Reassigning it reshapes, and the element
  /// count must stay the same.
  public var shape: [Int] {
    didSet {
      precondition(
        NumpyArray.elementCount(of: shape) == NumpyArray.elementCount(of: oldValue),
        "reshape from \(oldValue) to \(shape) changes the element count")
    }
  }

  /// numpy's dtype string, e.g. `"<f4"`, `"|u1"`, `"<U5"`.
  public private(set) var descr: String

  /// The element data exactly as in the file: C order, little-endian, `elementCount * itemSize`
  /// bytes. Exposed for hashing and copying without a round trip through typed values.
  public private(set) var rawBytes: [UInt8]

  /// Builds an array from typed values in C order.
  /// - Precondition: the product of `shape` equals `values.count`.
  public init<T: NumpyScalar>(shape: [Int], values: [T]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
    precondition(NumpyArray.elementCount(of: shape) == values.count, "shape \(shape) does not hold \(values.count) values")
    self.shape = shape
    self.descr = T.numpyDescr
    self.rawBytes = values.withUnsafeBytes { Array($0) }
  }

  /// A 0-d unicode array holding `string`, as numpy stores a Python `str`: dtype `<U{n}` with `n`
  /// the number of Unicode scalars (at least 1, as numpy makes it), UTF-32LE, zero-padded.
  public init(string: String) {
    let scalars = string.unicodeScalars.map(\.value)
    let width = max(1, scalars.count)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(4 * width)
    for scalar in scalars + Array(repeating: 0, count: width - scalars.count) {
      withUnsafeBytes(of: scalar.littleEndian) { bytes.append(contentsOf: $0) }
    }
    self.shape = []
    self.descr = "<U\(width)"
    self.rawBytes = bytes
  }

  /// For the decoder, which has already checked that the bytes fit the shape and dtype.
  init(shape: [Int], descr: String, rawBytes: [UInt8]) {
    self.shape = shape
    self.descr = descr
    self.rawBytes = rawBytes
  }

  /// The number of elements: the product of the shape (1 for a 0-d array).
  public var elementCount: Int { NumpyArray.elementCount(of: shape) }

  static func elementCount(of shape: [Int]) -> Int { shape.reduce(1, *) }

  /// The elements as `T`, in C order.
  /// Throws `DataIOError` when the array's dtype is not `T`'s (e.g. reading `<f8` as `Float`).
  public func values<T: NumpyScalar>(as type: T.Type) throws -> [T] {
    guard let mine = DType(descr), let wanted = DType(T.numpyDescr), mine.sameLayout(as: wanted),
      wanted.itemSize == MemoryLayout<T>.stride
    else {
      throw DataIOError(file: "array", message: "dtype is \(descr), not \(T.numpyDescr) (\(T.self))")
    }
    let count = elementCount
    return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
      rawBytes.withUnsafeBytes { source in
        UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
      }
      initialized = count
    }
  }

  /// The text of a 0-d (or single-element) unicode array, without numpy's zero padding;
  /// nil for any other array.
  public var stringValue: String? {
    guard let dtype = DType(descr), dtype.kind == "U", dtype.byteOrder != ">", elementCount == 1 else { return nil }
    var text = String.UnicodeScalarView()
    for offset in stride(from: 0, to: rawBytes.count, by: 4) {
      let value = rawBytes[offset..<offset + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
      if value == 0 { break }  // numpy pads with NULs and strips them on read
      guard let scalar = Unicode.Scalar(value) else { return nil }
      text.append(scalar)
    }
    return String(text)
  }
}

/// A parsed simple dtype string: byte order, kind letter and item size in bytes.
///
/// Only the simple dtypes `numpy.save` writes as a plain string are understood (no structured,
/// datetime or object dtypes): those are what this project stores.
struct DType: Equatable {
  var byteOrder: Character  // '<' little, '>' big, '|' not applicable, '=' native
  var kind: Character  // b i u f c S U V
  var count: Int  // the number in the string: bytes, or characters for 'U'

  init?(_ descr: String) {
    var text = Substring(descr)
    if let first = text.first, "<>|=".contains(first) {
      byteOrder = first
      text = text.dropFirst()
    } else {
      byteOrder = "|"
    }
    guard let kind = text.first, "biufcSUV".contains(kind), let count = Int(text.dropFirst()), count >= 0 else { return nil }
    self.kind = kind
    self.count = count
  }

  var itemSize: Int { kind == "U" ? 4 * count : count }

  /// True when the bytes mean the same thing on this little-endian host.
  var isLittleEndianOrBytewise: Bool { byteOrder != ">" || itemSize <= 1 }

  /// Same kind and size, treating '<', '=' and '|' as one (numpy writes '|u1' where a reader
  /// may say '<u1'; on a little-endian host they are the same bytes).
  func sameLayout(as other: DType) -> Bool {
    kind == other.kind && count == other.count && isLittleEndianOrBytewise && other.isLittleEndianOrBytewise
  }
}
