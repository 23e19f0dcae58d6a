import ArgumentParser
import Foundation
import STNCore

/// A model file's per-frame cost in the pipeline's localise stage: the localisation net and
/// regressor on its input (θ) at batch 1 and at each `--batches` size (ms per call and per
/// frame, and each layer's forward time, for the benchmark tables), and, for a model with a
/// classifier, the glimpse of θ sampled from the 3× canvas pyramid and classified (presence,
/// label) at batch 1. The downscales that make their inputs (libswscale) are not included.
struct ModelBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "A model file's localisation and glimpse-classifier cost per frame, ms.")

    @Argument(help: "Model file (.safetensors).")
    var model: String

    @Option(help: "Timed calls per run (5 runs; the best is reported).")
    var calls = 200

    @Option(help: "Batch sizes to time the localisation net at, comma-separated (per layer and in all).")
    var batches = "1,8"

    @Flag(help: "Leave out the per-layer table.")
    var noLayers = false

    private var batchSizes: [Int] { batches.split(separator: ",").compactMap { Int($0) } }

    func validate() throws {
        guard calls >= 1 else { throw ValidationError("--calls must be at least 1") }
        guard !batchSizes.isEmpty, batchSizes.allSatisfy({ (1...64).contains($0) }),
            batchSizes.count == batches.split(separator: ",").count
        else { throw ValidationError("--batches must list sizes from 1 to 64, e.g. 1,8") }
    }

    func run() throws {
        let url = URL(fileURLWithPath: model)
        let stn = try STNModel.load(contentsOf: url)
        let side = stn.inputHeight
        let predictor = stn.makePredictor(maxBatch: 1)
        var pixels = [UInt8](repeating: 0, count: side * side * stn.inputChannels)
        for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 7) }
        var theta = [Float](repeating: 0, count: stn.parameterCount)
        let localise = Self.best(calls) { predictor.predict(pixels: pixels, batch: 1, theta: &theta) }
        print(String(format: "%@: localisation %dx%d: %.3f ms per frame", model, side, side, localise))
        try timeBatches(stn)
        guard stn.config.classifier != nil, stn.transformKind == .attention else { return }
        let net = try TwoResolutionSTCNN(model: stn)
        var sides = [3 * side]
        while sides.last! % 2 == 0, sides.last! / 2 >= stn.glimpseHeight + 16 { sides.append(sides.last! / 2) }
        let images = sides.map { s in (0..<(s * s)).map { Float(($0 &* 2_654_435_761 >> 9) & 255) / 255 } }
        let window: [Float] = [0.3, 0.1, -0.2]
        let classify = Self.best(calls) {
            images[0].withUnsafeBufferPointer { i0 in
                images[1].withUnsafeBufferPointer { i1 in
                    let levels = [
                        TwoResolutionSTCNN.SamplingLevel(images: i0.baseAddress!, side: sides[0]),
                        TwoResolutionSTCNN.SamplingLevel(images: i1.baseAddress!, side: sides[1])
                    ]
                    window.withUnsafeBufferPointer { t in
                        let v = net.sampleGlimpses(theta: t.baseAddress!, levels: levels, batch: 1)
                        _ = net.classifier.forward(v, batch: 1, training: false)
                    }
                }
            }
        }
        print(
            String(
                format: "%@: glimpse %dx%d classified: %.3f ms per frame", model, stn.glimpseHeight, stn.glimpseWidth,
                classify))
        // `stn-video --search 1` on a 640×360 frame with a window of half-side 0.2, searched
        // (as a frame whose θ glimpse is not confident is): the grid, then the refinement rounds.
        let search = WindowSearch(step: 1, confident: .infinity)
        var windows = 0
        let searched = Self.best(max(calls / 20, 5)) {
            images[0].withUnsafeBufferPointer { i0 in
                images[1].withUnsafeBufferPointer { i1 in
                    let levels = [
                        TwoResolutionSTCNN.SamplingLevel(images: i0.baseAddress!, side: sides[0]),
                        TwoResolutionSTCNN.SamplingLevel(images: i1.baseAddress!, side: sides[1])
                    ]
                    windows = 1
                    _ = search.run(
                        theta: (0.2, 0.1, -0.1), atTheta: Float(0), width: 640, height: 360, score: { $0 },
                        classify: { candidates in
                            let count = candidates.count / 3
                            windows += count
                            return net.classify(
                                windows: candidates, levels: levels, batch: count,
                                images: Array(repeating: 0, count: count)
                            ).map(\.confidence)
                        })
                }
            }
        }
        print(
            String(
                format: "%@: --search 1 at 640x360, s 0.2 (%d windows): %.3f ms per frame", model, windows, searched))
        guard !noLayers else { return }
        let classifierLayers = net.classifier.layers.enumerated().map { ("cls.\($0)", $1) }
        for batch in batchSizes {
            print("glimpse classifier batch \(batch):")
            Self.printLayers(LayerTimings(layers: classifierLayers, batch: batch, calls: max(calls / batch, 10)))
        }
    }

    /// The localisation net at each batch size: the whole predict call (ms per call, amortised
    /// ms per frame) and, unless --no-layers, each layer's forward time.
    private func timeBatches(_ stn: STNModel) throws {
        let largest = batchSizes.max()!
        let predictor = stn.makePredictor(maxBatch: largest)
        let frame = stn.inputHeight * stn.inputWidth * stn.inputChannels
        var pixels = [UInt8](repeating: 0, count: largest * frame)
        for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 7) }
        var theta = [Float](repeating: 0, count: largest * stn.parameterCount)
        for batch in batchSizes {
            let call = Self.best(max(calls / batch, 10)) {
                predictor.predict(pixels: pixels, batch: batch, theta: &theta)
            }
            print(
                String(
                    format: "localisation batch %d: %.3f ms per call, %.3f ms per frame amortised", batch, call,
                    call / Double(batch)))
            guard !noLayers else { continue }
            Self.printLayers(LayerTimings(layers: predictor.layers, batch: batch, calls: max(calls / batch, 10)))
        }
    }

    /// One line per layer, and under each convolution one per kernel that computes it.
    static func printLayers(_ timings: LayerTimings) {
        for row in timings.rows {
            print(layerLine(row.name, row.shape, row.milliseconds, batch: timings.batch))
            guard row.kernels.count > 1 else { continue }
            for (kernel, milliseconds) in row.kernels {
                print(layerLine("", "  kernel \(kernel)", milliseconds, batch: timings.batch))
            }
        }
        print(layerLine("layers", "(sum)", timings.total, batch: timings.batch))
    }

    private static func layerLine(_ name: String, _ shape: String, _ milliseconds: Double, batch: Int) -> String {
        "  " + name.padding(toLength: 9, withPad: " ", startingAt: 0) + " "
            + shape.padding(toLength: 56, withPad: " ", startingAt: 0)
            + String(format: " %8.4f ms  %8.4f ms/frame", milliseconds, milliseconds / Double(batch))
    }

    /// The best of 5 runs of `calls` calls, ms per call (after 20 warm-up calls).
    static func best(_ calls: Int, _ body: () -> Void) -> Double {
        for _ in 0..<20 { body() }
        var best = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<calls { body() }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(calls))
        }
        return best
    }
}
