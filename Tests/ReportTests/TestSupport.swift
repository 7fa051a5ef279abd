import Foundation
import Testing

@testable import Report

/// A PNG read back the simple way: chunks split out and their CRCs checked, IDAT inflated only as
/// far as stored blocks go (all our encoder writes), scanlines with filter 0.
struct DecodedPNG: Equatable {
  var width: Int
  var height: Int
  var pixels: [UInt8]
  var chunkTypes: [String]

  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  init(_ bytes: [UInt8]) throws {
    guard bytes.starts(with: PNG.signature) else { throw Failure(description: "no PNG signature") }
    var offset = PNG.signature.count
    var header: [UInt8] = []
    var idat: [UInt8] = []
    chunkTypes = []
    func uint32(at index: Int) -> UInt32 {
      bytes[index..<index + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
    while offset < bytes.count {
      let length = Int(uint32(at: offset))
      let typeAndData = Array(bytes[offset + 4..<offset + 8 + length])
      let type = String(decoding: typeAndData.prefix(4), as: UTF8.self)
      guard uint32(at: offset + 8 + length) == Checksum.crc32(typeAndData) else {
        throw Failure(description: "bad CRC on \(type)")
      }
      chunkTypes.append(type)
      if type == "IHDR" { header = Array(typeAndData.dropFirst(4)) }
      if type == "IDAT" { idat += typeAndData.dropFirst(4) }
      offset += 12 + length
    }
    width = Int(header[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
    height = Int(header[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
    guard Array(header[8...]) == [8, 0, 0, 0, 0] else { throw Failure(description: "not 8-bit grayscale") }

    // zlib header, then stored blocks until BFINAL, then Adler-32.
    var raw: [UInt8] = []
    var position = 2
    while true {
      let flags = idat[position]
      guard flags & 0b110 == 0 else { throw Failure(description: "not a stored block") }
      let length = Int(idat[position + 1]) | Int(idat[position + 2]) << 8
      let complement = Int(idat[position + 3]) | Int(idat[position + 4]) << 8
      guard length ^ complement == 0xFFFF else { throw Failure(description: "LEN/NLEN mismatch") }
      raw += idat[position + 5..<position + 5 + length]
      position += 5 + length
      if flags & 1 == 1 { break }
    }
    let adler = idat[position..<position + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    guard adler == Checksum.adler32(raw) else { throw Failure(description: "bad Adler-32") }

    pixels = []
    for y in 0..<height {
      let line = raw[y * (width + 1)..<(y + 1) * (width + 1)]
      guard line.first == 0 else { throw Failure(description: "filter \(line.first!) on row \(y)") }
      pixels += line.dropFirst()
    }
  }
}



#if canImport(FoundationXML)
  import FoundationXML
#endif

/// Markup parsed as XML: our SVG and HTML are written to be well-formed XML too, so the tests can
/// query them with XPath instead of matching substrings.
struct Markup {
  let document: XMLDocument

  init(_ text: String) throws {
    document = try XMLDocument(xmlString: text, options: [.nodePreserveWhitespace])
  }

  /// Elements named `name` (namespace ignored, so SVG inside HTML is found the same way) that
  /// also match the XPath predicate `condition`, e.g. `@class='tick'`.
  func elements(_ name: String, where condition: String? = nil, under root: String = "") throws -> [XMLElement] {
    var path = root + "//*[local-name()='\(name)']"
    if let condition { path += "[\(condition)]" }
    return try document.nodes(forXPath: path).compactMap { $0 as? XMLElement }
  }

  /// The element with `id`, or a test failure.
  func element(id: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> XMLElement {
    try #require(try document.nodes(forXPath: "//*[@id='\(id)']").first as? XMLElement, sourceLocation: sourceLocation)
  }
}

extension XMLElement {
  /// The attribute's value; looked up by hand because FoundationXML on Linux does not find
  /// attributes by name on elements in a namespace (all of SVG's).
  func attribute(_ name: String) -> String? {
    attributes?.first { $0.name == name || $0.localName == name }?.stringValue
  }

  /// Child elements named `name` under this one, at any depth, namespace ignored.
  func descendants(_ name: String, where condition: String? = nil) throws -> [XMLElement] {
    var path = ".//*[local-name()='\(name)']"
    if let condition { path += "[\(condition)]" }
    return try nodes(forXPath: path).compactMap { $0 as? XMLElement }
  }

  /// All text inside, with runs of whitespace collapsed to single spaces.
  var text: String {
    (stringValue ?? "").split(whereSeparator: \.isWhitespace).joined(separator: " ")
  }
}
