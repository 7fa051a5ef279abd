import Foundation
import TestSupport
import Testing

@testable import Report

@Suite struct PNGTests {
  /// A 3×2 image with every pixel different, so a transposed or shifted row shows.
  let pixels: [UInt8] = [0, 50, 100, 150, 200, 255]

  @Test func checksums_matchTheirKnownValues() {
    #expect(Checksum.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(Checksum.crc32([UInt8]()) == 0)
    #expect(Checksum.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
    // Long enough to need the periodic modulo; the value is zlib's for 100,000 bytes of 0xFF.
    #expect(Checksum.adler32([UInt8](repeating: 0xFF, count: 100_000)) == 0x149A_302C)
  }

  @Test func encodeGrayscale_writesSignatureChunksAndValidCRCs() throws {
    let file = PNG.encodeGrayscale(width: 3, height: 2, pixels: pixels)
    #expect(Array(file.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    let decoded = try DecodedPNG(file)
    #expect(decoded.chunkTypes == ["IHDR", "IDAT", "IEND"])
    #expect(decoded.width == 3 && decoded.height == 2)
    #expect(decoded.pixels == pixels)
  }

  @Test func scale_repeatsEachPixelIntoASquare() throws {
    let decoded = try DecodedPNG(PNG.encodeGrayscale(width: 3, height: 2, pixels: pixels, scale: 2))
    #expect(decoded.width == 6 && decoded.height == 4)
    #expect(decoded.pixels == [
      0, 0, 50, 50, 100, 100,
      0, 0, 50, 50, 100, 100,
      150, 150, 200, 200, 255, 255,
      150, 150, 200, 200, 255, 255,
    ])
  }

  @Test func largeImages_spanSeveralStoredBlocks() throws {
    // 300×300 plus filter bytes is 90,300 bytes: two stored blocks of at most 65,535.
    let big = (0..<(300 * 300)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    let stream = PNG.zlibStored([UInt8](repeating: 1, count: 90_300))
    #expect(stream[2] == 0 && stream[2 + 5 + 65_535] == 1)  // first block not final, second final
    #expect(try DecodedPNG(PNG.encodeGrayscale(width: 300, height: 300, pixels: big)).pixels == big)
  }

  @Test func dataURI_holdsTheBase64OfTheFile() throws {
    let uri = PNG.dataURI(width: 3, height: 2, pixels: pixels)
    let prefix = "data:image/png;base64,"
    #expect(uri.hasPrefix(prefix))
    let bytes = try #require(Data(base64Encoded: String(uri.dropFirst(prefix.count))))
    #expect([UInt8](bytes) == PNG.encodeGrayscale(width: 3, height: 2, pixels: pixels))
  }

  @Test(.enabled(if: Python.isAvailable, "needs python3"))
  func python_decodesOurPNGs() throws {
    try withTemporaryDirectory { directory in
      let big = (0..<(300 * 250)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 / 300) }
      let cases: [(name: String, width: Int, height: Int, pixels: [UInt8], scale: Int)] = [
        ("small", 3, 2, pixels, 1),
        ("scaled", 3, 2, pixels, 3),
        ("big", 300, 250, big, 1),
      ]
      for item in cases {
        let file = PNG.encodeGrayscale(width: item.width, height: item.height, pixels: item.pixels, scale: item.scale)
        try Data(file).write(to: directory.appendingPathComponent("\(item.name).png"))
      }
      // An independent reader: python's own zlib and CRC, no shared code with ours.
      let output = try Python.run(
        """
        import sys, zlib, struct
        for name in sys.argv[2:]:
            data = open(f"{sys.argv[1]}/{name}.png", "rb").read()
            assert data[:8] == b"\\x89PNG\\r\\n\\x1a\\n", "signature"
            pos, idat, types = 8, b"", []
            while pos < len(data):
                (length,) = struct.unpack(">I", data[pos:pos + 4])
                kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
                (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
                assert crc == zlib.crc32(kind + body), f"CRC of {kind}"
                types.append(kind.decode())
                if kind == b"IHDR": w, h, depth, colour, _, _, _ = struct.unpack(">IIBBBBB", body)
                if kind == b"IDAT": idat += body
                pos += 12 + length
            raw = zlib.decompress(idat)
            assert depth == 8 and colour == 0
            rows = [raw[y * (w + 1):(y + 1) * (w + 1)] for y in range(h)]
            assert all(r[0] == 0 for r in rows)
            pixels = b"".join(r[1:] for r in rows)
            print(name, w, h, "-".join(types), pixels.hex())
        """, arguments: [directory.path] + cases.map(\.name))
      let lines = output.split(separator: "\n").map(String.init)
      #expect(lines.count == cases.count)
      for (line, item) in zip(lines, cases) {
        let expected = try DecodedPNG(
          PNG.encodeGrayscale(width: item.width, height: item.height, pixels: item.pixels, scale: item.scale))
        let hex = expected.pixels.map { String(format: "%02x", $0) }.joined()
        let prefix = "\(item.name) \(item.width * item.scale) \(item.height * item.scale) IHDR-IDAT-IEND "
        #expect(line.hasPrefix(prefix))
        #expect(expected.pixels.count == item.pixels.count * item.scale * item.scale)
        #expect(line.dropFirst(prefix.count) == Substring(hex))
      }
    }
  }
}
