// libFuzzer target for DigitCSV. Built only by `make fuzz`, which passes -DFUZZING and
// -sanitize=fuzzer,address; libFuzzer's driver then calls the function below with
// each input. A plain `swift build` compiles the stub at the bottom instead (a file not named
// main.swift, so that `@main` rather than top-level code makes the stub's entry point).

#if FUZZING
@testable import DataIO
import Foundation

/// The first byte picks a shape, so that the fuzzer's mutations mostly land past the header,
/// where the interesting code is: 0-1 raw bytes; 2-3 a valid train/test header, then the rest.
/// The second byte picks a chunk count. Every input is parsed twice, on 1 chunk and on several,
/// and the two results must agree exactly: the chunk seams must never change an answer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size >= 2 else { return 0 }
  let mode = data[0] % 4
  let chunks = Int(data[1] % 7) + 2
  let hasLabels = mode % 2 == 0
  var bytes = Array(UnsafeBufferPointer(start: data + 2, count: size - 2))
  if mode >= 2 {
    bytes = Array(RowLayout(hasLabels: hasLabels).headerNames().joined(separator: ",").utf8) + [10] + bytes
  }
  let one = Result { try DigitCSV.parse(bytes: bytes, fileName: "f.csv", hasLabels: hasLabels, chunks: 1) }
  let many = Result { try DigitCSV.parse(bytes: bytes, fileName: "f.csv", hasLabels: hasLabels, chunks: chunks) }
  switch (one, many) {
  case (.success(let a), .success(let b)):
    precondition(a == b, "1 chunk and \(chunks) chunks disagree")
    precondition(a.pixels.count == a.rowCount * DigitCSV.pixelCount)
  case (.failure(let a as DataIOError), .failure(let b as DataIOError)):
    precondition(a == b, "1 chunk says \(a), \(chunks) chunks say \(b)")
    precondition(!a.description.contains("\n"), "a multi-line error: \(a)")
  default:
    preconditionFailure("1 chunk and \(chunks) chunks disagree: \(one) vs \(many)")
  }
  return 0
}

/// SwiftPM links every executable's entry point as `<Target>_main` and aliases `main` to it, so
/// libFuzzer's own `main` cannot be used; this one hands control to libFuzzer's driver instead.
@main enum FuzzCSVMain {
  static func main() {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzCSV(data!, size) })
  }
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
  _ argc: UnsafeMutablePointer<Int32>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32
#else
/// Without -DFUZZING (any ordinary build) this is all there is: the package builds and tests
/// everywhere, with or without libFuzzer.
@main enum FuzzCSVStub {
  static func main() { print("FuzzCSV is a libFuzzer target; run it with `make fuzz`.") }
}
#endif
