import Foundation
import TestSupport
import Testing

@testable import DataIO

/// Values 0..<count of any scalar type, as a test array's content.
func sampleValues<T: NumpyScalar & Numeric>(_ type: T.Type, count: Int) -> [T] {
  (0..<count).map { T(exactly: $0 % 100)! }
}

/// Round-trips `values` through `encode`/`decode` and checks shape, dtype and values survive.
private func expectRoundTrip<T: NumpyScalar & Equatable>(_ values: [T], shape: [Int], sourceLocation: SourceLocation = #_sourceLocation) throws {
  let array = NumpyArray(shape: shape, values: values)
  let bytes = NumpyFile.encode(array)
  let decoded = try NumpyFile.decode(bytes, fileName: "x.npy")
  #expect(decoded == array, sourceLocation: sourceLocation)
  #expect(decoded.shape == shape, sourceLocation: sourceLocation)
  #expect(decoded.descr == T.numpyDescr, sourceLocation: sourceLocation)
  #expect(try decoded.values(as: T.self) == values, sourceLocation: sourceLocation)
}

/// Builds a `.npy` file by hand, for headers numpy may write but our encoder does not.
private func handMadeNpy(version: UInt8 = 1, dict: String, data: [UInt8]) -> [UInt8] {
  var text = Array(dict.utf8) + [UInt8(ascii: "\n")]
  let lengthBytes: [UInt8] =
    version == 1
    ? [UInt8(text.count & 0xFF), UInt8(text.count >> 8)]
    : [UInt8(text.count & 0xFF), UInt8(text.count >> 8), 0, 0]
  text = [0x93] + Array("NUMPY".utf8) + [version, 0] + lengthBytes + text
  return text + data
}

@Suite struct NumpyFileTests {
  static let shapes: [[Int]] = [[], [5], [2, 3], [0], [3, 0, 2]]

  @Test(arguments: shapes)
  func roundTrip_preservesEveryDtype(shape: [Int]) throws {
    let count = shape.reduce(1, *)
    try expectRoundTrip(sampleValues(UInt8.self, count: count), shape: shape)
    try expectRoundTrip(sampleValues(Int8.self, count: count), shape: shape)
    try expectRoundTrip(sampleValues(UInt16.self, count: count), shape: shape)
    try expectRoundTrip(sampleValues(Int16.self, count: count), shape: shape)
    try expectRoundTrip(sampleValues(UInt32.self, count: count), shape: shape)
    try expectRoundTrip(sampleValues(Int32.self, count: count), shape: shape)
    try expectRoundTrip(sampleValues(UInt64.self, count: count), shape: shape)
    try expectRoundTrip(sampleValues(Int64.self, count: count), shape: shape)
    try expectRoundTrip(sampleValues(Int.self, count: count), shape: shape)
    try expectRoundTrip(sampleValues(Float.self, count: count), shape: shape)
    try expectRoundTrip(sampleValues(Double.self, count: count), shape: shape)
  }

  @Test func roundTrip_preservesExtremeValues() throws {
    try expectRoundTrip([Float.greatestFiniteMagnitude, -0.0, .infinity, -.leastNonzeroMagnitude], shape: [4])
    try expectRoundTrip([Int32.min, Int32.max, -1], shape: [3])
    try expectRoundTrip([Int64.min, Int64.max], shape: [1, 2])
    let nan = try NumpyFile.decode(NumpyFile.encode(NumpyArray(shape: [], values: [Double.nan])), fileName: "x")
    #expect(try nan.values(as: Double.self)[0].isNaN)
  }

  @Test(arguments: ["", "a", "hello", "héllo 🙂 ∑"])
  func roundTrip_preservesStrings(text: String) throws {
    let array = NumpyArray(string: text)
    #expect(array.shape == [])
    #expect(array.descr == "<U\(max(1, text.unicodeScalars.count))")
    #expect(array.stringValue == text)
    let decoded = try NumpyFile.decode(NumpyFile.encode(array), fileName: "s.npy")
    #expect(decoded.stringValue == text)
  }

  @Test func encode_writesNumpysExactHeader() {
    let array = NumpyArray(shape: [2, 3], values: [Float](repeating: 1, count: 6))
    let bytes = NumpyFile.encode(array)
    #expect(Array(bytes[0..<8]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
    let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
    #expect((10 + headerLength) % 64 == 0)
    #expect(bytes.count == 10 + headerLength + 24)
    let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
    // numpy pads the dict for a 21-digit first axis, then to the 64-byte boundary.
    #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + String(repeating: " ", count: 20)))
    #expect(header.hasSuffix(" \n"))
    #expect(header.filter { $0 == "\n" }.count == 1)
  }

  @Test func encode_printsOneAndZeroDimensionalShapesAsPythonTuples() {
    let oneD = String(decoding: NumpyFile.encode(NumpyArray(shape: [5], values: [UInt8](repeating: 0, count: 5))), as: UTF8.self)
    #expect(oneD.contains("'shape': (5,), }"))
    let zeroD = String(decoding: NumpyFile.encode(NumpyArray(shape: [], values: [Int32(7)])), as: UTF8.self)
    #expect(zeroD.contains("'shape': (), }"))
    #expect(NumpyArray(shape: [], values: [UInt8(1)]).descr == "|u1")
  }

  @Test func writeAndRead_roundTripThroughDisk() throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("pixels.npy")
      let array = NumpyArray(shape: [3, 4], values: sampleValues(Float.self, count: 12))
      try NumpyFile.write(array, to: url)
      #expect(try NumpyFile.read(from: url) == array)
      #expect(try Data(contentsOf: url) == Data(NumpyFile.encode(array)))
      // Temp-then-rename leaves nothing else behind.
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["pixels.npy"])
    }
  }

  @Test func decode_acceptsAnyKeyOrderAndLaterVersions() throws {
    let data = [UInt8]([1, 0, 0, 0, 2, 0, 0, 0])
    for version: UInt8 in [1, 2, 3] {
      let bytes = handMadeNpy(version: version, dict: "{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<i4\"}", data: data)
      let array = try NumpyFile.decode(bytes, fileName: "x.npy")
      #expect(array.shape == [2])
      #expect(try array.values(as: Int32.self) == [1, 2])
    }
  }

  @Test func decode_acceptsPython2LongIntegersInShape() throws {
    let bytes = handMadeNpy(dict: "{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 1L), }", data: [7, 8])
    #expect(try NumpyFile.decode(bytes, fileName: "x.npy").shape == [2, 1])
  }

  @Test func decode_rejectsFortranOrder() {
    let bytes = handMadeNpy(dict: "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 1), }", data: [7, 8])
    let error = expectDataIOError { _ = try NumpyFile.decode(bytes, fileName: "w.npy") }
    #expect(error?.file == "w.npy")
    #expect(error?.message.hasPrefix("fortran_order True is not supported") == true)
  }

  @Test func decode_rejectsBigEndian() {
    let bytes = handMadeNpy(dict: "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0])
    let error = expectDataIOError { _ = try NumpyFile.decode(bytes, fileName: "w.npy") }
    #expect(error?.message.hasPrefix("big-endian dtype >f4 is not supported") == true)
  }

  @Test func decode_rejectsStructuredAndObjectDtypes() {
    let structured = handMadeNpy(dict: "{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0])
    #expect(expectDataIOError { _ = try NumpyFile.decode(structured, fileName: "w.npy") }?.message.hasPrefix("bad .npy header") == true)
    let object = handMadeNpy(dict: "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0, 0, 0, 0, 0])
    #expect(expectDataIOError { _ = try NumpyFile.decode(object, fileName: "w.npy") }?.message == #"unsupported dtype "|O""#)
  }

  @Test func decode_rejectsWrongDataLength() {
    let short = handMadeNpy(dict: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", data: [UInt8](repeating: 0, count: 15))
    let error = expectDataIOError { _ = try NumpyFile.decode(short, fileName: "w.npy") }
    #expect(error?.message == "expected 16 data bytes for shape [2, 2] of <f4, found 15")
    let long = handMadeNpy(dict: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data: [UInt8](repeating: 0, count: 5))
    #expect(expectDataIOError { _ = try NumpyFile.decode(long, fileName: "w.npy") }?.message.hasPrefix("expected 4 data bytes") == true)
  }

  @Test func decode_rejectsGarbage() {
    #expect(expectDataIOError { _ = try NumpyFile.decode([], fileName: "e.npy") }?.message.hasPrefix("not a .npy file") == true)
    #expect(expectDataIOError { _ = try NumpyFile.decode(Array("label,pixel0\n".utf8), fileName: "e.npy") }?.message.hasPrefix("not a .npy file") == true)
    let huge = handMadeNpy(dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", data: [])
    #expect(expectDataIOError { _ = try NumpyFile.decode(huge, fileName: "e.npy") }?.message.hasSuffix("is too large") == true)
    let missingKey = handMadeNpy(dict: "{'descr': '<f8', 'shape': (1,), }", data: [0, 0, 0, 0, 0, 0, 0, 0])
    #expect(expectDataIOError { _ = try NumpyFile.decode(missingKey, fileName: "e.npy") }?.message.hasPrefix("bad .npy header: keys are") == true)
    var truncated = NumpyFile.encode(NumpyArray(shape: [1], values: [UInt8(1)]))
    truncated.removeLast(60)
    #expect(expectDataIOError { _ = try NumpyFile.decode(truncated, fileName: "e.npy") }?.message.hasPrefix("truncated .npy header") == true)
  }

  @Test func values_rejectsOtherDtype() throws {
    let array = NumpyArray(shape: [2], values: [Double(1), 2])
    let error = expectDataIOError { _ = try array.values(as: Float.self) }
    #expect(error?.message == "dtype is <f8, not <f4 (Float)")
    #expect(expectDataIOError { _ = try NumpyArray(string: "x").values(as: UInt32.self) } != nil)
    #expect(array.stringValue == nil)
    // Int and Int64 are the same numpy dtype.
    #expect(try NumpyArray(shape: [1], values: [Int64(5)]).values(as: Int.self) == [5])
  }

  @Test func shape_canBeReassignedToReshape() throws {
    var array = NumpyArray(shape: [6], values: sampleValues(Int32.self, count: 6))
    array.shape = [2, 3]
    #expect(try NumpyFile.decode(NumpyFile.encode(array), fileName: "r.npy").shape == [2, 3])
  }
}
