import Testing
@testable import Tensor

@Suite struct ByteMatrixTests {
  /// The value a byte stands for, from exact Double arithmetic rounded once per operation: the
  /// product `byte · scale` (at most 8 + 24 bits) is exact in Double, and so is the sum of two
  /// floats whose exponents are as close as these maps'.
  func unfused(_ byte: UInt8, _ scale: Float, _ offset: Float) -> Float {
    Float(Double(Float(Double(byte) * Double(scale))) + Double(offset))
  }

  /// `unit` scaling, a `standardize` map as the normalise stage fits one, and a negative scale.
  let maps: [(scale: Float, offset: Float)] = [(1 / 255, 0), (0.012715652, -0.42437714), (-0.75, 3.5)]

  @Test func expanded_isAMultiplyThenAnAddForEveryByte() {
    let all = (0...255).map { UInt8($0) }
    for (scale, offset) in maps {
      let floats = ByteMatrix(shape: [16, 16], bytes: all, scale: scale, offset: offset).expanded()
      #expect(floats.shape == [16, 16])
      #expect(floats.scalars.map(\.bitPattern) == all.map { unfused($0, scale, offset).bitPattern }, "\(scale), \(offset)")
    }
    // The standardize map tells a fused multiply-add (one rounding) from the two roundings.
    let (scale, offset) = maps[1]
    let fused = all.map { Float(Double($0) * Double(scale) + Double(offset)) }
    #expect(fused != all.map { unfused($0, scale, offset) })
  }

  /// Large enough to be split between workers: any split gives the same floats.
  @Test func expanded_doesNotDependOnTheWorkers() {
    var generator = SeededGenerator(seed: 3)
    let bytes = (0..<100_003).map { _ in UInt8(generator.nextIndex(below: 256)) }
    let matrix = ByteMatrix(shape: [100_003], bytes: bytes, scale: maps[1].scale, offset: maps[1].offset)
    let one = Workers.withCount(1) { matrix.expanded() }
    #expect(Workers.withCount(4) { matrix.expanded() } == one)
    #expect(one.scalars == bytes.map { unfused($0, maps[1].scale, maps[1].offset) })
  }

  @Test func rowsAreCutAndGatheredAsTheirFloatsWouldBe() {
    let bytes = (0..<24).map { UInt8($0 * 10) }
    let matrix = ByteMatrix(shape: [4, 2, 3], bytes: bytes, scale: 0.5, offset: -1)
    #expect(matrix.rows == 4 && matrix.columns == 6)
    let floats = matrix.expanded()
    #expect(matrix.gatheringRows([3, 0, 3]).expanded() == floats.gatheringRows([3, 0, 3]))
    #expect(matrix.slicingRows(1..<3).expanded() == floats.slicingRows(1..<3))
    #expect(matrix.gatheringRows([Int]()).expanded().shape == [0, 2, 3])
    #expect(matrix.gatheringRows([2]).scale == 0.5 && matrix.slicingRows(0..<1).offset == -1)
  }
}
