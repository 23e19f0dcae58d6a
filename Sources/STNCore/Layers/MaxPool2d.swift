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
        if k == 2 && s == 2 {
            forwardTwoByTwo(input, planes: planes, output: out, argmax: arg)
            return UnsafePointer(out)
        }
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

    /// The common 2×2, stride-2 window without the general loop's bookkeeping. Same
    /// tie-breaking (first in row-major order wins) and NaN propagation as the general path.
    private func forwardTwoByTwo(_ input: UnsafePointer<Float>, planes: Int, output: UnsafeMutablePointer<Float>,
                                 argmax: UnsafeMutablePointer<Int32>) {
        let w = inputWidth, oh = outputHeight, ow = outputWidth, inPlane = inputHeight * inputWidth, outPlane = oh * ow
        for plane in 0..<planes {
            let x = input + plane * inPlane, y = output + plane * outPlane, a = argmax + plane * outPlane
            for oy in 0..<oh {
                let top = 2 * oy * w, bottom = top + w
                for ox in 0..<ow {
                    let i0 = top + 2 * ox, i1 = i0 + 1, i2 = bottom + 2 * ox, i3 = i2 + 1
                    var best = x[i0], index = i0
                    // `!(v <= best)` is `v > best || v.isNaN`; once best is NaN nothing replaces it.
                    if !best.isNaN {
                        if !(x[i1] <= best) { best = x[i1]; index = i1 }
                        if !best.isNaN, !(x[i2] <= best) { best = x[i2]; index = i2 }
                        if !best.isNaN, !(x[i3] <= best) { best = x[i3]; index = i3 }
                    }
                    y[oy * ow + ox] = best
                    a[oy * ow + ox] = Int32(truncatingIfNeeded: index)
                }
            }
        }
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
