#if canImport(Glibc)
    import Glibc
#endif
import CommandSupport
import Foundation
import STNCore
import STNData
import STNRuntime

/// One `classify` run: data, network, optimiser, the step loop with progress and
/// checkpoints, the test pass and the output files.
final class Trainer {
    let options: ClassifyCommand
    let directory: URL
    let train: DistortedDataset
    let test: DistortedDataset
    let network: any TrainableClassifier
    let optimiser: any Optimiser
    let schedule: LearningRateSchedule
    let totalSteps: Int
    let stepsPerEpoch: Int
    let input: InputSpec
    private var startStep = 0
    private var priorSeconds: Double = 0

    init(options: ClassifyCommand) throws(ToolError) {
        self.options = options
        let directory = URL(fileURLWithPath: options.output)
        self.directory = directory
        try naming(options.output) {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }

        let dataDirectory = URL(fileURLWithPath: options.data)
        var trainSet: IDXDataset, testSet: IDXDataset
        do {
            trainSet = try FashionMNIST.load(.train, from: dataDirectory)
            testSet = try FashionMNIST.load(.test, from: dataDirectory)
        } catch { throw ToolError(error.description) }
        if let limit = options.trainLimit { trainSet = trainSet.prefix(limit) }
        if let limit = options.testLimit { testSet = testSet.prefix(limit) }
        let files = FashionMNIST.files(.test, in: dataDirectory)
        guard testSet.height == trainSet.height, testSet.width == trainSet.width else {
            throw ToolError(
                files.images.path,
                "test images are \(testSet.height)×\(testSet.width), training images \(trainSet.height)×\(trainSet.width)"
            )
        }
        let side = options.distortion.canvasSide
        guard options.distortion == .none || (trainSet.height <= side && trainSet.width <= side) else {
            throw ToolError(
                FashionMNIST.files(.train, in: dataDirectory).images.path,
                "\(trainSet.height)×\(trainSet.width) images do not fit the \(side)×\(side) canvas of \(options.distortion.rawValue)"
            )
        }
        train = DistortedDataset(trainSet, distortion: options.distortion, seed: options.seed)
        test = DistortedDataset(testSet, distortion: options.distortion, seed: options.testSeed)

        stepsPerEpoch = (train.count + options.batchSize - 1) / options.batchSize
        totalSteps = options.steps ?? options.epochs * stepsPerEpoch
        switch options.schedule {
        case .cosine: schedule = .cosine(totalSteps: totalSteps, minimum: 0)
        case .step: schedule = .step(every: max(totalSteps / 3, 1), gamma: 0.1)
        case .constant: schedule = .constant
        }
        let scale: [ParameterGroup: Float] = [.localisation: options.localisationScale]
        switch options.optimiser {
        case .sgd:
            optimiser = SGD(
                learningRate: options.learningRate, momentum: options.momentum, weightDecay: options.weightDecay,
                groupScale: scale)
        case .adam:
            optimiser = Adam(learningRate: options.learningRate, weightDecay: options.weightDecay, groupScale: scale)
        }

        let checkpoint = Checkpoint(directory: directory)
        let state = options.resume ? try checkpoint.readState() : nil
        if options.resume && state == nil && !options.quiet {
            FileHandle.standardError.write(
                Data("stn-train: no checkpoint in \(options.output) to resume; starting at step 0\n".utf8))
        }
        if let state {
            // The step budget may differ: a larger --steps extends the run (checkpoints of older
            // builds name theirs in the signature; it is left out of the comparison).
            let stored = state.signature.replacing(#/steps=(epochs )?\d+ /#, with: "")
            guard stored == Self.signature(options) else {
                throw ToolError(
                    checkpoint.stateURL.path,
                    "the checkpoint was made with other settings (\(state.signature)); these are \(Self.signature(options))"
                )
            }
            network = try naming(checkpoint.weightsURL.path) { () throws -> any TrainableClassifier in
                options.model == .cnn
                    ? try CNNClassifier(contentsOf: checkpoint.weightsURL)
                    : try STCNN(contentsOf: checkpoint.weightsURL)
            }
            input = InputSpec(height: side, width: side, mean: [state.mean], std: [state.std])
            startStep = state.step
            priorSeconds = state.trainSeconds
        } else {
            let (mean, std) = Self.statistics(of: train)
            input = InputSpec(height: train.side, width: train.side, mean: [mean], std: [std])
            var config = ModelConfig.tutorial(
                height: train.side, width: train.side, classes: max(trainSet.classCount, testSet.classCount),
                transform: options.model.transform ?? .affine, mean: mean, std: std)
            config.input = input
            network = try naming(options.output) { () throws -> any TrainableClassifier in
                options.model == .cnn
                    ? try CNNClassifier(baselineOf: config, seed: options.seed)
                    : try STCNN(config: config, seed: options.seed)
            }
        }
        // Only the ST-CNN has a data-parallel step; the CNN baseline trains on one thread.
        (network as? STCNN)?.threads = options.trainingThreads
    }

    /// Settings a checkpoint must share with the run that resumes it (not the number of steps:
    /// resuming with a larger --steps extends the run).
    static func signature(_ options: ClassifyCommand) -> String {
        "model=\(options.model.rawValue) distortion=\(options.distortion.rawValue) seed=\(options.seed) "
            + "batch=\(options.batchSize) optimiser=\(options.optimiser.rawValue) lr=\(options.learningRate) schedule=\(options.schedule.rawValue)"
    }

    /// Mean and standard deviation of 2000 distorted training samples: the input normalisation.
    static func statistics(of set: DistortedDataset) -> (Float, Float) {
        let count = min(2000, set.count), size = set.sampleSize
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: size)
        defer { buffer.deallocate() }
        var sum = 0.0, squares = 0.0
        for index in 0..<count {
            set.render(index: index, pass: 0, into: buffer)
            for i in 0..<size { sum += Double(buffer[i]); squares += Double(buffer[i]) * Double(buffer[i]) }
        }
        let n = Double(count * size), mean = sum / n
        return (Float(mean), Float(max((squares / n - mean * mean).squareRoot(), 1e-3)))
    }

    /// A permutation of the training indices for `epoch`, from (seed, epoch).
    func order(epoch: Int) -> [Int] {
        var random = RandomSource(seed: options.seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(epoch) &+ 0x5EED)
        var indices = Array(0..<train.count)
        for i in stride(from: indices.count - 1, to: 0, by: -1) { indices.swapAt(i, random.int(below: i + 1)) }
        return indices
    }

    /// Trains, tests and writes the results; a stop asked through `cancellation` (SIGINT/SIGTERM
    /// while training) saves the checkpoint and ends with `ToolError.interrupted`.
    func run(cancellation: CancellationToken) throws {
        let progress = Progress(total: totalSteps, quiet: options.quiet, every: options.logEvery)
        let checkpoint = Checkpoint(directory: directory)
        let images = UnsafeMutablePointer<Float>.allocate(capacity: options.batchSize * train.sampleSize)
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: options.batchSize)
        defer { images.deallocate(); labels.deallocate() }
        if startStep > 0 {
            progress.note(
                "resuming at step \(startStep) of \(totalSteps) (\(Int(priorSeconds)) s trained; momentum restarts)")
        }

        let clock = ContinuousClock(), started = clock.now
        func elapsed() -> Double {
            let duration = (clock.now - started).components
            return priorSeconds + Double(duration.seconds) + Double(duration.attoseconds) / 1e18
        }
        let budget = options.timeBudget.map { $0 * 60 }
        var step = startStep, epoch = -1, permutation: [Int] = [], stoppedBy = "steps"
        var lastStepsSecond = (step, elapsed())
        cancellation.startHandlingSignals()
        defer { cancellation.stopHandlingSignals() }
        while step < totalSteps || cancellation.isCancelled {
            if let budget, elapsed() >= budget { stoppedBy = "time-budget"; break }
            if let signal = cancellation.signal {
                try checkpoint.write(
                    network,
                    state: .init(
                        step: step, trainSeconds: elapsed(), signature: Self.signature(options), mean: input.mean[0],
                        std: input.std[0]))
                progress.finish()
                throw ToolError.interrupted(
                    signal: signal,
                    "interrupted at step \(step) of \(totalSteps); the checkpoint in \(options.output) resumes it (--resume)"
                )
            }
            let stepEpoch = step / stepsPerEpoch
            if stepEpoch != epoch { epoch = stepEpoch; permutation = order(epoch: epoch) }
            let from = (step % stepsPerEpoch) * options.batchSize, to = min(from + options.batchSize, train.count)
            train.fill(indices: permutation[from..<to], pass: epoch, images: images, labels: labels)
            optimiser.learningRate = schedule.learningRate(base: options.learningRate, step: step)
            let (loss, correct) = network.trainStep(
                images: images, labels: labels, batch: to - from, optimiser: optimiser)
            guard loss.isFinite else {
                throw ToolError(
                    options.output, "training diverged at step \(step) (loss \(loss)); try a smaller --learning-rate")
            }
            step += 1
            let now = elapsed()
            let rate = Double((step - lastStepsSecond.0) * options.batchSize) / max(now - lastStepsSecond.1, 1e-9)
            if step % 50 == 0 { lastStepsSecond = (step, now) }
            progress.update(
                step: step, epoch: epoch, loss: loss, correct: correct, batch: to - from, imagesPerSecond: rate,
                seconds: now)
            if step % options.checkpointEvery == 0 || step == totalSteps {
                try checkpoint.write(
                    network,
                    state: .init(
                        step: step, trainSeconds: now, signature: Self.signature(options), mean: input.mean[0],
                        std: input.std[0]))
            }
        }
        cancellation.stopHandlingSignals()
        let trainSeconds = elapsed()
        if stoppedBy == "time-budget" {
            try checkpoint.write(
                network,
                state: .init(
                    step: step, trainSeconds: trainSeconds, signature: Self.signature(options), mean: input.mean[0],
                    std: input.std[0]))
        }
        progress.finish()
        progress.note(
            "trained \(step) steps in \(Int(trainSeconds)) s (stopped by \(stoppedBy)); testing on \(test.count) \(options.distortion.rawValue) images"
        )

        let evaluation = evaluate()
        let modelURL = directory.appendingPathComponent("model.safetensors")
        try naming(modelURL.path) { try network.save(to: modelURL) }
        let result = RunResult(
            model: options.model.rawValue, modelTitle: options.model.title, distortion: options.distortion.rawValue,
            canvas: train.side, seed: options.seed, testSeed: options.testSeed, plannedSteps: totalSteps, steps: step,
            epochs: Double(step) / Double(stepsPerEpoch), batchSize: options.batchSize,
            optimiser: options.optimiser.rawValue,
            learningRate: options.learningRate, localisationScale: options.localisationScale,
            schedule: options.schedule.rawValue,
            stoppedBy: stoppedBy, timeBudgetMinutes: options.timeBudget,
            trainSeconds: (trainSeconds * 10).rounded() / 10,
            trainImages: train.count, testImages: test.count, testLoss: evaluation.loss,
            testAccuracy: evaluation.accuracy,
            testErrorPercent: ((1 - Double(evaluation.accuracy)) * 10000).rounded() / 100,
            parameterCount: network.parameters.reduce(0) { $0 + $1.value.count },
            command: "stn-train " + CommandLine.arguments.dropFirst().joined(separator: " "),
            date: ISO8601DateFormatter().string(from: Date()))
        try result.write(to: directory.appendingPathComponent("results.json"))
        try naming(directory.appendingPathComponent("results.md").path) {
            try (RunResult.markdownHeader + result.markdownRow + "\n").write(
                to: directory.appendingPathComponent("results.md"), atomically: true, encoding: .utf8)
        }
        if let extra = options.results { try result.write(to: URL(fileURLWithPath: extra)) }
        print(
            String(
                format: "%@ on %@: test error %.2f%% (loss %.4f) after %d steps, %.0f s", options.model.title,
                options.distortion.rawValue,
                result.testErrorPercent, evaluation.loss, step, trainSeconds))
    }

    /// Test loss and accuracy over the whole (fixed) distorted test set, in batches of 250.
    func evaluate() -> (loss: Float, accuracy: Float) {
        let batch = 250, size = test.sampleSize
        let images = UnsafeMutablePointer<Float>.allocate(capacity: batch * size)
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: batch)
        defer { images.deallocate(); labels.deallocate() }
        var loss = 0.0, correct = 0.0, start = 0
        while start < test.count {
            let count = min(batch, test.count - start)
            test.fill(indices: start..<(start + count), pass: 0, images: images, labels: labels)
            let result = network.evaluate(images: images, labels: labels, count: count, batchSize: count)
            loss += Double(result.loss) * Double(count); correct += Double(result.accuracy) * Double(count)
            start += count
        }
        return (Float(loss / Double(test.count)), Float(correct / Double(test.count)))
    }
}
