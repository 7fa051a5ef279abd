import Foundation
import Synchronization
import Testing
@testable import Tensor

@Suite struct TensorTests {
  @Test func init_checksShapeAndViewsAs2D() {
    let t = Tensor(shape: [2, 3, 4], repeating: 1)
    #expect(t.count == 24)
    #expect(t.rows == 2)
    #expect(t.columns == 12)
    #expect(Tensor(zeros: [5]).columns == 1)
  }

  @Test func gatheringRows_copiesRowsInOrder() {
    let t = Tensor(shape: [4, 2], scalars: [0, 1, 10, 11, 20, 21, 30, 31])
    let g = t.gatheringRows([3, 0, 3])
    #expect(g == Tensor(shape: [3, 2], scalars: [30, 31, 0, 1, 30, 31]))
    #expect(t.slicingRows(1..<3) == Tensor(shape: [2, 2], scalars: [10, 11, 20, 21]))
  }
}

@Suite struct GEMMTests {
  /// Naive triple loop in Double, the reference for every transpose combination.
  func reference(_ a: [[Float]], _ b: [[Float]]) -> [Float] {
    var out: [Float] = []
    for i in a.indices {
      for j in b[0].indices {
        var s = 0.0
        for k in b.indices { s += Double(a[i][k]) * Double(b[k][j]) }
        out.append(Float(s))
      }
    }
    return out
  }

  func matrix(_ t: Tensor) -> [[Float]] {
    (0..<t.rows).map { i in Array(t.scalars[(i * t.columns)..<((i + 1) * t.columns)]) }
  }

  func transposed(_ m: [[Float]]) -> [[Float]] {
    m[0].indices.map { j in m.indices.map { i in m[i][j] } }
  }

  @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
  func matmul_matchesNaiveProduct(transposeA: Bool, transposeB: Bool) {
    var rng = SeededGenerator(seed: 7)
    let (m, k, n) = (5, 7, 3)
    func random(_ shape: [Int]) -> Tensor {
      Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextFloat(in: -1, 1) })
    }
    let a = random(transposeA ? [k, m] : [m, k])
    let b = random(transposeB ? [n, k] : [k, n])
    let am = transposeA ? transposed(matrix(a)) : matrix(a)
    let bm = transposeB ? transposed(matrix(b)) : matrix(b)
    let c = matmul(a, transposeA: transposeA, b, transposeB: transposeB)
    #expect(c.shape == [m, n])
    for (x, y) in zip(c.scalars, reference(am, bm)) { #expect(abs(x - y) < 1e-5) }
  }

  /// A thin product (C at most `thinColumns` wide, over the small-matrix limit) is computed in
  /// blocks, from a transposed copy of B or as the transpose of `Bᵀ·A`: every combination of
  /// transposed operands (a layer's forward, its weight gradient, and the rest), scaled by alpha,
  /// accumulated with beta, and with beta 0 ignoring C's old contents even when they are NaN.
  @Test(arguments: [(false, false), (true, false), (false, true), (true, true)], [Float(0), 0.75])
  func gemm_thinProductInBlocks_matchesNaiveProduct(transposes: (a: Bool, b: Bool), beta: Float) {
    var rng = SeededGenerator(seed: 11)
    let (m, k, n) = transposes.a ? (784, 200, 10) : (300, 784, 10)  // 1.57M and 2.35M multiply-adds
    #expect(m * n * k > smallProductLimit && n <= thinColumns)
    func random(_ shape: [Int]) -> Tensor {
      Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextFloat(in: -1, 1) })
    }
    let a = random(transposes.a ? [k, m] : [m, k])
    let b = random(transposes.b ? [n, k] : [k, n])
    var c = beta == 0 ? Tensor(shape: [m, n], scalars: Array(repeating: .nan, count: m * n)) : random([m, n])
    let before = c.scalars
    let am = transposes.a ? transposed(matrix(a)) : matrix(a)
    let bm = transposes.b ? transposed(matrix(b)) : matrix(b)
    gemm(a, transposeA: transposes.a, b, transposeB: transposes.b, alpha: 0.5, beta: beta, into: &c)
    let product = reference(am, bm)
    for index in c.scalars.indices {
      let expected = 0.5 * product[index] + (beta == 0 ? 0 : beta * before[index])
      #expect(abs(c.scalars[index] - expected) < 1e-3)
    }
  }

  /// A large product is cut between the workers along C's longer side: in row blocks when C is
  /// tall, in column blocks of 16 (the last one wider) when it is wide, as a dense layer's `x·W`
  /// for a batch narrower than the layer. Every combination of transposed operands, both shapes,
  /// one worker and two, scaled and accumulated, against the naive product.
  @Test(arguments: [(false, false), (true, false), (false, true), (true, true)], [(40, 300, 530), (530, 300, 40)])
  func gemm_cutBetweenWorkers_matchesNaiveProduct(transposes: (a: Bool, b: Bool), shape: (m: Int, k: Int, n: Int)) {
    var rng = SeededGenerator(seed: 13)
    let (m, k, n) = shape  // 6.4M multiply-adds: cut into two parts under two workers
    func random(_ shape: [Int]) -> Tensor {
      Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextFloat(in: -1, 1) })
    }
    let a = random(transposes.a ? [k, m] : [m, k])
    let b = random(transposes.b ? [n, k] : [k, n])
    let start = random([m, n])
    let product = reference(transposes.a ? transposed(matrix(a)) : matrix(a), transposes.b ? transposed(matrix(b)) : matrix(b))
    for workers in [1, 2] {
      var c = start
      Workers.withCount(workers) {
        gemm(a, transposeA: transposes.a, b, transposeB: transposes.b, alpha: 0.5, beta: 0.75, into: &c)
      }
      let worst = c.scalars.indices.map { abs(c.scalars[$0] - (0.5 * product[$0] + 0.75 * start.scalars[$0])) }.max()!
      #expect(worst < 1e-3, "\(workers) workers")
    }
  }

  /// A caller that keeps `Bᵀ` (as a dense layer keeps its weight's transpose) gets the very
  /// numbers `gemm` computes from its own copy: the same kernel calls on the same operands.
  @Test func gemm_withKeptTransposeOfB_isBitIdentical() {
    var rng = SeededGenerator(seed: 12)
    let (m, k, n) = (300, 784, 10)
    #expect(gemmCopiesTransposedB(m: m, k: k, n: n))
    #expect(!gemmCopiesTransposedB(m: 64, k: 256, n: 10))  // small: one plain small-kernel call
    #expect(!gemmCopiesTransposedB(m: 128, k: 784, n: 800))  // wide: packed panels
    let a = Tensor(shape: [m, k], scalars: (0..<(m * k)).map { _ in rng.nextFloat(in: -1, 1) })
    let b = Tensor(shape: [k, n], scalars: (0..<(k * n)).map { _ in rng.nextFloat(in: -1, 1) })
    let bt = b.transposedMatrix()
    #expect(bt.shape == [n, k])
    #expect(bt.scalars[3 * k + 5] == b.scalars[5 * n + 3])
    // The same calls on the same numbers: equal under any one worker count, held here.
    for workers in [1, 2] {
      Workers.withCount(workers) { #expect(matmul(a, bt, transposeB: true).scalars == matmul(a, b).scalars) }
    }
    #expect(Tensor(zeros: [0, 4]).transposedMatrix().shape == [4, 0])
  }

  @Test func gemm_accumulatesWithAlphaAndBeta() {
    let a = Tensor(shape: [1, 2], scalars: [1, 2])
    let b = Tensor(shape: [2, 1], scalars: [3, 4])
    var c = Tensor(shape: [1, 1], scalars: [10])
    gemm(a, b, alpha: 2, beta: 0.5, into: &c)
    #expect(c.scalars == [2 * 11 + 5])
  }

  /// A held worker count reaches the threads the kernels start, and is gone afterwards; the
  /// process default is left alone (tests run in parallel in one process).
  @Test func workers_heldCountReachesWorkerThreads() {
    let outside = Workers.count
    #expect(outside >= 1)
    let seen = Mutex([Int](repeating: 0, count: 8))
    Workers.withCount(3) {
      #expect(Workers.count == 3)
      Workers.concurrentPerform(iterations: 8) { i in
        let inner = Workers.count
        seen.withLock { $0[i] = inner }
      }
      Workers.withCount(1) { #expect(Workers.count == 1) }
    }
    #expect(seen.withLock { $0 } == [Int](repeating: 3, count: 8))
    #expect(Workers.count == outside)
  }

  /// Every iteration runs exactly once and its writes are there when the call returns, for
  /// calls narrower and wider than their iteration count, and for calls made inside an
  /// iteration (which the pool runs on the calling thread).
  @Test func workers_runEveryIterationOnce() {
    for workers in 1...4 {
      for iterations in [0, 1, 2, 3, 7, 64] {
        let runs = Mutex([Int](repeating: 0, count: iterations))
        Workers.withCount(workers) {
          Workers.concurrentPerform(iterations: iterations) { i in runs.withLock { $0[i] += 1 } }
        }
        #expect(runs.withLock { $0 } == [Int](repeating: 1, count: iterations), "\(workers) workers, \(iterations) iterations")
      }
      let nested = Mutex([Int](repeating: 0, count: 12))
      Workers.withCount(workers) {
        Workers.concurrentPerform(iterations: 3) { outer in
          Workers.concurrentPerform(iterations: 4) { inner in nested.withLock { $0[outer * 4 + inner] += 1 } }
        }
      }
      #expect(nested.withLock { $0 } == [Int](repeating: 1, count: 12), "\(workers) workers, nested")
    }
  }

  /// Callers on several threads at once (the pool runs one call at a time; the others run on
  /// their own threads) all finish, with every iteration run once.
  @Test func workers_concurrentCallersAllFinish() {
    let callers = 6
    let sums = Mutex([Int](repeating: 0, count: callers))
    DispatchQueue.concurrentPerform(iterations: callers) { caller in
      for _ in 0..<200 {
        Workers.withCount(2) {
          Workers.concurrentPerform(iterations: 5) { i in sums.withLock { $0[caller] += i + 1 } }
        }
      }
    }
    #expect(sums.withLock { $0 } == [Int](repeating: 200 * 15, count: callers))
  }

  /// OpenBLAS is on one thread from the first product on, so a product's rounding depends only
  /// on the worker count and the kernel: the same product under 1 and 2 workers, twice each,
  /// from threads that run at the same time as other products.
  @Test func gemm_repeatsBitForBitForAFixedWorkerCount() {
    var rng = SeededGenerator(seed: 21)
    let (m, k, n) = (256, 300, 200)  // 15M multiply-adds: split over the workers
    let a = Tensor(shape: [m, k], scalars: (0..<(m * k)).map { _ in rng.nextFloat(in: -1, 1) })
    let b = Tensor(shape: [k, n], scalars: (0..<(k * n)).map { _ in rng.nextFloat(in: -1, 1) })
    for workers in [1, 2] {
      let products = Mutex([[Float]](repeating: [], count: 4))
      Workers.withCount(workers) {
        Workers.concurrentPerform(iterations: 4) { i in
          let c = matmul(a, b).scalars
          products.withLock { $0[i] = c }
        }
      }
      let results = products.withLock { $0 }
      for result in results.dropFirst() { #expect(result == results[0]) }
    }
    #expect(OpenBLAS.threadsInUse == 1)
  }
}

@Suite struct SeededGeneratorTests {
  @Test func sameSeed_sameStream() {
    var a = SeededGenerator(seed: 42)
    var b = SeededGenerator(seed: 42)
    for _ in 0..<100 { #expect(a.next() == b.next()) }
    var c = SeededGenerator(seed: 43)
    #expect(SeededGenerator(seed: 42) != c)
    _ = c.next()
  }

  /// Pins the stream so an accidental change to seeding or the update shows up:
  /// splitmix64(0) then xoshiro256**; values from the reference C code.
  @Test func seedZero_matchesReferenceImplementation() {
    var g = SeededGenerator(seed: 0)
    // Reference: xoshiro256** with state from splitmix64 seeded at 0.
    #expect(g.next() == 0x99EC_5F36_CB75_F2B4)
    #expect(g.next() == 0xBF6E_1F78_4956_452A)
  }

  @Test func nextIndex_staysInRangeAndPermutationIsAPermutation() {
    var g = SeededGenerator(seed: 1)
    for bound in [1, 2, 3, 10, 1000] {
      for _ in 0..<200 { #expect((0..<bound).contains(g.nextIndex(below: bound))) }
    }
    let p = g.permutation(100)
    #expect(p.sorted() == Array(0..<100))
    #expect(p != Array(0..<100))
    for _ in 0..<1000 {
      let u = g.nextUnitFloat()
      #expect(u >= 0 && u < 1)
    }
  }
}

@Suite struct KernelTests {
  /// Every ReLU pass (the layer's, and those fused into a dense layer's bias or a convolution's
  /// output) gives the same bits, a NaN and a negative zero included.
  @Test func reluPasses_agreeOnEveryValue() {
    let values: [Float] = [-2, -0.0, 0, 0.5, .nan, -.infinity, .infinity, -.nan]
    let unfused = relu(Tensor(shape: [1, values.count], scalars: values)).scalars
    #expect(unfused.map(\.bitPattern) == values.map { ($0 > 0 ? $0 : 0).bitPattern })
    var biased = Tensor(shape: [1, values.count], scalars: values)
    addRowVector(Tensor(zeros: [values.count]), to: &biased, relu: true)
    #expect(biased.scalars.map(\.bitPattern) == unfused.map(\.bitPattern))
    // A 1×1 convolution over one channel with weight 1, one image per value: the fused pass of
    // the im2col path. (Winograd's transforms mix a pixel with its neighbours, so a NaN or an
    // infinity there cannot be passed through unchanged; its pass calls `rectified` too.)
    let identity = conv2d(
      Tensor(shape: [values.count, 1, 1, 1], scalars: values), weight: Tensor(shape: [1, 1, 1, 1], scalars: [1]),
      bias: Tensor(zeros: [1]), padding: 0, stride: 1, fusedReLU: true)
    #expect(identity.scalars.map(\.bitPattern) == unfused.map(\.bitPattern))
  }

  @Test func addRowVectorAndColumnSums_broadcastOverRows() {
    var y = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    addRowVector(Tensor(shape: [3], scalars: [10, 20, 30]), to: &y)
    #expect(y.scalars == [11, 22, 33, 14, 25, 36])
    var db = Tensor(shape: [3], scalars: [1, 1, 1])
    accumulateColumnSums(of: y, into: &db)
    #expect(db.scalars == [26, 48, 70])
  }

  @Test func relu_andBackward_maskByPositiveOutput() {
    let x = Tensor(shape: [4], scalars: [-1, 0, 2, -3])
    let y = relu(x)
    #expect(y.scalars == [0, 0, 2, 0])
    let dx = reluBackward(Tensor(shape: [4], scalars: [5, 6, 7, 8]), output: y)
    #expect(dx.scalars == [0, 0, 7, 0])
  }

  @Test func softmax_isStableForLargeLogits() {
    let p = softmaxRows(Tensor(shape: [2, 2], scalars: [1000, 1000, 0, Float(log(3.0))]))
    #expect(p.scalars.allSatisfy { $0.isFinite })
    #expect(abs(p.scalars[0] - 0.5) < 1e-6)
    #expect(abs(p.scalars[3] - 0.75) < 1e-6)
  }

  @Test func softmaxCrossEntropy_matchesClosedForm() {
    // Two classes, logits (0, log 3): p = (1/4, 3/4).
    let z = Tensor(shape: [1, 2], scalars: [0, Float(log(3.0))])
    let (loss, g) = softmaxCrossEntropy(logits: z, labels: [1])
    #expect(abs(loss - log(4.0 / 3.0)) < 1e-6)
    #expect(abs(g.scalars[0] - 0.25) < 1e-6)
    #expect(abs(g.scalars[1] + 0.25) < 1e-6)
  }

  @Test func kernels_acceptEmptyTensors() {
    let empty = Tensor(zeros: [0, 3])
    var y = empty
    addRowVector(Tensor(zeros: [3]), to: &y)
    var db = Tensor(zeros: [3])
    accumulateColumnSums(of: empty, into: &db)
    #expect(relu(empty).shape == [0, 3])
    #expect(reluBackward(empty, output: empty).count == 0)
    #expect(softmaxRows(empty).count == 0)
    #expect(softmaxCrossEntropy(logits: empty, labels: []).loss == 0)
    #expect(argmaxRows(empty).isEmpty)
    #expect(empty.gatheringRows([Int]()).shape == [0, 3])
    #expect(matmul(empty, Tensor(zeros: [3, 2])).shape == [0, 2])
  }

  @Test func imageKernels_acceptEmptyBatches() {
    let images = Tensor(zeros: [0, 2, 5, 5])
    let (w, b) = (Tensor(zeros: [3, 2, 3, 3]), Tensor(zeros: [3]))
    #expect(conv2d(images, weight: w, bias: b, padding: 1, stride: 1).shape == [0, 3, 5, 5])
    var (dw, db) = (Tensor(zeros: w.shape), Tensor(zeros: [3]))
    let dx = conv2dBackward(
      Tensor(zeros: [0, 3, 5, 5]), input: images, weight: w, padding: 1, stride: 1,
      weightGradient: &dw, biasGradient: &db, inputGradient: true)
    #expect(dx?.shape == [0, 2, 5, 5])
    let (pooled, argmax) = maxPool2d(images, size: 2)
    #expect(pooled.shape == [0, 2, 2, 2] && argmax.isEmpty)
    #expect(maxPool2dBackward(pooled, argmax: argmax, inputShape: images.shape).shape == images.shape)
    var rng = SeededGenerator(seed: 1)
    #expect(dropoutMask(shape: [0, 4], rate: 0.5, using: &rng).count == 0)
    #expect(multiply(Tensor(zeros: [0, 4]), Tensor(zeros: [0, 4])).shape == [0, 4])
  }

  /// Every window's maximum and the index of its first occurrence in row-by-row order (a later
  /// element wins only when strictly greater, so a NaN found first stays), against a plain scan:
  /// on widths whose rows of windows fill the vector lanes, leave a tail, or are all tail, with
  /// ties (values drawn from five levels), NaNs and odd heights and widths that cut the last
  /// windows (where a row is wider than its windows, so a wrong row stride shows).
  @Test(arguments: [(2, 2), (16, 16), (18, 34), (28, 28), (14, 14), (7, 9), (17, 35), (19, 33)])
  func maxPool2d_findsTheFirstMaximumOfEachWindow(height: Int, width: Int) {
    var rng = SeededGenerator(seed: 3)
    let planes = 3
    var pixels = (0..<planes * height * width).map { _ in Float(Int(rng.nextFloat(in: 0, 5))) }
    for q in stride(from: 5, to: pixels.count, by: 37) { pixels[q] = .nan }
    let x = Tensor(shape: [1, planes, height, width], scalars: pixels)
    for size in [2, 3] where height >= size && width >= size {
      let (pooled, argmax) = maxPool2d(x, size: size)
      let (ho, wo) = (height / size, width / size)
      #expect(pooled.shape == [1, planes, ho, wo])
      for plane in 0..<planes {
        for oh in 0..<ho {
          for ow in 0..<wo {
            var best = oh * size * width + ow * size
            for i in 0..<size {
              for j in 0..<size where pixels[plane * height * width + (oh * size + i) * width + ow * size + j] > pixels[plane * height * width + best] {
                best = (oh * size + i) * width + ow * size + j
              }
            }
            let out = (plane * ho + oh) * wo + ow
            #expect(argmax[out] == Int32(best))
            #expect(pooled.scalars[out].bitPattern == pixels[plane * height * width + best].bitPattern)
          }
        }
      }
    }
  }

  @Test func dropoutMask_isZeroOrInverseKeepRate() {
    var rng = SeededGenerator(seed: 2)
    let mask = dropoutMask(shape: [1001], rate: 0.2, using: &rng)
    #expect(mask.scalars.allSatisfy { $0 == 0 || $0 == 1 / Float(0.8) })
    var none = SeededGenerator(seed: 2)
    #expect(dropoutMask(shape: [64], rate: 0, using: &none).scalars.allSatisfy { $0 == 1 })
  }

  @Test func argmaxRows_picksFirstMaximum() {
    #expect(argmaxRows(Tensor(shape: [2, 3], scalars: [1, 3, 3, 5, 0, 1])) == [1, 0])
  }

  @Test func countArgmaxMatches_countsRowsWhoseFirstMaximumIsTheLabel() {
    // Row 0 ties between columns 1 and 2: the first, 1, is the prediction.
    let z = Tensor(shape: [3, 3], scalars: [1, 3, 3, 5, 0, 1, 0, 0, 2])
    #expect(countArgmaxMatches(z, labels: [1, 0, 2]) == 3)
    #expect(countArgmaxMatches(z, labels: [2, 0, 1]) == 1)
    var rng = SeededGenerator(seed: 9)
    let random = Tensor(shape: [500, 10], scalars: (0..<5000).map { _ in Float(Int(rng.nextFloat(in: 0, 4))) })
    let labels = (0..<500).map { _ in UInt8(Int(rng.nextFloat(in: 0, 10)) % 10) }
    let expected = zip(argmaxRows(random), labels).filter { $0 == Int($1) }.count
    #expect(countArgmaxMatches(random, labels: labels) == expected)
  }
}

/// The optimizer kernels run in SIMD lanes and split large buffers over threads; per element they must do
/// exactly the scalar arithmetic, so they are compared bit for bit with a plain loop.
@Suite struct OptimizerKernelTests {
  let count = 100_003  // several chunks and a ragged SIMD tail

  func random(_ rng: inout SeededGenerator, _ low: Float, _ high: Float) -> Tensor {
    Tensor(shape: [count], scalars: (0..<count).map { _ in rng.nextFloat(in: low, high) })
  }

  @Test(arguments: [false, true])
  func adamUpdate_matchesScalarReferenceBitForBit(decoupled: Bool) {
    var rng = SeededGenerator(seed: 5)
    var p = random(&rng, -1, 1)
    let g = random(&rng, -1, 1)
    var m = random(&rng, -0.1, 0.1)
    var v = random(&rng, 0, 0.01)
    let (lr, b1, b2, eps, wd, t): (Float, Float, Float, Float, Float, Int) = (1e-3, 0.9, 0.999, 1e-8, 0.01, 3)
    var (ep, em, ev) = (p.scalars, m.scalars, v.scalars)
    let stepSize = Float(Double(lr) / (1 - pow(Double(b1), Double(t))))
    let bc2Sqrt = Float((1 - pow(Double(b2), Double(t))).squareRoot())
    for i in 0..<count {
      var gi = g.scalars[i]
      if decoupled { ep[i] *= Float(1 - Double(lr) * Double(wd)) } else { gi += wd * ep[i] }
      em[i] = em[i] + (1 - b1) * (gi - em[i])
      ev[i] = b2 * ev[i] + (1 - b2) * gi * gi
      ep[i] = ep[i] - stepSize * (em[i] / (ev[i].squareRoot() / bc2Sqrt + eps))
    }
    adamUpdate(
      parameter: &p, gradient: g, firstMoment: &m, secondMoment: &v, learningRate: lr, beta1: b1, beta2: b2,
      epsilon: eps, weightDecay: wd, decoupledWeightDecay: decoupled, step: t)
    #expect(p.scalars == ep)
    #expect(m.scalars == em)
    #expect(v.scalars == ev)
  }

  @Test func momentumUpdate_matchesScalarReferenceBitForBit() {
    var rng = SeededGenerator(seed: 6)
    var p = random(&rng, -1, 1)
    let g = random(&rng, -1, 1)
    var v = random(&rng, -0.1, 0.1)
    var (ep, ev) = (p.scalars, v.scalars)
    for i in 0..<count {
      ev[i] = 0.9 * ev[i] + (g.scalars[i] + 0.01 * ep[i])
      ep[i] -= 0.05 * ev[i]
    }
    momentumUpdate(parameter: &p, gradient: g, velocity: &v, learningRate: 0.05, momentum: 0.9, weightDecay: 0.01)
    #expect(p.scalars == ep)
    #expect(v.scalars == ev)
  }
}
