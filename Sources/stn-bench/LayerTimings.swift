import Foundation
import STNCore

/// Per-layer forward time of a predictor's nets at one batch size (inference, `training: false`).
///
/// One forward pass records every layer's input; each layer is then timed on its own, on that
/// input, the best of 5 runs. Each layer writes only its own buffer, so re-running one layer
/// leaves the recorded inputs of the others intact.
struct LayerTimings {
    struct Row {
        let name: String
        let shape: String
        let milliseconds: Double
    }

    let batch: Int
    let rows: [Row]
    var total: Double { rows.reduce(0) { $0 + $1.milliseconds } }

    init(predictor: ThetaPredictor, batch: Int, calls: Int) {
        self.batch = batch
        let layers = predictor.layers
        let count = batch * (layers.first?.layer.inputCount ?? 0)
        let input = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { input.deallocate() }
        for i in 0..<count { input[i] = Float((i &* 2_654_435_761 >> 7) & 255) / 255 * 4 - 0.8 }
        var inputs: [UnsafePointer<Float>] = []
        var x = UnsafePointer(input)
        for (_, layer) in layers {
            inputs.append(x)
            x = layer.forward(x, batch: batch, training: false)
        }
        rows = zip(layers, inputs).map { named, layerInput in
            let milliseconds = ModelBench.best(calls) {
                _ = named.layer.forward(layerInput, batch: batch, training: false)
            }
            return Row(name: named.name, shape: Self.describe(named.layer), milliseconds: milliseconds)
        }
    }

    static func describe(_ layer: any Layer) -> String {
        let input = layer.inputShape.map(String.init).joined(separator: "x")
        let output = layer.outputShape.map(String.init).joined(separator: "x")
        let kind: String
        switch layer {
        case let conv as Conv2d:
            kind =
                "conv\(conv.kernelSize)x\(conv.kernelSize) s\(conv.stride) p\(conv.padding) [\(conv.inferenceKernel)]"
        case let pool as MaxPool2d: kind = "maxpool\(pool.kernelSize)"
        case is ReLU: kind = "relu"
        case is Linear: kind = "linear"
        case is SpatialSoftArgmax: kind = "soft-argmax"
        default: kind = String(describing: type(of: layer))
        }
        return "\(kind) \(input) -> \(output)"
    }
}
