#!/usr/bin/env bash
# The kernel choice on CPUs this machine is not. qemu-user runs the pipeline binary on an emulated
# CPUID: an AVX2-only Intel, where AVX-512 instructions really fault, and an Intel Xeon of family 6,
# model 207 (with AVX2 only: qemu emulates no AVX-512), which Debian 12's OpenBLAS does not know.
# A preloaded shim shows the binary a /proc/cpuinfo that matches, as qemu-user passes the host's.
# Each case checks what `pipeline doctor` (or `run`) says and its exit status; a control first
# shows that OpenBLAS itself behaves as the case assumes. Needs a binary built for the x86-64
# baseline (`make check-cpus` builds one), qemu-user and a C compiler.
#
# usage: scripts/emulated-cpus.sh PIPELINE-BINARY
set -euo pipefail
binary=$(realpath "${1:?usage: $0 PIPELINE-BINARY}")
repo=$(cd "$(dirname "$0")/.." && pwd)

# qemu-user runs ELF binaries only, so the controls use Debian's python3, not a wrapper on PATH.
python=/usr/bin/python3
for tool in qemu-x86_64 cc "$python"; do
  command -v "$tool" >/dev/null || { echo "emulated-cpus: $tool is missing (apt-get install qemu-user gcc python3)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# open(2) and fopen(3) of /proc/cpuinfo read $FAKE_CPUINFO instead.
cat > "$work/shim.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
static const char *swap(const char *path) {
  const char *fake = getenv("FAKE_CPUINFO");
  return fake && path && strcmp(path, "/proc/cpuinfo") == 0 ? fake : path;
}
#define OPEN(name) int name(const char *path, int flags, ...) { \
  static int (*real)(const char *, int, ...); if (!real) real = dlsym(RTLD_NEXT, #name); \
  va_list ap; va_start(ap, flags); mode_t mode = va_arg(ap, int); va_end(ap); \
  return real(swap(path), flags, mode); }
#define OPENAT(name) int name(int dir, const char *path, int flags, ...) { \
  static int (*real)(int, const char *, int, ...); if (!real) real = dlsym(RTLD_NEXT, #name); \
  va_list ap; va_start(ap, flags); mode_t mode = va_arg(ap, int); va_end(ap); \
  return real(dir, swap(path), flags, mode); }
#define FOPEN(name) FILE *name(const char *path, const char *mode) { \
  static FILE *(*real)(const char *, const char *); if (!real) real = dlsym(RTLD_NEXT, #name); \
  return real(swap(path), mode); }
OPEN(open) OPEN(open64) OPENAT(openat) OPENAT(openat64) FOPEN(fopen) FOPEN(fopen64)
EOF
cc -shared -fPIC -O2 -o "$work/shim.so" "$work/shim.c" -ldl

# What OpenBLAS loads, and with an argument one product on it.
cat > "$work/openblas.py" <<'EOF'
import ctypes, sys
blas = ctypes.CDLL("libopenblas.so.0")
blas.openblas_get_corename.restype = ctypes.c_char_p
print(blas.openblas_get_corename().decode(), flush=True)
if len(sys.argv) > 1:
    n = 64
    a = (ctypes.c_float * (n * n))(*([1.0] * (n * n)))
    c = (ctypes.c_float * (n * n))()
    blas.cblas_sgemm(101, 111, 111, n, n, n, ctypes.c_float(1), a, n, a, n, ctypes.c_float(0), c, n)
    print("product", c[0], flush=True)
EOF

avx2_flags="fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology cpuid pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm fsgsbase bmi1 avx2 smep bmi2 erms xsaveopt arat"
cpuinfo() { # file model name
  for n in 0 1; do
    printf 'processor\t: %d\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: %s\nmodel name\t: %s\nflags\t\t: %s\n\n' \
      "$n" "$2" "$3" "$avx2_flags"
  done > "$1"
}
cpuinfo "$work/avx2" 63 "Intel Xeon E5 v3 (emulated)"
cpuinfo "$work/xeon207" 207 "Intel Xeon family 6 model 207 (emulated with AVX2 only)"
avx2_cpu="Haswell-noTSX,-invpcid"
xeon207_cpu="max,vendor=GenuineIntel,family=6,model=207,stepping=2,-rtm"

failures=0
# on CPU CPUINFO VAR=VALUE|-U VAR -- COMMAND...: runs COMMAND emulated; sets $out and $status.
on() {
  local cpu=$1 info=$2; shift 2
  local env=(-E "LD_PRELOAD=$work/shim.so" -E "FAKE_CPUINFO=$work/$info")
  while [ "$1" != -- ]; do
    if [ "$1" = -U ]; then env+=(-U "$2"); shift 2; else env+=(-E "$1"); shift; fi
  done
  shift
  status=0
  out=$(cd "$work" && qemu-x86_64 -cpu "$cpu" "${env[@]}" "$@" 2>&1) || status=$?
  # A qemu whose emulation lacks a feature of the model warns of it; the program's words are what count.
  out=$(grep -v "TCG doesn't support" <<<"$out" || true)
}
expect() { # description, condition (a shell test over $out and $status)
  if eval "$2"; then echo "ok    $1"; else echo "FAIL  $1"; printf '%s\n' "$out" | sed 's/^/      /'; failures=$((failures + 1)); fi
}

echo "== an AVX2-only CPU (qemu $avx2_cpu)"
on "$avx2_cpu" avx2 OPENBLAS_CORETYPE=SkylakeX -- "$python" "$work/openblas.py" product
expect "control: OpenBLAS loads forced SkylakeX kernels, and its first product faults" \
  '[[ $out == SkylakeX* && $out != *product* ]]'
on "$avx2_cpu" avx2 OPENBLAS_CORETYPE=SkylakeX -- "$binary" doctor
expect "doctor stops before any product, and says what to set" \
  '[ $status -eq 1 ] && [[ $out == *"would stop on an illegal instruction; unset OPENBLAS_CORETYPE or set it to Haswell"* ]]'
on "$avx2_cpu" avx2 OPENBLAS_CORETYPE=SkylakeX -- "$binary" run --pipeline "$repo/pipelines/seed.yaml" \
  --input "$repo/input/digit-recognizer.zip" --output "$work/run"
expect "run stops too, and leaves no output folder" \
  '[ $status -eq 1 ] && [[ $out == *"illegal instruction"* ]] && [ ! -e "$work/run" ]'
on "$avx2_cpu" avx2 OPENBLAS_CORETYPE=Cooperlake -- "$binary" doctor
expect "Cooperlake asked for: OpenBLAS declines it, and doctor says why" \
  '[ $status -eq 0 ] && [[ $out == *"Haswell: OPENBLAS_CORETYPE=Cooperlake, set in the environment; this CPU lacks the instructions those kernels need, and OpenBLAS picked Haswell itself"* ]]'
on "$avx2_cpu" avx2 -U OPENBLAS_CORETYPE -- "$binary" doctor
expect "nothing set: OpenBLAS's own Haswell is kept" \
  '[ $status -eq 0 ] && [[ $out == *"Haswell: picked by OpenBLAS for this CPU"* ]] && [[ $out != *restarting* ]]'

echo "== an Intel Xeon, family 6 model 207 (qemu $xeon207_cpu)"
on "$xeon207_cpu" xeon207 -U OPENBLAS_CORETYPE -- "$python" "$work/openblas.py"
expect "control: OpenBLAS 0.3.21 does not know the CPU and falls back to Prescott" '[ "$out" = Prescott ]'
on "$xeon207_cpu" xeon207 -U OPENBLAS_CORETYPE -- "$binary" doctor
expect "digits restarts once onto the CPU's best kernels, with one line" \
  '[ $status -eq 0 ] && [ "$(grep -c restarting <<<"$out")" -eq 1 ] && [[ $out == *"restarting with OPENBLAS_CORETYPE=Haswell"* ]] && [[ $out == *"Haswell: OPENBLAS_CORETYPE=Haswell, set by digits: OpenBLAS had picked its Prescott kernels"* ]]'

[ $failures -eq 0 ] && echo "emulated-cpus: all checks passed" || { echo "emulated-cpus: $failures check(s) failed" >&2; exit 1; }
