import ArgumentParser
import CommandSupport
import Foundation
import STNRuntime
import STNCore
import STNData

/// Which network `classify` trains.
enum ModelKind: String, ExpressibleByArgument, CaseIterable {
    case cnn, attention, affine, projective, tps

    var transform: TransformKind? { self == .cnn ? nil : TransformKind(rawValue: rawValue) }
    /// Row names of the paper's Table 1.
    var title: String {
        switch self {
        case .cnn: "CNN"
        case .attention: "ST-CNN Att"
        case .affine: "ST-CNN Aff"
        case .projective: "ST-CNN Proj"
        case .tps: "ST-CNN TPS"
        }
    }
}

extension Distortion: ExpressibleByArgument {}

enum OptimiserKind: String, ExpressibleByArgument, CaseIterable { case sgd, adam }
enum ScheduleKind: String, ExpressibleByArgument, CaseIterable { case cosine, step, constant }

struct ClassifyCommand: CancellableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Train a CNN or an ST-CNN on one distortion, then test it on t10k under the same distortion.",
        discussion: """
            Distortions (parameters in STNData/Distortion.swift): none, R (rotation ±90°), RTS (rotation ±45°, \
            scale 0.7–1.2, placed in 42×42), P (projective), E (elastic TPS), TC (translated in 60×60 with clutter).
            The training set is re-distorted every epoch (seed, epoch, index); the test set is distorted once \
            with --test-seed, so every model of one distortion is tested on the same images.

            Writes into --output: model.safetensors (STCNN model file, or a CNN baseline file), \
            results.json and results.md (one Markdown table row), and checkpoint.safetensors + \
            checkpoint.json every --checkpoint-every steps (resume with --resume).

            Examples:
              stn-train classify --model affine --distortion RTS --steps 6000 \\
                  --output runs/aff-rts
              stn-train classify --model cnn --distortion R --time-budget 10 --threads 1 \\
                  --output runs/cnn-r
              stn-train classify --model tps --distortion E --output runs/tps-e --resume
              stn-train classify --model affine --data ~/mnist --distortion TC --epochs 5 \\
                  --output runs/mnist-tc
            """)

    @Option(help: "Network: \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: ModelKind = .affine

    @Option(help: "Distortion: \(Distortion.allCases.map(\.rawValue).joined(separator: ", ")).")
    var distortion: Distortion = .rotation

    @Option(help: "Directory of {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz].")
    var data: String = FashionMNIST.defaultDirectory.path

    @Option(help: "Output directory (created).")
    var output: String

    @Option(help: "Also write the results JSON here (e.g. samples/results/R-affine.json).")
    var results: String?

    @Option(help: "Seed for initialisation, batch order and training distortions.")
    var seed: UInt64 = 1

    @Option(help: "Seed of the test set's distortions (keep it fixed to compare models).")
    var testSeed: UInt64 = 2015

    @Option(help: "Training steps (batches). Default: --epochs worth.")
    var steps: Int?

    @Option(help: "Epochs over the training set, when --steps is not given.")
    var epochs: Int = 10

    @Option(help: "Stop training after this many minutes (then test); the schedule still assumes --steps.")
    var timeBudget: Double?

    @Option(help: "Batch size.")
    var batchSize: Int = 64

    @Option(help: "Optimiser: sgd (momentum) or adam.")
    var optimiser: OptimiserKind = .sgd

    @Option(help: "Base learning rate.")
    var learningRate: Float = 0.01

    @Option(help: "SGD momentum.")
    var momentum: Float = 0.9

    @Option(help: "L2 weight decay.")
    var weightDecay: Float = 0

    @Option(help: "Learning-rate factor of the localisation network (the paper trains it slower).")
    var localisationScale: Float = 0.1

    @Option(help: "Schedule: cosine (to 0 over --steps), step (×0.1 after each third of the steps), constant.")
    var schedule: ScheduleKind = .cosine

    @Option(help: "Use only the first N training images.")
    var trainLimit: Int?

    @Option(help: "Use only the first N test images.")
    var testLimit: Int?

    @Option(help: "Write a checkpoint every N steps.")
    var checkpointEvery: Int = 500

    @Option(help: "A progress line every N steps when standard error is not a terminal.")
    var logEvery: Int = 200

    @Option(
        help: """
            CPUs to use (the process is pinned to them) and ST-CNN training threads (default: every CPU; \
            at most 2 train). The trained weights do not depend on it.
            """)
    var threads: Int?

    /// Threads an ST-CNN's training step runs on: `--threads`, else the CPUs, at most the shard count.
    var trainingThreads: Int {
        min(threads ?? ProcessInfo.processInfo.activeProcessorCount, STCNN.shardCount)
    }

    @Flag(help: "Continue from the checkpoint in --output (with a larger --steps: train on to it).")
    var resume = false

    @Flag(help: "Start over even when --output already holds a trained model.")
    var force = false

    @Flag(help: "No progress output.")
    var quiet = false

    func validate() throws {
        guard batchSize >= 1, batchSize <= 4096 else { throw ValidationError("--batch-size must be in 1…4096") }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        if let timeBudget, !(timeBudget > 0) {
            throw ValidationError("--time-budget must be a positive number of minutes")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if resume && force { throw ValidationError("--resume continues a run and --force starts over: give one") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate must be positive") }
        guard checkpointEvery >= 1, logEvery >= 1 else {
            throw ValidationError("--checkpoint-every and --log-every must be at least 1")
        }
        if let trainLimit, trainLimit < 1 { throw ValidationError("--train-limit must be at least 1") }
        if let testLimit, testLimit < 1 { throw ValidationError("--test-limit must be at least 1") }
        for (name, value) in [
            ("--momentum", momentum), ("--weight-decay", weightDecay), ("--localisation-scale", localisationScale)
        ] {
            guard value >= 0, value.isFinite else { throw ValidationError("\(name) must be a finite number ≥ 0") }
        }
    }

    func run(cancellation: CancellationToken) throws {
        if let results {
            try OutputGuard.refuse(results, overwriting: OutputGuard.datasetFiles(in: data), what: "data file")
            try OutputGuard.checkWritable(results)
        }
        let trained = URL(fileURLWithPath: output).appendingPathComponent("model.safetensors").path
        if !resume && !force && FileManager.default.fileExists(atPath: trained) {
            throw ToolError(trained, "exists; --resume continues that run, --force starts over and replaces it")
        }
        if let threads { ThreadLimit.apply(threads) }
        let trainer = try Trainer(options: self)
        try trainer.run(cancellation: cancellation)
    }
}
