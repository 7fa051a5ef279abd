import Foundation
import TestSupport
import Testing

@testable import DataIO

@Suite struct NumpyArchiveTests {
  private let arrays: [(name: String, array: NumpyArray)] = [
    ("w1", NumpyArray(shape: [3, 2], values: sampleValues(Float.self, count: 6))),
    ("b1", NumpyArray(shape: [2], values: [Float(0.5), -1.5])),
    ("step", NumpyArray(shape: [], values: [Int64(42)])),
    ("optimizer", NumpyArray(string: "adam")),
  ]

  @Test func roundTrip_keepsNamesOrderAndArrays() throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("model.npz")
      try NumpyArchive.write(arrays, to: url)
      let read = try NumpyArchive.read(from: url)
      #expect(read.map(\.name) == ["w1", "b1", "step", "optimizer"])
      #expect(read.map(\.array) == arrays.map(\.array))
      #expect(try ZipArchive.memberNames(of: url) == ["w1.npy", "b1.npy", "step.npy", "optimizer.npy"])
    }
  }

  @Test func write_isDeterministic() throws {
    try withTemporaryDirectory { directory in
      let first = directory.appendingPathComponent("a.npz")
      let second = directory.appendingPathComponent("b.npz")
      try NumpyArchive.write(arrays, to: first)
      try NumpyArchive.write(arrays, to: second)
      #expect(try Data(contentsOf: first) == Data(contentsOf: second))
    }
  }

  @Test func roundTrip_emptyArchive() throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("empty.npz")
      try NumpyArchive.write([], to: url)
      #expect(try NumpyArchive.read(from: url).isEmpty)
    }
  }

  @Test func write_rejectsDuplicateNames() throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("d.npz")
      let error = expectDataIOError { try NumpyArchive.write([arrays[0], arrays[0]], to: url) }
      #expect(error?.message == #"duplicate array name "w1""#)
    }
  }

  @Test func read_rejectsMembersThatAreNotNpy() throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("odd.npz")
      try ZipArchive.write([("notes.txt", Array("hi".utf8))], to: url)
      let error = expectDataIOError { _ = try NumpyArchive.read(from: url) }
      #expect(error?.message == #"member "notes.txt" is not a .npy file"#)
    }
  }

  @Test func read_namesTheBadMember() throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("bad.npz")
      try ZipArchive.write([("w.npy", [1, 2, 3])], to: url)
      let error = expectDataIOError { _ = try NumpyArchive.read(from: url) }
      #expect(error?.file == url.path + "/w.npy")
    }
  }
}
