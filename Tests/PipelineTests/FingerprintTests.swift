import Foundation
import TestSupport
import Testing
@testable import Pipeline

@Suite struct FingerprintTests {
  @Test func sha256_matchesTheKnownDigest() {
    #expect(Fingerprint.of(bytes: Data("abc".utf8)).hex
      == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  }

  @Test func fileHash_equalsTheHashOfItsBytes() throws {
    let folder = try TemporaryFolder()
    let url = folder.url.appending(path: "big.bin")
    let bytes = Data((0..<(9 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })  // spans several chunks
    try bytes.write(to: url)
    #expect(try Fingerprint.of(fileAt: url) == Fingerprint.of(bytes: bytes))
  }

  @Test func stageFingerprint_changesWithEachIngredient() {
    let input = Fingerprint.of(bytes: Data("x".utf8))
    let base = Fingerprint.ofStage(name: "a", version: 1, canonicalParameters: "{}", inputs: ["u": input], externalFiles: [:])
    let variants = [
      Fingerprint.ofStage(name: "b", version: 1, canonicalParameters: "{}", inputs: ["u": input], externalFiles: [:]),
      Fingerprint.ofStage(name: "a", version: 2, canonicalParameters: "{}", inputs: ["u": input], externalFiles: [:]),
      Fingerprint.ofStage(name: "a", version: 1, canonicalParameters: #"{"k":1}"#, inputs: ["u": input], externalFiles: [:]),
      Fingerprint.ofStage(name: "a", version: 1, canonicalParameters: "{}", inputs: ["u": base], externalFiles: [:]),
      Fingerprint.ofStage(name: "a", version: 1, canonicalParameters: "{}", inputs: [:], externalFiles: ["u": input]),
    ]
    #expect(Set(variants + [base]).count == variants.count + 1)
    #expect(base == Fingerprint.ofStage(name: "a", version: 1, canonicalParameters: "{}", inputs: ["u": input], externalFiles: [:]))
  }

  @Test func canonicalJSON_isIndependentOfKeyOrder() throws {
    struct A: Codable { var b = 1; var a = 2 }
    #expect(String(decoding: try canonicalJSON(A()), as: UTF8.self) == #"{"a":2,"b":1}"#)
  }
}
