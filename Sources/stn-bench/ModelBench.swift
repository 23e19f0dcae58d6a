import ArgumentParser
import Foundation
import STNCore

/// A model file's per-frame cost in the pipeline's localise stage, at batch 1: the localisation
/// net and regressor on its input (θ), and, for a model with a classifier, the glimpse of θ
/// sampled from the 3× canvas pyramid and classified (presence, label). The downscales that
/// make their inputs (libswscale) are not included.
struct ModelBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "A model file's localisation and glimpse-classifier cost per frame, ms.")

    @Argument(help: "Model file (.safetensors).")
    var model: String

    @Option(help: "Timed calls per run (5 runs; the best is reported).")
    var calls = 200

    func validate() throws {
        guard calls >= 1 else { throw ValidationError("--calls must be at least 1") }
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
    }

    /// The best of 5 runs of `calls` calls, ms per call (after 20 warm-up calls).
    private static func best(_ calls: Int, _ body: () -> Void) -> Double {
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
