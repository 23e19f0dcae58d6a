import ArgumentParser
import Foundation
import STNCore

/// Training and inference throughput of STNCore:
///   - the localisation-net forward on one 64×64 input (the PyTorch tutorial's loc net, and the
///     video model's small, keypoint and keypoint-lite nets), ms per call;
///   - training throughput (images/s) of the PyTorch-tutorial ST-CNN on 60×60 inputs, batch
///     64, SGD with momentum: forward, cross-entropy, backward, update; at each `--threads`
///     count (the batch's two shards side by side or one after the other, STCNN+DataParallel).
/// Besides wall-clock images/s, images per CPU-second (process user + system time), which stays
/// comparable when other jobs share the machine. pipelines/bench-train.sh adds PyTorch's figures.
struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Localisation-net forward (ms) and ST-CNN training throughput (images/s) of STNCore.")

    @Option(help: "Timed training steps (after 3 warm-up steps).")
    var steps = 30

    @Option(help: "Thread counts to time training at, comma-separated (each 1 or 2).")
    var threads = "1,2"

    private var threadCounts: [Int] { threads.split(separator: ",").compactMap { Int($0) } }

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        guard !threadCounts.isEmpty, threadCounts.count == threads.split(separator: ",").count,
            threadCounts.allSatisfy({ (1...STCNN.shardCount).contains($0) })
        else { throw ValidationError("--threads must list counts from 1 to \(STCNN.shardCount), e.g. 1,2") }
    }

    func run() throws {
        for (name, config) in [
            ("tutorial", ModelConfig.tutorial(height: 64, width: 64, transform: .affine)),
            ("video-small", ModelConfig.videoAttention(localisationNet: .small)),
            ("video-keypoints", ModelConfig.videoAttention(localisationNet: .keypoints)),
            ("video-keypoints-lite", ModelConfig.videoAttention(localisationNet: .keypointsLite))
        ] {
            let predictor = try STCNN(config: config, seed: 1).makeModel().makePredictor(maxBatch: 1)
            var pixels = [UInt8](repeating: 0, count: 64 * 64)
            for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 7) }
            var theta = [Float](repeating: 0, count: predictor.parameterCount)
            for _ in 0..<50 { predictor.predict(luma: pixels, batch: 1, theta: &theta) }
            var best = Double.infinity, total = 0.0
            let cpuStart = Self.cpuSeconds()
            for _ in 0..<20 {
                let start = Self.now()
                for _ in 0..<100 { predictor.predict(luma: pixels, batch: 1, theta: &theta) }
                let each = (Self.now() - start) / 100
                best = min(best, each)
                total += each
            }
            print(
                "swift loc-net forward 64x64 (\(name)): "
                    + String(
                        format: "%.3f ms (best of 20×100), %.3f ms mean, %.3f ms CPU",
                        best * 1e3, total / 20 * 1e3, (Self.cpuSeconds() - cpuStart) / 2000 * 1e3))
        }

        for count in threadCounts { try timeTraining(threads: count) }
    }

    private func timeTraining(threads count: Int) throws {
        let batch = 64
        let net = try STCNN(config: .tutorial(height: 60, width: 60, transform: .affine), seed: 1)
        net.threads = count
        var random = RandomSource(seed: 2)
        let images = Tensor(shape: [batch, 1, 60, 60])
        for i in 0..<images.count { images[i] = random.uniform() }
        let labels = (0..<batch).map { _ in Int32(random.int(below: 10)) }
        let optimiser = SGD(learningRate: 0.01, momentum: 0.9)
        for _ in 0..<3 { net.trainStep(images: images.data, labels: labels, batch: batch, optimiser: optimiser) }
        let start = Self.now(), cpuStart = Self.cpuSeconds()
        for _ in 0..<steps { net.trainStep(images: images.data, labels: labels, batch: batch, optimiser: optimiser) }
        let seconds = Self.now() - start, cpuSeconds = Self.cpuSeconds() - cpuStart
        print(
            String(
                format:
                    "swift train (%d thread%@): %.1f images/s (%d steps of %d in %.2f s); %.1f images per CPU-second",
                count, count == 1 ? "" : "s", Double(steps * batch) / seconds, steps, batch, seconds,
                Double(steps * batch) / cpuSeconds))
    }

    static func now() -> Double { Date().timeIntervalSinceReferenceDate }

    /// User + system CPU time of the process, in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(
            usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
    }
}
