// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "stn-video",
    products: [
        .executable(name: "stn-video", targets: ["stn-video"]),
        .executable(name: "stn-train", targets: ["stn-train"]),
        .executable(name: "stn-make-video", targets: ["stn-make-video"]),
        .executable(name: "stn-bench", targets: ["stn-bench"]),
        .library(name: "STNCore", targets: ["STNCore"]),
        .library(name: "STNPipeline", targets: ["STNPipeline"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0")
    ],
    targets: [
        // MARK: C shims (only STNMedia imports CFFmpeg; only STNCore imports COpenBLAS)
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat libavcodec libavutil libswscale libswresample",
            providers: [
                .apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev", "libswresample-dev"])
            ]
        ),
        /// Loads OpenBLAS (libopenblas-dev's cblas.h, libopenblas.so.0) single-threaded at start-up.
        .target(name: "COpenBLAS", linkerSettings: [.linkedLibrary("dl")]),
        /// SIGINT/SIGTERM handlers and the state they set (C: written from a signal handler, read by FFmpeg's callbacks).
        .target(name: "CStopSignal"),

        // MARK: Libraries
        /// What every layer shares about the process: the cancellation token signals set, and file identity.
        .target(name: "STNRuntime", dependencies: ["CStopSignal"]),
        /// Pure-Swift STN: tensors, layers, grid generators, differentiable sampler, optimisers, model files.
        .target(name: "STNCore", dependencies: ["COpenBLAS", "FrameSampling"]),
        /// Data sets: IDX files (Fashion-MNIST, MNIST), the paper's distortions, synthetic video scenes.
        .target(name: "STNData", dependencies: ["STNCore"]),
        /// 8-bit planar YUV sampler for video frames (DESIGN.md §2) and the padding rule both samplers share; no FFmpeg, no STN.
        .target(name: "FrameSampling"),
        /// FFmpeg wrappers: demux, decode, scale, encode, mux. The only library importing CFFmpeg.
        .target(name: "STNMedia", dependencies: ["CFFmpeg", "STNRuntime"]),
        /// The default model's bytes, embedded at build time from samples/model (C23 #embed); the executables', not the libraries'.
        .target(name: "CBundledModel"),
        /// The staged rectification pipeline, parameter log, temporal smoothing.
        .target(
            name: "STNPipeline",
            dependencies: [
                "STNMedia", "FrameSampling", "STNCore", "STNRuntime",
                .product(name: "DequeModule", package: "swift-collections")
            ]
        ),

        /// What the three tools share: the entry point and exit statuses, the tool error, option groups.
        .target(
            name: "CommandSupport",
            dependencies: ["STNRuntime", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // MARK: Executables
        .executableTarget(
            name: "stn-video",
            dependencies: [
                "STNPipeline", "CBundledModel", "CommandSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]
        ),
        .executableTarget(
            name: "stn-train",
            dependencies: [
                "STNCore", "STNData", "CBundledModel", "CommandSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]
        ),
        .executableTarget(
            name: "stn-make-video",
            dependencies: [
                "STNData", "STNMedia", "CommandSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]
        ),
        /// Micro-benchmarks (pipelines/bench-sampler.sh, bench-train.sh). It alone besides STNMedia
        /// imports CFFmpeg: its reference is libswscale on the very same planes.
        .executableTarget(
            name: "stn-bench",
            dependencies: [
                "FrameSampling", "STNCore", "CFFmpeg", "CommandSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]
        ),

        // MARK: Tests
        .testTarget(name: "STNRuntimeTests", dependencies: ["STNRuntime"]),
        .testTarget(name: "STNCoreTests", dependencies: ["STNCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "STNDataTests", dependencies: ["STNData"]),
        .testTarget(name: "FrameSamplingTests", dependencies: ["FrameSampling"]),
        .testTarget(name: "STNMediaTests", dependencies: ["STNMedia"]),
        .testTarget(name: "STNPipelineTests", dependencies: ["STNPipeline", "STNRuntime"]),
        .testTarget(name: "EndToEndTests", dependencies: ["stn-video", "stn-make-video", "stn-train"])
    ]
)
