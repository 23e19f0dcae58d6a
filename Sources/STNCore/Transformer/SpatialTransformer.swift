/// The spatial transformer module (Jaderberg et al. 2015, Section 3): localisation network
/// → θ → grid generator → bilinear sampler, differentiable end to end (Section 3.3).
///
/// As a `Layer` it maps U `[C, H, W]` to V `[C, glimpseHeight, glimpseWidth]`, so several can
/// be chained (`Sequential`) or run side by side (`ParallelSpatialTransformers`), and a
/// classifier can follow. The localisation network sees the same U the sampler reads; when
/// an input gradient is asked for, ∂L/∂U sums the sampler's path and the localisation path.
public final class SpatialTransformer: Layer {
    public let config: SpatialTransformerConfig
    public let inputShape: [Int]
    public var outputShape: [Int] { [inputShape[0], config.glimpseHeight, config.glimpseWidth] }
    /// `loc`: the conv/pool/ReLU stack.
    public let localisation: Sequential
    /// `fc_loc`: Linear, ReLU, …, Linear regressing θ.
    public let regressor: Sequential
    public let generator: any GridGenerator

    private let grid = FloatBuffer()  // [N, Ho, Wo, 2]
    private let output = FloatBuffer()  // [N, C, Ho, Wo]
    private let gradGrid = FloatBuffer()  // [N, Ho, Wo, 2]
    private let gradTheta = FloatBuffer()  // [N, P]
    private let gradInput = FloatBuffer()  // [N, C, H, W]
    private var lastInput: UnsafePointer<Float>?
    private var lastTheta: UnsafePointer<Float>?

    /// A fresh transformer; `config` must have passed `infer(inputShape:)`. The regressor's
    /// last layer starts at the identity transform.
    public init(
        config: SpatialTransformerConfig, inputShape: [Int], initialisation: Initialisation = .pytorchDefault,
        random: inout RandomSource
    ) {
        self.config = config
        self.inputShape = inputShape
        generator = makeGridGenerator(kind: config.transform, tpsControlGridSize: config.tpsControlGridSize)
        localisation = config.localisation.makeSequential(
            input: inputShape, group: .localisation, initialisation: initialisation, random: &random)
        regressor = config.regressorLayers.makeSequential(
            input: [localisation.outputCount], group: .localisation,
            initialisation: initialisation, random: &random)
        let last = regressor.layers.last as! Linear
        last.weight.value.fill(0)
        last.bias.value.copy(from: Tensor(shape: [generator.parameterCount], values: generator.identityParameters))
    }

    public var parameterCount: Int { generator.parameterCount }

    public func namedParameters(prefix: String) -> [(name: String, parameter: Parameter)] {
        localisation.namedParameters(prefix: joinName(prefix, "loc"))
            + regressor.namedParameters(prefix: joinName(prefix, "fc_loc"))
    }

    /// θ for a batch: `[N, parameterCount]`, valid until the next call.
    public func predictTheta(_ input: UnsafePointer<Float>, batch: Int, training: Bool = false) -> UnsafePointer<Float>
    {
        regressor.forward(
            localisation.forward(input, batch: batch, training: training), batch: batch, training: training)
    }

    /// θ of the last forward pass.
    public var lastThetaPointer: UnsafePointer<Float>? { lastTheta }

    // U: [N, C, H, W] -> θ: [N, P] -> grid: [N, Ho, Wo, 2] -> V: [N, C, Ho, Wo]
    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafePointer<Float> {
        lastInput = input
        let theta = predictTheta(input, batch: batch, training: training)
        lastTheta = theta
        let (c, h, w) = (inputShape[0], inputShape[1], inputShape[2])
        let (oh, ow) = (config.glimpseHeight, config.glimpseWidth)
        let g = grid.reserve(batch * oh * ow * 2)
        generator.forward(theta: theta, batch: batch, height: oh, width: ow, grid: g)
        let v = output.reserve(batch * c * oh * ow)
        BilinearSampler.forward(
            input: input, batch: batch, channels: c, inputHeight: h, inputWidth: w, grid: g,
            outputHeight: oh, outputWidth: ow, padding: config.padding, output: v)
        return UnsafePointer(v)
    }

    // dV -> (sampler) dGrid, dU_sampler -> (generator) dθ -> (fc_loc, loc) dU_loc; dU = dU_sampler + dU_loc
    public func backward(_ gradOutput: UnsafePointer<Float>, batch: Int, inputGradient: Bool) -> UnsafePointer<Float>? {
        guard let input = lastInput, let theta = lastTheta else {
            preconditionFailure("SpatialTransformer.backward before forward")
        }
        let (c, h, w) = (inputShape[0], inputShape[1], inputShape[2])
        let (oh, ow) = (config.glimpseHeight, config.glimpseWidth)
        let gridCount = batch * oh * ow * 2, inputCount = batch * c * h * w
        let dGrid = gradGrid.reserve(gridCount)
        dGrid.update(repeating: 0, count: gridCount)
        var dU: UnsafeMutablePointer<Float>?
        if inputGradient {
            dU = gradInput.reserve(inputCount)
            dU!.update(repeating: 0, count: inputCount)
        }
        BilinearSampler.backward(
            input: input, batch: batch, channels: c, inputHeight: h, inputWidth: w, grid: grid.pointer,
            outputHeight: oh, outputWidth: ow, padding: config.padding, gradOutput: gradOutput,
            gradInput: dU, gradGrid: dGrid)
        let p = generator.parameterCount
        let dTheta = gradTheta.reserve(batch * p)
        dTheta.update(repeating: 0, count: batch * p)
        generator.backward(theta: theta, gradGrid: dGrid, batch: batch, height: oh, width: ow, gradTheta: dTheta)
        let dFeatures = regressor.backward(dTheta, batch: batch, inputGradient: true)!
        let dLoc = localisation.backward(dFeatures, batch: batch, inputGradient: inputGradient)
        guard let dU, let dLoc else { return nil }
        for i in 0..<inputCount { dU[i] += dLoc[i] }
        return UnsafePointer(dU)
    }
}

/// Several spatial transformers reading the same input side by side (the paper's parallel
/// STs, e.g. the 2×ST-CNN for fine-grained birds); outputs are concatenated along channels:
/// `[C, H, W]` → `[k·C, Ho, Wo]`. Parameters are named `<prefix>.<i>.loc…`.
public final class ParallelSpatialTransformers: Layer {
    public let transformers: [SpatialTransformer]
    public let inputShape: [Int]
    public let outputShape: [Int]
    private let output = FloatBuffer()
    private let gradSlice = FloatBuffer()
    private let gradInput = FloatBuffer()

    public init(_ transformers: [SpatialTransformer]) {
        precondition(
            !transformers.isEmpty && Set(transformers.map(\.outputShape)).count == 1
                && Set(transformers.map(\.inputShape)).count == 1,
            "parallel transformers need one input shape and one glimpse size")
        self.transformers = transformers
        inputShape = transformers[0].inputShape
        let single = transformers[0].outputShape
        outputShape = [single[0] * transformers.count, single[1], single[2]]
    }

    public func namedParameters(prefix: String) -> [(name: String, parameter: Parameter)] {
        transformers.enumerated().flatMap { $1.namedParameters(prefix: joinName(prefix, String($0))) }
    }

    // U: [N, C, H, W] -> [N, k·C, Ho, Wo]
    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafePointer<Float> {
        let single = transformers[0].outputCount, total = single * transformers.count
        let y = output.reserve(batch * total)
        for (index, transformer) in transformers.enumerated() {
            let v = transformer.forward(input, batch: batch, training: training)
            for n in 0..<batch { (y + n * total + index * single).update(from: v + n * single, count: single) }
        }
        return UnsafePointer(y)
    }

    public func backward(_ gradOutput: UnsafePointer<Float>, batch: Int, inputGradient: Bool) -> UnsafePointer<Float>? {
        let single = transformers[0].outputCount, total = single * transformers.count, count = batch * inputCount
        let slice = gradSlice.reserve(batch * single)
        var dU: UnsafeMutablePointer<Float>?
        if inputGradient {
            dU = gradInput.reserve(count)
            dU!.update(repeating: 0, count: count)
        }
        for (index, transformer) in transformers.enumerated() {
            for n in 0..<batch {
                (slice + n * single).update(from: gradOutput + n * total + index * single, count: single)
            }
            if let g = transformer.backward(slice, batch: batch, inputGradient: inputGradient), let dU {
                for i in 0..<count { dU[i] += g[i] }
            }
        }
        return dU.map { UnsafePointer($0) }
    }
}

/// Per-channel (x − mean)/std on `[C, H, W]` samples: the model's input normalisation.
public final class Normalise: Layer {
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public let mean: [Float]
    public let std: [Float]
    private let output = FloatBuffer()
    private let gradInput = FloatBuffer()

    /// Replaces (x − mean)/std on every plane when set (the input is data: no gradient through it).
    public let localContrast: LocalContrast?
    private let scratch = FloatBuffer()

    public init(inputShape: [Int], mean: [Float], std: [Float], localContrast: LocalContrast? = nil) {
        precondition(mean.count == inputShape[0] && std.count == inputShape[0])
        self.inputShape = inputShape; self.mean = mean; self.std = std; self.localContrast = localContrast
    }

    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafePointer<Float> {
        let plane = inputShape[1] * inputShape[2], channels = inputShape[0]
        let y = output.reserve(batch * inputCount)
        if let localContrast {
            let work = scratch.reserve(LocalContrast.scratchCount(height: inputShape[1], width: inputShape[2]))
            for p in 0..<(batch * channels) {
                localContrast.apply(
                    input + p * plane, height: inputShape[1], width: inputShape[2], into: y + p * plane, scratch: work,
                    mean: mean[p % channels], std: std[p % channels])
            }
            return UnsafePointer(y)
        }
        for n in 0..<batch {
            for c in 0..<channels {
                let offset = (n * channels + c) * plane, m = mean[c], scale = 1 / std[c]
                for i in offset..<(offset + plane) { y[i] = (input[i] - m) * scale }
            }
        }
        return UnsafePointer(y)
    }

    public func backward(_ gradOutput: UnsafePointer<Float>, batch: Int, inputGradient: Bool) -> UnsafePointer<Float>? {
        guard inputGradient else { return nil }
        precondition(localContrast == nil, "no input gradient through local contrast normalisation")
        let plane = inputShape[1] * inputShape[2], channels = inputShape[0]
        let dx = gradInput.reserve(batch * inputCount)
        for n in 0..<batch {
            for c in 0..<channels {
                let offset = (n * channels + c) * plane, scale = 1 / std[c]
                for i in offset..<(offset + plane) { dx[i] = gradOutput[i] * scale }
            }
        }
        return UnsafePointer(dx)
    }
}
