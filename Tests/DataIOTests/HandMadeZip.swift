import Foundation

/// Writes zip files byte by byte, for archives no well-behaved writer makes: `..` and absolute
/// names, duplicate names, symlink/FIFO/device modes, the encryption flag, sizes that lie.
///
/// Members are stored (not compressed), with a Unix "version made by" so that readers take the
/// file type from the high 16 bits of the external attributes, as Info-ZIP does.
struct HandMadeZip {
  struct Member {
    var name: String
    var data: [UInt8]
    /// POSIX mode, type bits included: 0o100644 is a regular file, 0o120777 a symlink.
    var mode: UInt32 = 0o100644
    /// General-purpose flags; bit 0 means encrypted.
    var flags: UInt16 = 0
    /// The uncompressed size the headers claim; nil for the true one.
    var claimedSize: UInt32? = nil
  }

  var members: [Member]

  init(_ members: [Member]) { self.members = members }

  init(files: [(String, String)]) {
    members = files.map { Member(name: $0.0, data: Array($0.1.utf8)) }
  }

  var bytes: [UInt8] {
    var out: [UInt8] = []
    var central: [UInt8] = []
    for member in members {
      let name = Array(member.name.utf8)
      let crc = crc32(member.data)
      let size = UInt32(member.data.count)
      let offset = UInt32(out.count)
      // Local file header.
      out += le32(0x0403_4b50) + le16(20) + le16(member.flags) + le16(0) + le16(0) + le16(0x21)
      out += le32(crc) + le32(size) + le32(member.claimedSize ?? size)
      out += le16(UInt16(name.count)) + le16(0) + name + member.data
      // Central directory record.
      central += le32(0x0201_4b50) + le16(3 << 8 | 20) + le16(20) + le16(member.flags) + le16(0)
      central += le16(0) + le16(0x21) + le32(crc) + le32(size) + le32(member.claimedSize ?? size)
      central += le16(UInt16(name.count)) + le16(0) + le16(0) + le16(0) + le16(0)
      central += le32(member.mode << 16) + le32(offset) + name
    }
    let centralOffset = UInt32(out.count)
    out += central
    out += le32(0x0605_4b50) + le16(0) + le16(0) + le16(UInt16(members.count)) + le16(UInt16(members.count))
    out += le32(UInt32(central.count)) + le32(centralOffset) + le16(0)
    return out
  }

  func write(to url: URL) throws { try Data(bytes).write(to: url) }

  private func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
  private func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xFF) } }

  private func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
      crc ^= UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
  }
}
