// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "stn-video",
    products: [
        .executable(name: "stn-video", targets: ["stn-video"]),
        .executable(name: "stn-train", targets: ["stn-train"]),
        .executable(name: "stn-make-video", targets: ["stn-make-video"]),
        .library(name: "STNCore", targets: ["STNCore"]),
        .library(name: "STNPipeline", targets: ["STNPipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
    ],
    targets: [
        // MARK: C shims (only STNMedia imports CFFmpeg; only STNCore imports COpenBLAS)
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat libavcodec libavutil libswscale libswresample",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev", "libswresample-dev"])]
        ),
        /// Loads OpenBLAS (libopenblas-dev's cblas.h, libopenblas.so.0) single-threaded at start-up.
        .target(name: "COpenBLAS", linkerSettings: [.linkedLibrary("dl")]),

        // MARK: Libraries
        /// Pure-Swift STN: tensors, layers, grid generators, differentiable sampler, optimisers, model files.
        .target(name: "STNCore", dependencies: ["COpenBLAS", "FrameSampling"]),
        /// Data sets: IDX files (Fashion-MNIST, MNIST), the paper's distortions, synthetic video scenes.
        .target(name: "STNData", dependencies: ["STNCore"]),
        /// 8-bit planar YUV sampler for video frames (DESIGN.md §2) and the padding rule both samplers share; no FFmpeg, no STN.
        .target(name: "FrameSampling"),
        /// FFmpeg wrappers: demux, decode, scale, encode, mux. The only importer of CFFmpeg.
        .target(name: "STNMedia", dependencies: ["CFFmpeg"]),
        /// The default model's bytes, compiled in (scripts/embed-model.sh).
        .target(name: "CBundledModel"),
        /// The staged rectification pipeline, parameter log, temporal smoothing.
        .target(
            name: "STNPipeline",
            dependencies: [
                "STNMedia", "FrameSampling", "STNCore", "CBundledModel",
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),

        // MARK: Executables
        .executableTarget(
            name: "stn-video",
            dependencies: ["STNPipeline", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "stn-train",
            dependencies: ["STNCore", "STNData", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "stn-make-video",
            dependencies: ["STNData", "STNMedia", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // MARK: Tests
        .testTarget(name: "STNCoreTests", dependencies: ["STNCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "STNDataTests", dependencies: ["STNData"]),
        .testTarget(name: "FrameSamplingTests", dependencies: ["FrameSampling"]),
        .testTarget(name: "STNMediaTests", dependencies: ["STNMedia"]),
        .testTarget(name: "STNPipelineTests", dependencies: ["STNPipeline"]),
        .testTarget(name: "EndToEndTests", dependencies: ["stn-video", "stn-make-video", "stn-train"]),
    ]
)
