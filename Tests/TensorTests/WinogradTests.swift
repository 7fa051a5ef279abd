import Testing
@testable import Tensor

/// 3×3 convolutions with stride 1 and padding 1 go through Winograd's F(2×2, 3×3): checked here
/// against the definition, in Double, forward and backward, on shapes that reach every edge case
/// of the tiling (odd sizes with cut tiles, rows of more than sixteen tiles, more images than one
/// chunk of products, a fused ReLU).
@Suite struct WinogradTests {
  struct Shape: CustomStringConvertible, Sendable {
    var n, c, h, w, f: Int
    var description: String { "\(n)×\(c)×\(h)×\(w) → \(f)" }
  }

  static let c = winogradMinimumChannels
  static let shapes = [
    Shape(n: 3, c: c + 1, h: 5, w: 7, f: 3),  // odd: the last tiles are cut; 51 filter-channel pairs, a tail of lanes
    Shape(n: 2, c: c + 1, h: 6, w: 40, f: 4),  // 20 tiles a row: five runs of lanes
    // 64 channels of 28×28 fill a chunk of products with one image, and 17 images make a run of
    // two (the batch is cut into at most 16 runs): a run of more than one chunk.
    Shape(n: 17, c: 64, h: 28, w: 28, f: 2),
    Shape(n: 18, c: c, h: 4, w: 4, f: 2),  // runs of two images in one chunk
    Shape(n: 2, c: c, h: 1, w: 1, f: 2),  // one pixel: one tile, all padding but the centre
  ]

  @Test func chunks_holdAsManyImagesAsFitTheBudget() {
    // The reference CNN's layers: 32 channels of 28×28, 32 → 64 and 64 of 14×14.
    #expect(winogradImages(channels: 32, filters: 32, tilesPerImage: 196) == 2)
    #expect(winogradImages(channels: 32, filters: 64, tilesPerImage: 49) == 4)
    #expect(winogradImages(channels: 64, filters: 64, tilesPerImage: 49) == 4)
    // The multi-chunk shape above, and a layer too big for the budget: one image a chunk.
    #expect(winogradImages(channels: 64, filters: 2, tilesPerImage: 196) == 1)
    #expect(winogradImages(channels: 512, filters: 512, tilesPerImage: 196) == 1)
  }

  func random(_ shape: [Int], _ rng: inout SeededGenerator) -> Tensor {
    Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextFloat(in: -1, 1) })
  }

  /// `y[n,f,i,j] = b[f] + Σ W[f,c,a,b'] x[n,c,i+a−1,j+b'−1]`, in Double.
  func reference(_ x: Tensor, _ w: Tensor, _ b: Tensor, _ s: Shape) -> [Double] {
    var y = [Double](repeating: 0, count: s.n * s.f * s.h * s.w)
    for n in 0..<s.n {
      for f in 0..<s.f {
        for i in 0..<s.h {
          for j in 0..<s.w {
            var sum = Double(b.scalars[f])
            for c in 0..<s.c {
              for a in 0..<3 {
                for bb in 0..<3 {
                  let (ih, iw) = (i + a - 1, j + bb - 1)
                  guard ih >= 0, ih < s.h, iw >= 0, iw < s.w else { continue }
                  sum += Double(w.scalars[((f * s.c + c) * 3 + a) * 3 + bb]) * Double(x.scalars[((n * s.c + c) * s.h + ih) * s.w + iw])
                }
              }
            }
            y[((n * s.f + f) * s.h + i) * s.w + j] = sum
          }
        }
      }
    }
    return y
  }

  @Test(arguments: shapes)
  func forward_matchesTheDefinition(shape s: Shape) {
    var rng = SeededGenerator(seed: 31)
    let x = random([s.n, s.c, s.h, s.w], &rng)
    let w = random([s.f, s.c, 3, 3], &rng)
    let b = random([s.f], &rng)
    #expect(winogradApplies(WindowGeometry(channels: s.c, height: s.h, width: s.w, kernel: 3, padding: 1, stride: 1)))
    #expect(!winogradApplies(WindowGeometry(channels: 1, height: s.h, width: s.w, kernel: 3, padding: 1, stride: 1)))
    let expected = reference(x, w, b, s)
    let y = conv2d(x, weight: w, bias: b, padding: 1, stride: 1)
    #expect(y.shape == [s.n, s.f, s.h, s.w])
    // Each output sums 9·C products in Float: the rounding grows with the channels.
    let tolerance = 1e-5 * Double(max(1, s.c / 16))
    for (got, want) in zip(y.scalars, expected) { #expect(abs(Double(got) - want) < tolerance * max(1, abs(want))) }
    let fused = conv2d(x, weight: w, bias: b, padding: 1, stride: 1, fusedReLU: true)
    #expect(fused.scalars == y.scalars.map { max($0, 0) })
  }

  /// The backward pass against the definition's own adjoints: `dW[f,c,a,b'] = Σ dy·x`,
  /// `db[f] = Σ dy`, `dx[n,c,i,j] = Σ dy·W`, with and without the fused ReLU's mask.
  @Test(arguments: shapes, [false, true])
  func backward_matchesTheDefinition(shape s: Shape, relu: Bool) {
    var rng = SeededGenerator(seed: 32)
    let x = random([s.n, s.c, s.h, s.w], &rng)
    let w = random([s.f, s.c, 3, 3], &rng)
    let b = random([s.f], &rng)
    let dy = random([s.n, s.f, s.h, s.w], &rng)
    let y = relu ? conv2d(x, weight: w, bias: b, padding: 1, stride: 1, fusedReLU: true) : nil
    var g: [Double] = dy.scalars.map { Double($0) }
    if let y {
      for q in g.indices where y.scalars[q] <= 0 { g[q] = 0 }
    }
    var dW = Tensor(zeros: w.shape)
    var db = Tensor(zeros: [s.f])
    let dx = conv2dBackward(
      dy, input: x, weight: w, padding: 1, stride: 1, reluOutput: y, weightGradient: &dW, biasGradient: &db,
      inputGradient: true)!
    var wantW = [Double](repeating: 0, count: w.count)
    var wantB = [Double](repeating: 0, count: s.f)
    var wantX = [Double](repeating: 0, count: x.count)
    for n in 0..<s.n {
      for f in 0..<s.f {
        for i in 0..<s.h {
          for j in 0..<s.w {
            let gy = g[((n * s.f + f) * s.h + i) * s.w + j]
            wantB[f] += gy
            for c in 0..<s.c {
              for a in 0..<3 {
                for bb in 0..<3 {
                  let (ih, iw) = (i + a - 1, j + bb - 1)
                  guard ih >= 0, ih < s.h, iw >= 0, iw < s.w else { continue }
                  let xi = ((n * s.c + c) * s.h + ih) * s.w + iw
                  let wi = ((f * s.c + c) * 3 + a) * 3 + bb
                  wantW[wi] += gy * Double(x.scalars[xi])
                  wantX[xi] += gy * Double(w.scalars[wi])
                }
              }
            }
          }
        }
      }
    }
    for (got, want) in zip(dW.scalars, wantW) { #expect(abs(Double(got) - want) < 1e-4 * max(1, abs(want))) }
    for (got, want) in zip(db.scalars, wantB) { #expect(abs(Double(got) - want) < 1e-4 * max(1, abs(want))) }
    for (got, want) in zip(dx.scalars, wantX) { #expect(abs(Double(got) - want) < 1e-5 * max(1, abs(want))) }
  }
}
