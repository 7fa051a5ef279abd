import Machine

// /proc/cpuinfo as the two kinds of machine this project runs on print it (the first processor;
// the AMD one read off this project's machine, the Intel one as such a Xeon reports itself).

let amdEPYCCPUInfo = """
  processor	: 0
  vendor_id	: AuthenticAMD
  cpu family	: 25
  model		: 17
  model name	: AMD EPYC
  stepping	: 1
  flags		: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw topoext vmmcall fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves avx512_bf16 clzero xsaveerptr arat avx512vbmi umip avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq rdpid fsrm

  processor	: 1
  vendor_id	: AuthenticAMD
  model name	: not the first processor
  flags		: fpu

  """

let intelXeonCPUInfo = """
  processor	: 0
  vendor_id	: GenuineIntel
  cpu family	: 6
  model		: 207
  model name	: Intel(R) Xeon(R) Processor
  flags		: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch ssbd ibrs ibpb stibp ibrs_enhanced fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves avx_vnni avx512_bf16 wbnoinvd arat avx512vbmi umip pku ospke waitpkg avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg tme avx512_vpopcntdq rdpid cldemote movdiri movdir64b md_clear serialize tsxldtrk amx_bf16 avx512_fp16 amx_tile amx_int8 arch_capabilities

  """

/// An AVX2 machine without AVX-512 (a Zen 3 or a Haswell-era Xeon).
let avx2CPU = CPU(
  vendor: "AuthenticAMD", modelName: "AVX2 machine",
  flags: ["sse", "sse2", "pni", "ssse3", "sse4_1", "sse4_2", "avx", "fma", "avx2", "f16c", "bmi1", "bmi2", "movbe", "abm"])

/// A processor with SSE only.
let sseCPU = CPU(vendor: "GenuineIntel", modelName: "SSE machine", flags: ["sse", "sse2", "pni", "ssse3"])
