/// The two checksums a PNG file needs: CRC-32 on every chunk, Adler-32 at the end of the zlib
/// stream. Written here rather than linked from zlib because they are a dozen lines each and the
/// report should build wherever Swift does.
enum Checksum {
  /// CRC-32 as in ISO 3309 / PNG (reflected polynomial 0xEDB88320, initial and final XOR with
  /// 0xFFFFFFFF). `crc32("123456789") == 0xCBF43926`.
  static func crc32<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
      crc = crc32Table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
    }
    return crc ^ 0xFFFF_FFFF
  }

  /// Adler-32 (RFC 1950): `b << 16 | a`, where `a = 1 + Σ byte` and `b = Σ a`, both mod 65521.
  /// `adler32("Wikipedia") == 0x11E60398`.
  static func adler32<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt32 {
    let modulus: UInt32 = 65521
    var a: UInt32 = 1
    var b: UInt32 = 0
    var pending = 0
    for byte in bytes {
      a += UInt32(byte)
      b += a
      pending += 1
      // 5552 bytes is the most that can be summed before `b` could overflow 32 bits (zlib's NMAX).
      if pending == 5552 {
        a %= modulus
        b %= modulus
        pending = 0
      }
    }
    return (b % modulus) << 16 | (a % modulus)
  }

  /// One entry per byte value: the CRC of that byte alone, so the loop above handles a byte per
  /// step instead of a bit.
  private static let crc32Table: [UInt32] = (0..<256).map { index in
    var value = UInt32(index)
    for _ in 0..<8 {
      value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1
    }
    return value
  }
}
