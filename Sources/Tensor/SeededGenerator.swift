/// A deterministic, seedable PRNG: xoshiro256** (Blackman & Vigna) whose 256-bit state is filled
/// from the seed by splitmix64. The same seed gives the same stream on every platform.
///
/// Helpers draw floats and bounded integers with fixed arithmetic (not the standard library's
/// `random(in:)`, whose algorithm is not promised to stay the same between Swift releases).
public struct SeededGenerator: RandomNumberGenerator, Sendable, Hashable {
  private var s0, s1, s2, s3: UInt64

  public init(seed: UInt64) {
    var x = seed
    func splitmix64() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitmix64()
    s1 = splitmix64()
    s2 = splitmix64()
    s3 = splitmix64()
  }

  public mutating func next() -> UInt64 {
    let result = rotl(s1 &* 5, 7) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = rotl(s3, 45)
    return result
  }

  @inline(__always)
  private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  /// Uniform in [0, 1): the top 24 bits times 2^-24, so every value is exactly representable.
  public mutating func nextUnitFloat() -> Float {
    Float(next() >> 40) * 0x1p-24
  }

  /// Uniform in [low, high): `low + (high - low) * u`.
  public mutating func nextFloat(in low: Float, _ high: Float) -> Float {
    low + (high - low) * nextUnitFloat()
  }

  /// Uniform integer in 0..<bound, unbiased (Lemire's multiply-shift with rejection).
  public mutating func nextIndex(below bound: Int) -> Int {
    precondition(bound > 0, "bound must be positive")
    let b = UInt64(bound)
    var product = next().multipliedFullWidth(by: b)
    if product.low < b {
      let threshold = (0 &- b) % b
      while product.low < threshold {
        product = next().multipliedFullWidth(by: b)
      }
    }
    return Int(product.high)
  }

  /// The Fisher–Yates permutation of `0..<count` drawn from this generator.
  public mutating func permutation(_ count: Int) -> [Int] {
    var order = Array(0..<count)
    var i = count - 1
    while i > 0 {
      let j = nextIndex(below: i + 1)
      order.swapAt(i, j)
      i -= 1
    }
    return order
  }
}
