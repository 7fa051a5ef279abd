// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "digits",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "pipeline", targets: ["PipelineCLI"]),
    .executable(name: "digits-bench", targets: ["DigitsBench"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
  ],
  targets: [
    // MARK: - C libraries (Debian: libarchive-dev, libopenblas-dev; glibc's allocator)

    .systemLibrary(
      name: "CArchive",
      pkgConfig: "libarchive",
      providers: [.apt(["libarchive-dev"])]
    ),
    .systemLibrary(name: "CMalloc"),  // glibc's mallopt
    .systemLibrary(
      name: "CBLAS",
      pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"])]
    ),

    // MARK: - Numerics: tensors, GEMM through OpenBLAS, the layer kernels (most of the pointer code)

    .target(name: "Tensor", dependencies: ["CBLAS"]),

    // MARK: - Models, data files, the stage machinery

    .target(name: "NeuralNet", dependencies: ["Tensor"]),
    .target(name: "DataIO", dependencies: ["CArchive"]),
    .target(
      name: "Pipeline",
      dependencies: [
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Yams", package: "Yams"),
      ]
    ),

    // MARK: - What the process runs on: the CPU, OpenBLAS's kernels (restarting on better ones), doctor

    .target(name: "Machine", dependencies: ["Tensor", "DataIO", "CMalloc"]),

    // MARK: - The HTML run report: plain value types in, one self-contained file out

    .target(name: "Report"),

    // MARK: - The Digit Recognizer stages and the command line

    .target(
      name: "DigitsPipeline",
      dependencies: ["Pipeline", "DataIO", "NeuralNet", "Tensor", "Report"]
    ),
    // MARK: - Every run the cache remembers: listed, filtered, compared (`pipeline exp`)

    .target(name: "Experiments", dependencies: ["DigitsPipeline", "Pipeline", "Report"]),
    .executableTarget(
      name: "PipelineCLI",
      dependencies: [
        "DigitsPipeline",
        "Experiments",
        "Pipeline",
        "DataIO",
        "Machine",
        "Report",
        "Tensor",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),

    // MARK: - Benchmarks (make bench), not part of the pipeline

    .executableTarget(
      name: "DigitsBench",
      dependencies: ["DataIO", "Machine", "NeuralNet", "Tensor"]
    ),

    // MARK: - Fuzz targets: real only in `make fuzz` (-DFUZZING, -sanitize=fuzzer); stubs otherwise

    .executableTarget(name: "FuzzCSV", dependencies: ["DataIO"]),
    .executableTarget(name: "FuzzArchive", dependencies: ["DataIO"]),

    // MARK: - Tests

    .target(name: "TestSupport", path: "Tests/TestSupport"),
    .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
    .testTarget(
      name: "NeuralNetTests",
      dependencies: ["NeuralNet", "Tensor"],
      resources: [.copy("Fixtures")]
    ),
    .testTarget(
      name: "DataIOTests",
      dependencies: ["DataIO", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")]
    ),
    .testTarget(name: "MachineTests", dependencies: ["Machine", "Tensor"]),
    .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "TestSupport"]),
    .testTarget(name: "ReportTests", dependencies: ["Report", "TestSupport"]),
    .testTarget(
      name: "DigitsPipelineTests",
      dependencies: ["DigitsPipeline", "Experiments", "Pipeline", "DataIO", "Machine", "NeuralNet", "Tensor", "TestSupport"]),
  ]
)
