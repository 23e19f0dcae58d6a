import COpenBLAS

/// y = x·Wᵀ + b (`nn.Linear`), W `[out, in]`. Any input shape is read as `[in]` flattened.
public final class Linear: Layer {
    public let inputFeatures, outputFeatures: Int
    public let inputShape: [Int]
    public var outputShape: [Int] { [outputFeatures] }
    public let weight: Parameter  // [out, in]
    public let bias: Parameter  // [out]

    private let output = FloatBuffer()
    private let gradInput = FloatBuffer()
    private var lastInput: UnsafePointer<Float>?

    public init(
        inputShape: [Int], outputFeatures: Int, group: ParameterGroup,
        initialisation: Initialisation = .pytorchDefault, random: inout RandomSource
    ) {
        self.inputShape = inputShape
        inputFeatures = inputShape.reduce(1, *)
        self.outputFeatures = outputFeatures
        weight = Parameter(shape: [outputFeatures, inputFeatures], group: group)
        bias = Parameter(shape: [outputFeatures], group: group)
        initialisation.initialise(weight: weight.value, bias: bias.value, fanIn: inputFeatures, random: &random)
    }

    public func namedParameters(prefix: String) -> [(name: String, parameter: Parameter)] {
        [(joinName(prefix, "weight"), weight), (joinName(prefix, "bias"), bias)]
    }

    // x: [N, in] -> y: [N, out]
    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafePointer<Float> {
        lastInput = input
        let y = output.reserve(batch * outputFeatures)
        for n in 0..<batch { (y + n * outputFeatures).update(from: bias.value.data, count: outputFeatures) }
        // y[N, out] += x[N, in] × Wᵀ[in, out]
        stn_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batch), Int32(outputFeatures), Int32(inputFeatures),
            1, input, Int32(inputFeatures), weight.value.data, Int32(inputFeatures), 1, y, Int32(outputFeatures))
        return UnsafePointer(y)
    }

    // dy: [N, out] -> dx: [N, in] = dy × W; dW += dyᵀ × x; db += Σₙ dy
    public func backward(_ gradOutput: UnsafePointer<Float>, batch: Int, inputGradient: Bool) -> UnsafePointer<Float>? {
        guard let x = lastInput else { preconditionFailure("Linear.backward before forward") }
        stn_sgemm(
            CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outputFeatures), Int32(inputFeatures), Int32(batch),
            1, gradOutput, Int32(outputFeatures), x, Int32(inputFeatures), 1, weight.gradient.data, Int32(inputFeatures)
        )
        let db = bias.gradient.data
        for n in 0..<batch {
            let row = gradOutput + n * outputFeatures
            for o in 0..<outputFeatures { db[o] += row[o] }
        }
        guard inputGradient else { return nil }
        let dx = gradInput.reserve(batch * inputFeatures)
        // β = 1 onto zeros (memset) rather than β = 0: OpenBLAS's β pass zeroes C a float at a time.
        dx.update(repeating: 0, count: batch * inputFeatures)
        stn_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(batch), Int32(inputFeatures), Int32(outputFeatures),
            1, gradOutput, Int32(outputFeatures), weight.value.data, Int32(inputFeatures), 1, dx, Int32(inputFeatures))
        return UnsafePointer(dx)
    }
}
