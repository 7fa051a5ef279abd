import Foundation

/// numpy's `.npy` format, byte for byte as `numpy.save` writes it, so `numpy.load` reads our files
/// with no options and our files hash the same as numpy's for the same array.
///
/// Layout: the magic `\x93NUMPY`, a version (1.0 here), a little-endian header length, then a
/// Python dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (42000, 784), }`
/// padded with spaces and a final `\n` so the data starts on a 64-byte boundary, then the data.
public enum NumpyFile {
  static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
  /// numpy leaves room for the first axis to grow to this many digits without moving the data.
  static let growthAxisMaxDigits = 21

  /// The whole file: header and data.
  public static func encode(_ array: NumpyArray) -> [UInt8] {
    header(for: array) + array.rawBytes
  }

  /// Writes `array` to `url` atomically (temporary file, then rename), without first building the
  /// whole file in memory.
  public static func write(_ array: NumpyArray, to url: URL) throws {
    try FileIO.writeAtomically(to: url) { fd in
      try header(for: array).withUnsafeBytes { try FileIO.writeAll(fd, $0, path: url.path) }
      try array.rawBytes.withUnsafeBytes { try FileIO.writeAll(fd, $0, path: url.path) }
    }
  }

  /// Reads the `.npy` file at `url`; errors name the file by `url.path`.
  public static func read(from url: URL) throws -> NumpyArray {
    try decode(FileIO.readAll(url), fileName: url.path)
  }

  // MARK: - Writing

  /// The magic, version, length and padded dict: everything before the data.
  static func header(for array: NumpyArray) -> [UInt8] {
    let shape: String
    switch array.shape.count {
    case 0: shape = "()"
    case 1: shape = "(\(array.shape[0]),)"  // Python's one-tuple
    default: shape = "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
    }
    var dict = "{'descr': '\(array.descr)', 'fortran_order': False, 'shape': \(shape), }"
    if let first = array.shape.first {
      dict += String(repeating: " ", count: max(0, growthAxisMaxDigits - String(first).count))
    }
    var text = Array(dict.utf8)
    // As numpy: always at least one space, then '\n', ending on a multiple of 64.
    func padding(lengthSize: Int) -> Int { 64 - (magic.count + 2 + lengthSize + text.count + 1) % 64 }
    // Version 1.0 has a 2-byte length; numpy moves to 2.0 (4 bytes) only when that overflows.
    let lengthSize = text.count + 1 + padding(lengthSize: 2) > 0xFFFF ? 4 : 2
    let padding = padding(lengthSize: lengthSize)
    text += Array(repeating: UInt8(ascii: " "), count: padding) + [UInt8(ascii: "\n")]
    var bytes = magic + [lengthSize == 2 ? 1 : 2, 0]
    withUnsafeBytes(of: UInt32(text.count).littleEndian) { bytes += $0.prefix(lengthSize) }
    return bytes + text
  }

  // MARK: - Reading

  /// Parses a whole `.npy` file held in memory; `fileName` is used in error messages.
  ///
  /// Accepts format versions 1.0, 2.0 and 3.0 and the header keys in any order. Rejects
  /// Fortran-order and big-endian arrays, dtypes other than simple numbers and strings (which
  /// would need pickle), and data that is shorter or longer than the header promises.
  public static func decode(_ bytes: [UInt8], fileName: String) throws -> NumpyArray {
    func failure(_ message: String) -> DataIOError { DataIOError(file: fileName, message: message) }

    guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
      throw failure("not a .npy file (no \\x93NUMPY magic)")
    }
    let major = bytes[6]
    let lengthSize: Int
    switch major {
    case 1: lengthSize = 2
    case 2, 3: lengthSize = 4
    default: throw failure("unsupported .npy format version \(major).\(bytes[7])")
    }
    guard bytes.count >= 8 + lengthSize else { throw failure("truncated .npy header") }
    let headerLength = bytes[8..<(8 + lengthSize)].reversed().reduce(0) { $0 << 8 | Int($1) }
    let headerStart = 8 + lengthSize
    let dataStart = headerStart + headerLength
    guard dataStart <= bytes.count else {
      throw failure("truncated .npy header: \(headerLength) bytes announced, \(bytes.count - headerStart) present")
    }

    let header: NpyHeader
    do {
      header = try NpyHeader(parsing: bytes[headerStart..<dataStart])
    } catch let error as NpyHeader.SyntaxError {
      throw failure("bad .npy header: \(error.message)")
    }
    guard !header.fortranOrder else {
      throw failure("fortran_order True is not supported; save a C-ordered array (numpy.ascontiguousarray)")
    }
    guard let dtype = DType(header.descr) else {
      throw failure("unsupported dtype \(DataIOError.quote(header.descr.utf8, limit: 40))")
    }
    guard dtype.isLittleEndianOrBytewise else {
      throw failure("big-endian dtype \(header.descr) is not supported; save with .astype('<\(dtype.kind)\(dtype.count)')")
    }
    guard header.shape.allSatisfy({ $0 >= 0 }) else { throw failure("negative dimension in shape \(header.shape)") }
    // Multiply with overflow checks: the header is untrusted and a shape of (2**40, 2**40) must be
    // an error, not a crash.
    var expected = dtype.itemSize
    for dimension in header.shape {
      let (product, overflow) = expected.multipliedReportingOverflow(by: dimension)
      guard !overflow else { throw failure("shape \(header.shape) is too large") }
      expected = product
    }
    let found = bytes.count - dataStart
    guard found == expected else {
      throw failure("expected \(expected) data bytes for shape \(header.shape) of \(header.descr), found \(found)")
    }
    return NumpyArray(shape: header.shape, descr: header.descr, rawBytes: Array(bytes[dataStart...]))
  }
}

/// The dict literal of a `.npy` header, read by a small parser for exactly the Python literals
/// numpy writes there: strings, `True`/`False`, and tuples of integers.
struct NpyHeader {
  var descr: String
  var fortranOrder: Bool
  var shape: [Int]

  struct SyntaxError: Error {
    var message: String
  }

  private enum Value {
    case string(String)
    case bool(Bool)
    case tuple([Int])
  }

  init(parsing text: ArraySlice<UInt8>) throws {
    var parser = Parser(bytes: Array(text))
    var dict: [String: Value] = [:]
    try parser.expect("{")
    while true {
      parser.skipSpace()
      if parser.consume("}") { break }
      guard case .string(let key) = try parser.value() else { throw parser.error("expected a string key") }
      try parser.expect(":")
      dict[key] = try parser.value()
      parser.skipSpace()
      if parser.consume(",") { continue }
      try parser.expect("}")
      break
    }
    parser.skipSpace()
    guard parser.atEnd else { throw parser.error("unexpected text after the dict") }

    guard Set(dict.keys) == ["descr", "fortran_order", "shape"] else {
      throw SyntaxError(message: "keys are \(dict.keys.sorted()), expected descr, fortran_order, shape")
    }
    guard case .string(let descr) = dict["descr"] else {
      throw SyntaxError(message: "descr is not a simple dtype string (structured dtypes are not supported)")
    }
    guard case .bool(let fortranOrder) = dict["fortran_order"] else { throw SyntaxError(message: "fortran_order is not True or False") }
    guard case .tuple(let shape) = dict["shape"] else { throw SyntaxError(message: "shape is not a tuple of integers") }
    self.descr = descr
    self.fortranOrder = fortranOrder
    self.shape = shape
  }

  private struct Parser {
    var bytes: [UInt8]
    var index = 0

    var atEnd: Bool { index == bytes.count }

    func error(_ message: String) -> SyntaxError {
      SyntaxError(message: "\(message) at header byte \(index)")
    }

    mutating func skipSpace() {
      while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
    }

    mutating func consume(_ token: String) -> Bool {
      let token = Array(token.utf8)
      guard bytes.count - index >= token.count, Array(bytes[index..<(index + token.count)]) == token else { return false }
      index += token.count
      return true
    }

    mutating func expect(_ token: String) throws {
      skipSpace()
      guard consume(token) else { throw error("expected \(token.debugDescription)") }
    }

    mutating func value() throws -> Value {
      skipSpace()
      if consume("True") { return .bool(true) }
      if consume("False") { return .bool(false) }
      if consume("(") {
        var numbers: [Int] = []
        while true {
          skipSpace()
          if consume(")") { break }
          numbers.append(try integer())
          skipSpace()
          if consume(",") { continue }
          try expect(")")
          break
        }
        return .tuple(numbers)
      }
      guard index < bytes.count, bytes[index] == UInt8(ascii: "'") || bytes[index] == UInt8(ascii: "\"") else {
        throw error("expected a string, True, False or a tuple")
      }
      let quote = bytes[index]
      index += 1
      let start = index
      while index < bytes.count, bytes[index] != quote {
        // numpy never writes escapes in these strings; refuse them rather than misread them.
        guard bytes[index] != UInt8(ascii: "\\") else { throw error("escape sequences are not supported") }
        index += 1
      }
      guard index < bytes.count else { throw error("unterminated string") }
      defer { index += 1 }
      return .string(String(decoding: bytes[start..<index], as: UTF8.self))
    }

    mutating func integer() throws -> Int {
      let start = index
      var value = 0
      while index < bytes.count, bytes[index] &- zero <= 9 {
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(Int(bytes[index] &- zero))
        guard !o1, !o2 else { throw error("integer too large") }
        value = sum
        index += 1
      }
      guard index > start else { throw error("expected an integer") }
      _ = consume("L")  // Python 2 wrote long integers as 5L
      return value
    }
  }
}
