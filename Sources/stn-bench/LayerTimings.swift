import Foundation
import STNCore

/// Per-layer forward time of a net at one batch size (inference, `training: false`), and for
/// each convolution the time of every kernel that can compute it (the evidence for
/// `ConvolutionKernel.choice`).
///
/// One forward pass records every layer's input; each layer is then timed on its own, on that
/// input, the best of 5 runs. Each layer writes only its own buffer, so re-running one layer
/// leaves the recorded inputs of the others intact.
struct LayerTimings {
    struct Row {
        let name: String
        let shape: String
        let milliseconds: Double
        /// Convolutions: every kernel that computes the shape, with its time (the chosen one included).
        let kernels: [(kernel: ConvolutionKernel, milliseconds: Double)]
    }

    let batch: Int
    let rows: [Row]
    var total: Double { rows.reduce(0) { $0 + $1.milliseconds } }

    init(layers: [(name: String, layer: any Layer)], batch: Int, calls: Int) {
        self.batch = batch
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
            let time = { ModelBench.best(calls) { _ = named.layer.forward(layerInput, batch: batch, training: false) } }
            var kernels: [(kernel: ConvolutionKernel, milliseconds: Double)] = []
            if let conv = named.layer as? Conv2d {
                let chosen = conv.inferenceKernel
                for kernel in ConvolutionKernel.allCases
                where kernel.supports(
                    inputHeight: conv.inputHeight, inputWidth: conv.inputWidth, kernelSize: conv.kernelSize,
                    stride: conv.stride, padding: conv.padding)
                {
                    conv.inferenceKernel = kernel
                    kernels.append((kernel, time()))
                }
                conv.inferenceKernel = chosen
            }
            return Row(name: named.name, shape: Self.describe(named.layer), milliseconds: time(), kernels: kernels)
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
        default: kind = String(describing: type(of: layer)).lowercased()
        }
        return "\(kind) \(input) -> \(output)"
    }
}
