import Foundation

/// A minimal PNG writer for the report's digit images: 8-bit grayscale, no interlacing.
///
/// The image data is a zlib stream of *stored* (uncompressed) deflate blocks: a 28×28 digit is
/// under a kilobyte either way, and skipping compression keeps the report free of a system
/// library. Every PNG decoder must accept stored blocks, so the files are ordinary PNGs.
public enum PNG {
  /// The eight bytes every PNG file starts with.
  public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

  /// A complete PNG file for a grayscale image stored row by row, `pixels[y * width + x]`,
  /// 0 = black, 255 = white. With `scale` > 1 each pixel becomes a `scale`×`scale` square
  /// (nearest neighbour), so a 28×28 digit at scale 2 is a 56×56 image.
  ///
  /// - Precondition: `width`, `height` and `scale` are positive and
  ///   `pixels.count == width * height`.
  public static func encodeGrayscale(width: Int, height: Int, pixels: [UInt8], scale: Int = 1) -> [UInt8] {
    precondition(width > 0 && height > 0, "a PNG needs at least one pixel, got \(width)×\(height)")
    precondition(scale > 0, "scale must be positive, got \(scale)")
    precondition(pixels.count == width * height, "\(pixels.count) pixels for a \(width)×\(height) image")
    let outWidth = width * scale
    let outHeight = height * scale

    var header: [UInt8] = []
    header.appendBigEndian(UInt32(outWidth))
    header.appendBigEndian(UInt32(outHeight))
    // Bit depth 8, colour type 0 (grayscale), deflate, adaptive filtering, no interlace.
    header += [8, 0, 0, 0, 0]

    // Each scanline starts with its filter type; 0 (None) because the data is not compressed
    // anyway, so prediction would buy nothing.
    var scanlines: [UInt8] = []
    scanlines.reserveCapacity(outHeight * (outWidth + 1))
    for y in 0..<height {
      var row: [UInt8] = [0]
      row.reserveCapacity(outWidth + 1)
      for x in 0..<width {
        row += repeatElement(pixels[y * width + x], count: scale)
      }
      for _ in 0..<scale { scanlines += row }
    }

    var file = signature
    file.appendChunk("IHDR", header)
    file.appendChunk("IDAT", zlibStored(scanlines))
    file.appendChunk("IEND", [])
    return file
  }

  /// `data:image/png;base64,…` for the same image, ready for an `<img src>`.
  public static func dataURI(width: Int, height: Int, pixels: [UInt8], scale: Int = 1) -> String {
    "data:image/png;base64," + Data(encodeGrayscale(width: width, height: height, pixels: pixels, scale: scale))
      .base64EncodedString()
  }

  /// A zlib stream (RFC 1950) holding `bytes` in stored deflate blocks (RFC 1951 §3.2.4).
  static func zlibStored(_ bytes: [UInt8]) -> [UInt8] {
    // CMF 0x78: deflate with a 32 KiB window; FLG 0x01 makes (CMF << 8 | FLG) a multiple of 31.
    var stream: [UInt8] = [0x78, 0x01]
    let maxBlock = 0xFFFF  // LEN is 16 bits
    var start = 0
    repeat {
      let end = min(start + maxBlock, bytes.count)
      let isFinal = end == bytes.count
      let length = UInt16(end - start)
      // BFINAL in bit 0, BTYPE 00 (stored) in bits 1-2; the rest of the byte is padding.
      stream.append(isFinal ? 1 : 0)
      stream.appendLittleEndian(length)
      stream.appendLittleEndian(~length)
      stream += bytes[start..<end]
      start = end
    } while start < bytes.count
    stream.appendBigEndian(Checksum.adler32(bytes))
    return stream
  }
}

extension [UInt8] {
  fileprivate mutating func appendBigEndian(_ value: UInt32) {
    append(contentsOf: [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
  }

  fileprivate mutating func appendLittleEndian(_ value: UInt16) {
    append(contentsOf: [UInt8(value & 0xFF), UInt8(value >> 8)])
  }

  /// Length, type, data, and the CRC of type and data (PNG §5.3).
  fileprivate mutating func appendChunk(_ type: String, _ data: [UInt8]) {
    let typeBytes = Array(type.utf8)
    appendBigEndian(UInt32(data.count))
    self += typeBytes
    self += data
    appendBigEndian(Checksum.crc32(typeBytes + data))
  }
}
