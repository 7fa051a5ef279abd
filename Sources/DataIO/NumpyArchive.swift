import Foundation

/// numpy's `.npz` format: a zip of `<name>.npy` members, stored uncompressed (as `numpy.savez`
/// does), written and read through libarchive.
public enum NumpyArchive {
  /// Writes the arrays, in order, as `<name>.npy` members of a new zip at `url` (replaced
  /// atomically). Throws on duplicate names.
  public static func write(_ arrays: [(name: String, array: NumpyArray)], to url: URL) throws {
    var seen = Set<String>()
    for (name, _) in arrays where !seen.insert(name).inserted {
      throw DataIOError(file: url.path, message: "duplicate array name \(DataIOError.quote(name.utf8, limit: 200))")
    }
    try FileIO.writeAtomically(to: url) { fd in
      let writer = try ZipWriter(fd: fd, file: url.path, compressed: false)
      for (name, array) in arrays {
        // Header and data go in as two chunks, so a large array is never copied into one buffer.
        let header = NumpyFile.header(for: array)
        try header.withUnsafeBytes { headerBytes in
          try array.rawBytes.withUnsafeBytes { dataBytes in
            try writer.add(name: name + ".npy", chunks: [headerBytes, dataBytes])
          }
        }
      }
      try writer.finish()
    }
  }

  /// The arrays of the `.npz` at `url`, in archive order, with names without ".npy".
  /// Throws when a member is not a `.npy` file, or the arrays expand past `limits`.
  public static func read(from url: URL, limits: ZipArchive.Limits = .default) throws -> [(name: String, array: NumpyArray)] {
    let reader = try ZipReader(url: url)
    var arrays: [(name: String, array: NumpyArray)] = []
    var total = 0
    while let entry = try reader.nextEntry() {
      guard entry.isRegularFile else { continue }
      guard entry.path.hasSuffix(".npy") else {
        throw DataIOError(file: url.path, message: "member \(DataIOError.quote(entry.path.utf8, limit: 200)) is not a .npy file")
      }
      let bytes = try reader.readData(expectedSize: entry.size, limit: min(limits.maxMemberBytes, limits.maxTotalBytes - total))
      total += bytes.count
      let array = try NumpyFile.decode(bytes, fileName: "\(url.path)/\(entry.path)")
      arrays.append((name: String(entry.path.dropLast(4)), array: array))
    }
    return arrays
  }
}
