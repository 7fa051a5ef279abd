// libFuzzer target for the zip reader. Built only by `make fuzz` (see FuzzCSV/FuzzCSV.swift).

#if FUZZING
import DataIO
import Foundation

/// A private scratch directory: `<tmp>/fuzz-archive-<pid>/{input.zip, out/}`.
let scratch: URL = {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-archive-\(getpid())")
  try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}()

/// Each input is written as a zip file and extracted with a small size limit, then read as an
/// `.npz`. Anything but success or a `DataIOError` is a finding, and so is any file left
/// anywhere but `out/train.csv` and `out/test.csv`: extraction must never escape or leave debris.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArchive(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let fm = FileManager.default
  let zip = scratch.appendingPathComponent("input.zip")
  let out = scratch.appendingPathComponent("out")
  try? fm.removeItem(at: out)
  try! fm.createDirectory(at: out, withIntermediateDirectories: true)
  try! Data(bytes: data, count: size).write(to: zip)

  let limits = ZipArchive.Limits(maxMemberBytes: 1 << 20, maxTotalBytes: 1 << 21)
  do {
    let written = try ZipArchive.extract(members: ["train.csv", "test.csv"], from: zip, to: out, limits: limits)
    precondition(Set(written.keys) == ["train.csv", "test.csv"])
  } catch is DataIOError {
  } catch {
    preconditionFailure("not a DataIOError: \(error)")
  }
  let left = Set((try? fm.contentsOfDirectory(atPath: out.path)) ?? [])
  precondition(left.isSubset(of: ["train.csv", "test.csv"]), "debris in out/: \(left)")
  precondition(left.isEmpty || left.count == 2, "half an extraction: \(left)")
  let around = Set((try? fm.contentsOfDirectory(atPath: scratch.path)) ?? [])
  precondition(around == ["input.zip", "out"], "a file escaped: \(around)")

  do {
    _ = try NumpyArchive.read(from: zip, limits: limits)
  } catch is DataIOError {
  } catch {
    preconditionFailure("not a DataIOError: \(error)")
  }
  return 0
}

/// SwiftPM links every executable's entry point as `<Target>_main` and aliases `main` to it, so
/// libFuzzer's own `main` cannot be used; this one hands control to libFuzzer's driver instead.
@main enum FuzzArchiveMain {
  static func main() {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    // libFuzzer ends the process with exit(), so the scratch directory goes in an atexit hook.
    atexit { try? FileManager.default.removeItem(at: scratch) }
    exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzArchive(data!, size) })
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
@main enum FuzzArchiveStub {
  static func main() { print("FuzzArchive is a libFuzzer target; run it with `make fuzz`.") }
}
#endif
