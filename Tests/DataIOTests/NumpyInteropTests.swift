import Foundation
import TestSupport
import Testing

@testable import DataIO

/// Files that must mean the same thing to numpy and to us, checked against the real numpy when
/// python3 has it (skipped otherwise).
@Suite(.enabled(if: Python.hasNumpy, "needs python3 with numpy"))
struct NumpyInteropTests {
  /// Every dtype we write, as (array, the dtype name numpy should report).
  private let samples: [(name: String, array: NumpyArray, dtype: String)] = [
    ("u8", NumpyArray(shape: [2, 3], values: [UInt8(0), 1, 2, 253, 254, 255]), "uint8"),
    ("i8", NumpyArray(shape: [3], values: [Int8.min, 0, Int8.max]), "int8"),
    ("u16", NumpyArray(shape: [1, 1, 2], values: [UInt16(7), .max]), "uint16"),
    ("i16", NumpyArray(shape: [2], values: [Int16.min, .max]), "int16"),
    ("u32", NumpyArray(shape: [1], values: [UInt32.max]), "uint32"),
    ("i32", NumpyArray(shape: [2, 2], values: [Int32(-1), 0, 1, .max]), "int32"),
    ("u64", NumpyArray(shape: [1], values: [UInt64.max]), "uint64"),
    ("i64", NumpyArray(shape: [], values: [Int64.min]), "int64"),
    ("f32", NumpyArray(shape: [2, 2], values: [Float(0.5), -1.25, 1e-30, 3e38]), "float32"),
    ("f64", NumpyArray(shape: [0, 3], values: [Double]()), "float64"),
    ("str", NumpyArray(string: "héllo 🙂"), "<U7"),
  ]

  /// A line per array as python prints it: name, shape, dtype, and the values as a list.
  private static let describe = """
    import sys, numpy as np
    def describe(name, a):
        dt = a.dtype.str if a.dtype.kind == 'U' else a.dtype.name
        return f"{name} {a.shape} {dt} {a.tolist()!r}"
    """

  @Test func numpy_loadsOurNpyFiles() throws {
    try withTemporaryDirectory { directory in
      var expected = ""
      for sample in samples {
        try NumpyFile.write(sample.array, to: directory.appendingPathComponent("\(sample.name).npy"))
        expected += "\(sample.name) \(pythonShape(sample.array.shape)) \(sample.dtype)\n"
      }
      let output = try Python.run(
        Self.describe + """

          for name in sys.argv[2:]:
              a = np.load(f"{sys.argv[1]}/{name}.npy", allow_pickle=False)
              print(describe(name, a))
          """, arguments: [directory.path] + samples.map(\.name))
      let lines = output.split(separator: "\n").map(String.init)
      #expect(lines.count == samples.count)
      for (line, sample) in zip(lines, samples) {
        #expect(line.hasPrefix("\(sample.name) \(pythonShape(sample.array.shape)) \(sample.dtype) "))
      }
      #expect(lines[0].hasSuffix("[[0, 1, 2], [253, 254, 255]]"))
      #expect(lines[5].hasSuffix("[[-1, 0], [1, 2147483647]]"))
      #expect(lines[7].hasSuffix("-9223372036854775808"))
      #expect(lines[8].hasSuffix("[[0.5, -1.25], [1.0000000031710769e-30, 3.0000000054977558e+38]]"))
      #expect(lines[10].hasSuffix("'héllo 🙂'"))
    }
  }

  @Test func swift_readsNumpysNpyFilesByteForByte() throws {
    try withTemporaryDirectory { directory in
      try Python.run(
        """
        import sys, numpy as np
        d = sys.argv[1]
        np.save(f"{d}/f32.npy", np.arange(12, dtype='<f4').reshape(3, 4) / 4)
        np.save(f"{d}/u8.npy", np.arange(784 * 2, dtype=np.uint8).reshape(2, 784))
        np.save(f"{d}/i64.npy", np.array([-5, 2**40], dtype=np.int64))
        np.save(f"{d}/scalar.npy", np.float64(2.5))
        np.save(f"{d}/str.npy", np.array("relu"))
        np.save(f"{d}/fortran.npy", np.asfortranarray(np.ones((2, 3), dtype='<f4')))
        np.save(f"{d}/big.npy", np.ones(3, dtype='>i4'))
        """, arguments: [directory.path])
      func load(_ name: String) throws -> NumpyArray {
        try NumpyFile.read(from: directory.appendingPathComponent("\(name).npy"))
      }
      #expect(try load("f32").values(as: Float.self) == (0..<12).map { Float($0) / 4 })
      #expect(try load("f32").shape == [3, 4])
      #expect(try load("u8").values(as: UInt8.self) == (0..<(784 * 2)).map { UInt8($0 % 256) })
      #expect(try load("i64").values(as: Int64.self) == [-5, 1 << 40])
      #expect(try load("scalar").shape == [])
      #expect(try load("scalar").values(as: Double.self) == [2.5])
      #expect(try load("str").stringValue == "relu")
      // Re-encoding gives numpy's exact bytes: same header, same padding.
      for name in ["f32", "u8", "i64", "scalar", "str"] {
        let original = try Data(contentsOf: directory.appendingPathComponent("\(name).npy"))
        #expect(Data(NumpyFile.encode(try load(name))) == original, "\(name).npy")
      }
      #expect(expectDataIOError { _ = try load("fortran") }?.message.hasPrefix("fortran_order True") == true)
      #expect(expectDataIOError { _ = try load("big") }?.message.hasPrefix("big-endian dtype >i4") == true)
    }
  }

  @Test func numpy_loadsOurNpzFiles() throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("model.npz")
      try NumpyArchive.write(samples.map { (name: $0.name, array: $0.array) }, to: url)
      let output = try Python.run(
        Self.describe + """

          with np.load(sys.argv[1], allow_pickle=False) as z:
              for name in z.files:
                  print(describe(name, z[name]))
          """, arguments: [url.path])
      let lines = output.split(separator: "\n").map(String.init)
      #expect(lines.count == samples.count)
      for (line, sample) in zip(lines, samples) {
        #expect(line.hasPrefix("\(sample.name) \(pythonShape(sample.array.shape)) \(sample.dtype) "))
      }
    }
  }

  @Test(arguments: ["savez", "savez_compressed"])
  func swift_readsNumpysNpzFiles(function: String) throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("w.npz")
      try Python.run(
        """
        import sys, numpy as np
        np.\(function)(sys.argv[1], w1=np.arange(6, dtype='<f4').reshape(2, 3), b1=np.zeros(3, dtype='<f4'),
                 step=np.int64(9), name=np.array("mlp"))
        """, arguments: [url.path])
      let arrays = try NumpyArchive.read(from: url)
      #expect(arrays.map(\.name) == ["w1", "b1", "step", "name"])
      #expect(try arrays[0].array.values(as: Float.self) == [0, 1, 2, 3, 4, 5])
      #expect(arrays[0].array.shape == [2, 3])
      #expect(try arrays[1].array.values(as: Float.self) == [0, 0, 0])
      #expect(try arrays[2].array.values(as: Int64.self) == [9])
      #expect(arrays[3].array.stringValue == "mlp")
    }
  }

  @Test func swift_parsesCSVLikePandasWouldRead() throws {
    // A CSV numpy writes, with the edge values, parsed by us and compared with numpy's own reading.
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("train.csv")
      try Python.run(
        """
        import sys, numpy as np
        rng = np.random.default_rng(7)
        labels = rng.integers(0, 10, size=(5, 1))
        pixels = rng.integers(0, 256, size=(5, 784)); pixels[0, :3] = [0, 255, 9]
        header = ','.join(['label'] + [f'pixel{i}' for i in range(784)])
        np.savetxt(sys.argv[1], np.hstack([labels, pixels]), fmt='%d', delimiter=',', header=header, comments='')
        np.save(sys.argv[1] + '.pixels.npy', pixels.astype(np.uint8))
        np.save(sys.argv[1] + '.labels.npy', labels[:, 0].astype(np.uint8))
        """, arguments: [url.path])
      let table = try DigitCSV.parse(contentsOf: url, hasLabels: true)
      let pixels = try NumpyFile.read(from: URL(fileURLWithPath: url.path + ".pixels.npy"))
      let labels = try NumpyFile.read(from: URL(fileURLWithPath: url.path + ".labels.npy"))
      #expect(table.rowCount == 5)
      #expect(try table.pixels == pixels.values(as: UInt8.self))
      #expect(try table.labels == labels.values(as: UInt8.self))
    }
  }
}

/// A shape as Python prints a tuple: `()`, `(5,)`, `(2, 3)`.
private func pythonShape(_ shape: [Int]) -> String {
  shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
}
