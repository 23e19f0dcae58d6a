/// Max pooling (`nn.MaxPool2d(kernel_size, stride)`, no padding, floor mode). The argmax of
/// every window is kept for the backward pass; ties go to the first element in row-major
/// order, NaN propagates, as in PyTorch.
public final class MaxPool2d: Layer {
    public let channels, kernelSize, stride: Int
    public let inputHeight, inputWidth, outputHeight, outputWidth: Int
    public var inputShape: [Int] { [channels, inputHeight, inputWidth] }
    public var outputShape: [Int] { [channels, outputHeight, outputWidth] }

    private let output = FloatBuffer()
    private let argmax = IndexBuffer()  // index within the input plane
    private let gradInput = FloatBuffer()

    public init(inputShape: [Int], kernelSize: Int, stride: Int? = nil) {
        precondition(inputShape.count == 3 && kernelSize > 0)
        channels = inputShape[0]; inputHeight = inputShape[1]; inputWidth = inputShape[2]
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        precondition(self.stride > 0 && inputHeight >= kernelSize && inputWidth >= kernelSize)
        outputHeight = (inputHeight - kernelSize) / self.stride + 1
        outputWidth = (inputWidth - kernelSize) / self.stride + 1
    }

    // x: [N, C, H, W] -> y: [N, C, Hout, Wout]
    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafePointer<Float> {
        let planes = batch * channels, inPlane = inputHeight * inputWidth, outPlane = outputHeight * outputWidth
        let out = output.reserve(planes * outPlane), arg = argmax.reserve(planes * outPlane)
        let k = kernelSize, s = stride, w = inputWidth
        for plane in 0..<planes {
            let x = input + plane * inPlane
            let y = out + plane * outPlane, a = arg + plane * outPlane
            for oy in 0..<outputHeight {
                for ox in 0..<outputWidth {
                    var bestIndex = oy * s * w + ox * s
                    var best = x[bestIndex]
                    if !best.isNaN {
                        scan: for ky in 0..<k {
                            let rowStart = (oy * s + ky) * w + ox * s
                            for kx in 0..<k {
                                let v = x[rowStart + kx]
                                if v > best || v.isNaN {
                                    best = v; bestIndex = rowStart + kx
                                    if v.isNaN { break scan }
                                }
                            }
                        }
                    }
                    y[oy * outputWidth + ox] = best
                    a[oy * outputWidth + ox] = Int32(bestIndex)
                }
            }
        }
        return UnsafePointer(out)
    }

    // dy: [N, C, Hout, Wout] -> dx: [N, C, H, W], each dy routed to its window's argmax
    public func backward(_ gradOutput: UnsafePointer<Float>, batch: Int, inputGradient: Bool) -> UnsafePointer<Float>? {
        guard inputGradient else { return nil }
        let planes = batch * channels, inPlane = inputHeight * inputWidth, outPlane = outputHeight * outputWidth
        let dx = gradInput.reserve(planes * inPlane)
        dx.update(repeating: 0, count: planes * inPlane)
        let arg = argmax.pointer
        for plane in 0..<planes {
            let d = dx + plane * inPlane, g = gradOutput + plane * outPlane, a = arg + plane * outPlane
            for i in 0..<outPlane { d[Int(a[i])] += g[i] }
        }
        return UnsafePointer(dx)
    }
}
