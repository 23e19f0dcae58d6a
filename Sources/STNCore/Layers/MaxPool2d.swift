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
    /// An inference pass keeps no argmax; a backward after one recomputes it from this input.
    private var argmaxPending: (input: UnsafePointer<Float>, batch: Int)?

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
        argmaxPending = nil
        if k == 2 && s == 2 && !training {
            forwardTwoByTwoValues(input, planes: planes, output: out)
            argmaxPending = (input, batch)
            return UnsafePointer(out)
        }
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

    /// The common 2×2, stride-2 window, eight outputs at a time: a 16-float load of each of
    /// the two input rows splits into the four window corners (`evenHalf`/`oddHalf`), and
    /// the comparisons become lane masks. Same rule as the general path and PyTorch:
    /// a corner replaces the running maximum when `v > best || isnan(v)`, in row-major order.
    private func forwardTwoByTwo(
        _ input: UnsafePointer<Float>, planes: Int, output: UnsafeMutablePointer<Float>,
        argmax: UnsafeMutablePointer<Int32>
    ) {
        let w = inputWidth, oh = outputHeight, ow = outputWidth, inPlane = inputHeight * inputWidth, outPlane = oh * ow
        let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
        for plane in 0..<planes {
            let x = input + plane * inPlane, y = output + plane * outPlane, a = argmax + plane * outPlane
            let raw = UnsafeRawPointer(x)
            for oy in 0..<oh {
                let top = 2 * oy * w, bottom = top + w
                var ox = 0
                while ox + 8 <= ow {
                    let upper = raw.loadUnaligned(fromByteOffset: (top + 2 * ox) * 4, as: SIMD16<Float>.self)
                    let lower = raw.loadUnaligned(fromByteOffset: (bottom + 2 * ox) * 4, as: SIMD16<Float>.self)
                    let base = lanes &+ Int32(truncatingIfNeeded: top + 2 * ox)
                    var best = upper.evenHalf, index = base
                    var corner = upper.oddHalf
                    var take = (corner .> best) .| (corner .!= corner)
                    best.replace(with: corner, where: take); index.replace(with: base &+ 1, where: take)
                    corner = lower.evenHalf
                    take = (corner .> best) .| (corner .!= corner)
                    best.replace(with: corner, where: take); index.replace(with: base &+ Int32(w), where: take)
                    corner = lower.oddHalf
                    take = (corner .> best) .| (corner .!= corner)
                    best.replace(with: corner, where: take); index.replace(with: base &+ Int32(w + 1), where: take)
                    UnsafeMutableRawPointer(y + oy * ow + ox).storeBytes(of: best, as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(a + oy * ow + ox).storeBytes(of: index, as: SIMD8<Int32>.self)
                    ox += 8
                }
                while ox < ow {
                    let i0 = top + 2 * ox
                    var best = x[i0], index = i0
                    for corner in 1...3 {
                        let i = corner == 1 ? i0 + 1 : bottom + 2 * ox + (corner - 2)
                        if x[i] > best || x[i].isNaN { best = x[i]; index = i }
                    }
                    y[oy * ow + ox] = best
                    a[oy * ow + ox] = Int32(truncatingIfNeeded: index)
                    ox += 1
                }
            }
        }
    }

    /// The 2×2, stride-2 window without the argmax (inference), eight outputs at a time, by
    /// the same rule as `forwardTwoByTwo` so that the values are identical.
    private func forwardTwoByTwoValues(_ input: UnsafePointer<Float>, planes: Int, output: UnsafeMutablePointer<Float>)
    {
        let w = inputWidth, oh = outputHeight, ow = outputWidth, inPlane = inputHeight * inputWidth, outPlane = oh * ow
        @inline(__always) func merge(_ best: inout SIMD8<Float>, _ corner: SIMD8<Float>) {
            best.replace(with: corner, where: (corner .> best) .| (corner .!= corner))
        }
        for plane in 0..<planes {
            let x = input + plane * inPlane, y = output + plane * outPlane
            let raw = UnsafeRawPointer(x)
            for oy in 0..<oh {
                let top = 2 * oy * w, bottom = top + w
                guard ow >= 8 else {
                    for ox in 0..<ow {
                        var best = x[top + 2 * ox]
                        func merge(_ v: Float) { if v > best || v.isNaN { best = v } }
                        merge(x[top + 2 * ox + 1])
                        merge(x[bottom + 2 * ox])
                        merge(x[bottom + 2 * ox + 1])
                        y[oy * ow + ox] = best
                    }
                    continue
                }
                var ox = 0
                while ox < ow {
                    // The last group of a row overlaps the one before when Wout is not a multiple of 8.
                    let start = min(ox, ow - 8)
                    let upper = raw.loadUnaligned(fromByteOffset: (top + 2 * start) * 4, as: SIMD16<Float>.self)
                    let lower = raw.loadUnaligned(fromByteOffset: (bottom + 2 * start) * 4, as: SIMD16<Float>.self)
                    var best = upper.evenHalf
                    merge(&best, upper.oddHalf)
                    merge(&best, lower.evenHalf)
                    merge(&best, lower.oddHalf)
                    UnsafeMutableRawPointer(y + oy * ow + start).storeBytes(of: best, as: SIMD8<Float>.self)
                    ox += 8
                }
            }
        }
    }

    // dy: [N, C, Hout, Wout] -> dx: [N, C, H, W], each dy routed to its window's argmax
    public func backward(_ gradOutput: UnsafePointer<Float>, batch: Int, inputGradient: Bool) -> UnsafePointer<Float>? {
        guard inputGradient else { return nil }
        if let pending = argmaxPending {
            _ = forward(pending.input, batch: pending.batch, training: true)
        }
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
