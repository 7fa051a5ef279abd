#!/usr/bin/env bash
# Prints the -target-cpu that `make` compiles the Swift code for on this machine: the widest of
# three levels the CPU runs (as llama.cpp's GGML_NATIVE builds for the host). The kernels use
# vectors as wide as the level (DIGITS_AVX2, DIGITS_AVX512; Sources/Tensor/VectorUnits.swift);
# results do not depend on it.
#   skylake-avx512  AVX-512 F, CD, BW, DQ and VL (Intel Skylake-SP and later, AMD Zen 4 and later)
#   haswell         AVX2, FMA, BMI1/2, F16C, MOVBE, LZCNT (Intel Haswell, AMD Zen and later)
#   x86-64          the baseline (SSE2), what a plain `swift build` compiles for: any x86-64
# On other architectures it prints nothing and the compiler's default stands.
set -euo pipefail
[ "$(uname -m)" = x86_64 ] || exit 0
flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
has_all() {
  for flag in "$@"; do
    case "$flags" in *" $flag "*) ;; *) return 1 ;; esac
  done
}
if has_all avx512f avx512cd avx512bw avx512dq avx512vl avx2 fma bmi1 bmi2 f16c movbe abm; then
  echo skylake-avx512
elif has_all avx2 fma bmi1 bmi2 f16c movbe abm; then
  echo haswell
else
  echo x86-64
fi
