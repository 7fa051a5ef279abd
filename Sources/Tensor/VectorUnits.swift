#if arch(x86_64)
  import _Builtin_intrinsics.intel  // _mm_sqrt_ps, _mm256_sqrt_ps
#endif

// MARK: - The vector instructions the kernels were compiled for

// Swift compiles a whole binary for one instruction set; it cannot pick a function's by the CPU
// at run time as C compilers' `target_clones` do. So `make` compiles for the CPU it builds on
// (`scripts/target-cpu.sh` chooses TARGET_CPU, as llama.cpp's GGML_NATIVE builds for its host)
// and defines DIGITS_AVX2, and DIGITS_AVX512, when that level has them; a plain `swift build`
// compiles for baseline x86-64 and runs on any. The kernels' explicit vectors are `floatLanes`
// wide. Results do not depend on the level: a lane computes the same arithmetic whatever their
// number, reductions keep fixed accumulator widths, and Swift does not fuse a multiply and an add
// into an FMA unless asked.

/// What the kernels of this binary were compiled for, and what a CPU needs to run it.
public enum VectorUnits {
  #if DIGITS_AVX512
    /// The level, for `pipeline doctor` and the machine record.
    public static let compiledFor = "AVX-512 (TARGET_CPU=skylake-avx512)"
    /// The `/proc/cpuinfo` flags this binary's instructions need.
    public static let requiredCPUFlags = [
      "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm",
    ]
  #elseif DIGITS_AVX2
    public static let compiledFor = "AVX2 and FMA (TARGET_CPU=haswell)"
    public static let requiredCPUFlags = ["avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm"]
  #else
    #if arch(x86_64)
      public static let compiledFor = "baseline x86-64 (SSE2): runs on any x86-64 CPU"
    #else
      public static let compiledFor = "the compiler's default for this architecture"
    #endif
    public static let requiredCPUFlags: [String] = []
  #endif
}

#if DIGITS_AVX2
  /// Floats per explicit vector in the kernels: one 256-bit register. Eight also under AVX-512:
  /// the Winograd transforms' rows of 14 and 7 tiles fill eight lanes and would leave half of
  /// sixteen empty, and AMD's Zen 4 runs a 512-bit operation as two 256-bit halves.
  let floatLanes = 8
  typealias FloatLanes = SIMD8<Float>
  /// Two `FloatLanes`, interleaved or side by side.
  typealias FloatLanePairs = SIMD16<Float>
#else
  /// Floats per explicit vector in the kernels: one SSE register, so that the dozen vectors a
  /// transform keeps live fit baseline x86-64's sixteen registers.
  let floatLanes = 4
  typealias FloatLanes = SIMD4<Float>
  typealias FloatLanePairs = SIMD8<Float>
#endif

/// Lane-wise `√x`, exactly rounded, in one instruction. `SIMD.squareRoot()` is lowered lane by
/// lane to `sqrtf` calls on Linux (libm's errno contract keeps LLVM from vectorising it), which
/// made the optimizer loop a fifth of an MLP's training time.
@inline(__always)
func vectorSquareRoot(_ x: FloatLanes) -> FloatLanes {
  #if DIGITS_AVX2
    return _mm256_sqrt_ps(x)
  #elseif arch(x86_64)
    return _mm_sqrt_ps(x)
  #else
    return x.squareRoot()
  #endif
}
