import CBLAS

// MARK: - Matrix multiplication through OpenBLAS

/// `C = alpha * op(A) * op(B) + beta * C` through `cblas_sgemm` (row-major).
///
/// Every operand is read as a 2-D `rows × columns` view. `op(A)` is `(M, K)`: A is `(M, K)`, or
/// `(K, M)` when `transposeA`; `op(B)` is `(K, N)`: B is `(K, N)`, or `(N, K)` when `transposeB`;
/// C must already be `(M, N)`. With `beta == 0` C's old contents are ignored (BLAS semantics).
public func gemm(
  _ a: Tensor, transposeA: Bool = false, _ b: Tensor, transposeB: Bool = false,
  alpha: Float = 1, beta: Float = 0, into c: inout Tensor
) {
  let (aRows, aColumns) = (a.rows, a.columns)
  let (bRows, bColumns) = (b.rows, b.columns)
  let m = transposeA ? aColumns : aRows
  let k = transposeA ? aRows : aColumns
  let kB = transposeB ? bColumns : bRows
  let n = transposeB ? bRows : bColumns
  precondition(k == kB, "gemm: inner dimensions differ, op(A) is (\(m), \(k)), op(B) is (\(kB), \(n))")
  precondition(
    c.rows == m && c.columns == n,
    "gemm: C has shape \(c.shape), expected (\(m), \(n))")
  if m == 0 || n == 0 { return }
  OpenBLAS.pinToCallingThread()
  if k == 0 {
    // BLAS would leave C scaled by beta; do it here so empty batches are well defined.
    scale(&c, by: beta)
    return
  }
  // OpenBLAS runs on the calling thread (see `OpenBLAS`); a large product is cut into blocks of
  // C, one per worker, each its own GEMM. (Large blocks only, so each stays on OpenBLAS's
  // regular kernel path.) Each call packs all of the operand whose side of C it does not cut,
  // so C is cut along its longer side: a dense layer's `x·W` for a batch of 128 and 800 outputs
  // in column blocks, each worker packing half of W instead of all of it, and reading the half
  // it needs. The blocks are multiples of 16 columns, the width of OpenBLAS's AVX-512 kernels.
  let thin = !(transposeA && transposeB) && isThinProduct(m: m, k: k, n: n)
  let columnBlocks = !thin && n > m
  let parts = m * n * k >= 1 << 22 ? min(workerCount, (columnBlocks ? n : m) / 16) : 1
  a.scalars.withUnsafeBufferPointer { pa in
    b.scalars.withUnsafeBufferPointer { pb in
      c.scalars.withUnsafeMutableBufferPointer { pc in
        // Parts write disjoint blocks of C.
        nonisolated(unsafe) let (pa, pb, pc) = (pa.baseAddress!, pb.baseAddress!, pc.baseAddress!)
        // A thin product (C at most `thinColumns` wide, at most one operand transposed: a dense
        // layer's `x·W` and `xᵀ·dy` with few outputs) goes through OpenBLAS's small-matrix kernels,
        // which read the operands in place. Above their size limit OpenBLAS first copies the
        // operands into packed panels, a cost the few multiply-adds per element of a thin
        // product never earn back (full-batch training of seed.yaml's 784-10-10 spent 39% of its
        // time copying), so the product is cut into blocks under the limit.
        let bTransposed = thin && !transposeA && !transposeB ? transposed(pb, rows: k, columns: n) : []
        if columnBlocks {
          // Columns `part` of op(B) are columns of B, or rows of B when it is transposed.
          let blocks = n / 16
          forEachPart(of: blocks, parts: max(1, parts)) { _, partBlocks in
            let part = (partBlocks.lowerBound * 16)..<(partBlocks.upperBound == blocks ? n : partBlocks.upperBound * 16)
            cblas_sgemm(
              CblasRowMajor,
              transposeA ? CblasTrans : CblasNoTrans,
              transposeB ? CblasTrans : CblasNoTrans,
              blasint(m), blasint(part.count), blasint(k),
              alpha, pa, blasint(aColumns),
              transposeB ? pb + part.lowerBound * bColumns : pb + part.lowerBound, blasint(bColumns),
              beta, pc + part.lowerBound, blasint(n))
          }
          return
        }
        forEachPart(of: m, parts: max(1, parts)) { _, part in
          if thin && transposeA {
            // A dense layer's weight gradient `xᵀ·dy`.
            thinProductOfTransposedA(
              pa + part.lowerBound, aColumns: aColumns, pb, rows: part, n: n, k: k, alpha: alpha, beta: beta,
              into: pc)
          } else if thin {
            // A dense layer's `x·W`. The small kernels run fastest with the thin operand's long
            // side contiguous, so `A·B` is computed as `A·(Bᵀ)ᵀ`, from a transposed copy of B
            // (at most 16 × K) unless B came transposed (README, "Where the time goes").
            bTransposed.withUnsafeBufferPointer { copy in
              let (bt, ldbt) = transposeB ? (pb, bColumns) : (UnsafePointer(copy.baseAddress!), k)
              let blockRows = max(1, min(smallProductLimit / (n * k), smallTransposedOutputLimit / n))
              for first in stride(from: part.lowerBound, to: part.upperBound, by: blockRows) {
                let rows = first..<min(part.upperBound, first + blockRows)
                cblas_sgemm(
                  CblasRowMajor, CblasNoTrans, CblasTrans, blasint(rows.count), blasint(n), blasint(k),
                  alpha, pa + rows.lowerBound * aColumns, blasint(aColumns), bt, blasint(ldbt),
                  beta, pc + rows.lowerBound * n, blasint(n))
              }
            }
          } else {
            // Row i of op(A) is row i of A, or column i of A when transposed.
            let aStart = transposeA ? pa + part.lowerBound : pa + part.lowerBound * aColumns
            cblas_sgemm(
              CblasRowMajor,
              transposeA ? CblasTrans : CblasNoTrans,
              transposeB ? CblasTrans : CblasNoTrans,
              blasint(part.count), blasint(n), blasint(k),
              alpha, aStart, blasint(aColumns),
              pb, blasint(bColumns),
              beta, pc + part.lowerBound * n, blasint(n))
          }
        }
      }
    }
  }
}

/// Whether `gemm(a, b)`, A `(m, k)` and B `(k, n)` with neither transposed, is a thin product
/// that reads B through a transposed copy (see `gemm`). A caller that multiplies by one B many
/// times (a dense layer's weight, once per chunk of a full batch) can keep `b.transposedMatrix()`
/// and call `gemm(a, bᵀ, transposeB: true)` instead: the same kernel calls on the same numbers,
/// without a copy per call.
public func gemmCopiesTransposedB(m: Int, k: Int, n: Int) -> Bool {
  isThinProduct(m: m, k: k, n: n)
}

/// Whether an `(m, k)·(k, n)` product is narrow enough, and big enough, for `gemm` to cut it into
/// small-matrix blocks.
private func isThinProduct(m: Int, k: Int, n: Int) -> Bool {
  n <= thinColumns && m * n * k > smallProductLimit
}

extension Tensor {
  /// The `(columns, rows)` transpose of a 2-D view.
  public func transposedMatrix() -> Tensor {
    let (r, c) = (rows, columns)
    if count == 0 { return Tensor(zeros: [c, r]) }
    return Tensor(shape: [c, r], scalars: scalars.withUnsafeBufferPointer { transposed($0.baseAddress!, rows: r, columns: c) })
  }
}

/// `B`'s `rows × columns` elements, transposed into a new row-major `columns × rows` array.
private func transposed(_ b: UnsafePointer<Float>, rows: Int, columns: Int) -> [Float] {
  [Float](unsafeUninitializedCapacity: rows * columns) { buffer, count in
    // Contiguous writes; the strided reads stay within a few cache lines of B's narrow rows.
    for j in 0..<columns {
      for i in 0..<rows { buffer[j * rows + i] = b[i * columns + j] }
    }
    count = rows * columns
  }
}

/// Rows `rows` of the thin product `C = alpha·Aᵀ·B + beta·C`, A `(K, aColumns)` starting at
/// column `rows.lowerBound` (`a` already points there), B `(K, N)`, C `(M, N)`: a dense layer's
/// weight gradient `xᵀ·dy`. Computed as its transpose `Bᵀ·A` (N × rows), in blocks of K under
/// the small-matrix limit that accumulate in place, then transposed into C: in this orientation
/// the small kernels stream A's rows contiguously.
private func thinProductOfTransposedA(
  _ a: UnsafePointer<Float>, aColumns: Int, _ b: UnsafePointer<Float>, rows: Range<Int>, n: Int, k: Int,
  alpha: Float, beta: Float, into c: UnsafeMutablePointer<Float>
) {
  let m = rows.count
  // The first block overwrites it (beta 0), so it starts uninitialised.
  let product = [Float](unsafeUninitializedCapacity: n * m) { pt, count in
    count = n * m
    // (At least 16 deep: an A much wider than a layer is better served by packed panels.)
    let blockDepth = max(16, smallProductLimit / (n * m))
    for first in stride(from: 0, to: k, by: blockDepth) {
      let depth = min(k, first + blockDepth) - first
      cblas_sgemm(
        CblasRowMajor, CblasTrans, CblasNoTrans, blasint(n), blasint(m), blasint(depth),
        1, b + first * n, blasint(n), a + first * aColumns, blasint(aColumns),
        first == 0 ? 0 : 1, pt.baseAddress!, blasint(m))
    }
  }
  let cRows = c + rows.lowerBound * n
  product.withUnsafeBufferPointer { pt in
    for j in 0..<n {
      let column = pt.baseAddress! + j * m
      if beta == 0 {
        // C's old contents are ignored, as BLAS does (they may be NaN).
        for i in 0..<m { cRows[i * n + j] = alpha * column[i] }
      } else {
        for i in 0..<m { cRows[i * n + j] = alpha * column[i] + beta * cRows[i * n + j] }
      }
    }
  }
}

/// The most multiply-adds (M·N·K) OpenBLAS 0.3.21 hands to its small-matrix kernels on x86-64
/// with AVX-512 (`sgemm_small_kernel_permit`: 100³). Elsewhere the blocks just stay small.
let smallProductLimit = 1_000_000
/// The most elements of C OpenBLAS 0.3.21's small kernel takes with A transposed (its `TN` case,
/// which `A·(Bᵀ)ᵀ` row-major becomes): `sgemm_small_kernel_permit` sends bigger ones to packing.
let smallTransposedOutputLimit = 1200
/// How wide C may be for `gemm` to cut a product into small-matrix blocks (see there).
let thinColumns = 16

/// `op(A) · op(B)` as a new `(M, N)` tensor (see `gemm` for the shapes).
public func matmul(_ a: Tensor, transposeA: Bool = false, _ b: Tensor, transposeB: Bool = false) -> Tensor {
  let m = transposeA ? a.columns : a.rows
  let n = transposeB ? b.rows : b.columns
  // Zero-filled rather than uninitialised: cheap next to the multiply, and safe when K == 0.
  var c = Tensor(zeros: [m, n])
  gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &c)
  return c
}
