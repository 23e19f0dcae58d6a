import FrameSampling
import Foundation

/// A loaded, validated model with immutable weights — what the video pipeline uses.
///
/// ```swift
/// let model = try STNModel.load(contentsOf: url)      // errors: "<path>: <key>: <what is wrong>"
/// let predictor = model.makePredictor(maxBatch: 8)     // one per thread
/// predictor.predict(luma: pixels, batch: n, theta: out) // out: n × model.parameterCount
/// ```
public final class STNModel: Sendable {
    public let config: ModelConfig
    /// Weights by `state_dict` name; never mutated after loading.
    public let tensors: [String: Tensor]

    public init(config: ModelConfig, tensors: [String: Tensor]) {
        self.config = config
        self.tensors = tensors
    }

    public static func load(contentsOf url: URL) throws -> STNModel {
        let (config, tensors) = try ModelFile.read(contentsOf: url)
        return STNModel(config: config, tensors: tensors)
    }

    /// The same for a file already in memory; `path` names it in errors.
    public static func load(bytes: Data, path: String) throws -> STNModel {
        let (config, tensors) = try ModelFile.read(bytes: bytes, path: path)
        return STNModel(config: config, tensors: tensors)
    }

    public var transformKind: TransformKind { config.transformer.transform }
    public var inputHeight: Int { config.input.height }
    public var inputWidth: Int { config.input.width }
    public var inputChannels: Int { config.input.channels }
    /// Size of θ.
    public var parameterCount: Int { config.transformer.parameterCount }
    public var glimpseHeight: Int { config.transformer.glimpseHeight }
    public var glimpseWidth: Int { config.transformer.glimpseWidth }
    public var padding: PaddingMode { config.transformer.padding }
    public var identityParameters: [Float] {
        makeGridGenerator().identityParameters
    }
    /// The grid generator of this model's transform kind.
    public func makeGridGenerator() -> any GridGenerator {
        STNCore.makeGridGenerator(kind: transformKind, tpsControlGridSize: config.transformer.tpsControlGridSize)
    }

    /// A predictor with its own buffers, warmed up for `maxBatch` so that no call up to
    /// that batch size allocates. Not thread-safe: make one per thread.
    public func makePredictor(maxBatch: Int) -> ThetaPredictor {
        ThetaPredictor(model: self, maxBatch: maxBatch)
    }
}

/// Runs the localisation network and regressor of an `STNModel`: pixels → θ.
public final class ThetaPredictor {
    public let model: STNModel
    private let transformer: SpatialTransformer
    private let input = FloatBuffer()
    private let features = FloatBuffer()  // [N, localisation output]
    /// The training path's input layer, for a model whose input is contrast-normalised.
    private let contrastInput: Normalise?
    /// Frames the localisation net runs on at a time. One: a frame's activations (0.6 MB after
    /// the first 96×96 layer) stay in L2 from layer to layer, where a batch's spill to L3 and
    /// memory; on the bundled model at batch 8, 1.03 ms a frame one at a time against 1.24 ms
    /// for the whole batch at once, 1.12 ms in pairs (AMD EPYC, stn-bench model). θ does not
    /// depend on it: every layer computes each frame on its own.
    static let localisationSubBatch = 1
    /// table[c·256 + u] = (u/255 − mean[c]) / std[c]
    private let normalisation: [Float]

    init(model: STNModel, maxBatch: Int) {
        self.model = model
        let config = model.config
        var random = RandomSource(seed: 0)
        transformer = SpatialTransformer(config: config.transformer, inputShape: config.input.shape, random: &random)
        ModelFile.assign(model.tensors, to: transformer.namedParameters(prefix: ""))
        var table: [Float] = []
        for c in 0..<config.input.channels {
            for u in 0..<256 { table.append((Float(u) / 255 - config.input.mean[c]) / config.input.std[c]) }
        }
        normalisation = table
        contrastInput = config.input.localContrast.map {
            Normalise(inputShape: config.input.shape, mean: config.input.mean, std: config.input.std, localContrast: $0)
        }
        // Warm-up: grow every buffer to maxBatch now (the localisation net's to one frame, the
        // features and regressor's to the batch), so that predict never allocates.
        let batch = max(maxBatch, 1)
        let zeros = input.reserve(batch * transformer.inputCount)
        var theta = [Float](repeating: 0, count: batch * transformer.parameterCount)
        predict(normalised: zeros, batch: batch, theta: &theta)
    }

    public var parameterCount: Int { transformer.parameterCount }

    /// The localisation net's layers then the regressor's, named as in the model file
    /// (`loc.0`, `fc_loc.2`): for per-layer timing (`stn-bench model`).
    public var layers: [(name: String, layer: any Layer)] {
        transformer.localisation.layers.enumerated().map { ("loc.\($0)", $1) }
            + transformer.regressor.layers.enumerated().map { ("fc_loc.\($0)", $1) }
    }

    /// luma: batch × inputHeight × inputWidth 8-bit samples (row-major, no padding);
    /// theta: batch × parameterCount (written). Applies the model's input normalisation
    /// itself. Allocates nothing after the first call (STNCore's buffers are sized for
    /// `maxBatch` when the predictor is made — a larger batch works but grows them once; OpenBLAS 0.3.21's `cblas_sgemm` itself does a
    /// malloc/free pair on some calls, measured with a uprobe on libc's malloc). Requires a
    /// one-channel model.
    public func predict(luma: UnsafePointer<UInt8>, batch: Int, theta: UnsafeMutablePointer<Float>) {
        precondition(model.inputChannels == 1, "predict(luma:) needs a one-channel model; use predict(pixels:)")
        predict(pixels: luma, batch: batch, theta: theta)
    }

    /// pixels: batch × channels × inputHeight × inputWidth 8-bit samples (planar).
    public func predict(pixels: UnsafePointer<UInt8>, batch: Int, theta: UnsafeMutablePointer<Float>) {
        let plane = model.inputHeight * model.inputWidth, channels = model.inputChannels
        let x = input.reserve(batch * channels * plane)
        if let contrastInput {  // x holds the samples in [0, 1]; the layer normalises them into its own buffer
            for i in 0..<(batch * channels * plane) { x[i] = Float(pixels[i]) * (1 / 255) }
            predict(normalised: contrastInput.forward(x, batch: batch, training: false), batch: batch, theta: theta)
            return
        }
        normalisation.withUnsafeBufferPointer { table in
            for n in 0..<batch {
                for c in 0..<channels {
                    let offset = (n * channels + c) * plane, lookup = table.baseAddress! + c * 256
                    for i in offset..<(offset + plane) { x[i] = lookup[Int(pixels[i])] }
                }
            }
        }
        predict(normalised: x, batch: batch, theta: theta)
    }

    /// input: batch × channels × inputHeight × inputWidth, already normalised. The
    /// localisation net runs frame by frame (`localisationSubBatch`), the regressor on the batch.
    public func predict(normalised input: UnsafePointer<Float>, batch: Int, theta: UnsafeMutablePointer<Float>) {
        precondition(batch >= 1)
        let step = Self.localisationSubBatch
        guard batch > step else {
            let result = transformer.predictTheta(input, batch: batch)
            theta.update(from: result, count: batch * transformer.parameterCount)
            return
        }
        let localisation = transformer.localisation, width = localisation.outputCount
        let all = features.reserve(batch * width)
        var start = 0
        while start < batch {
            let count = min(step, batch - start)
            let part = localisation.forward(input + start * localisation.inputCount, batch: count, training: false)
            (all + start * width).update(from: part, count: count * width)
            start += count
        }
        let result = transformer.regressor.forward(all, batch: batch, training: false)
        theta.update(from: result, count: batch * transformer.parameterCount)
    }
}
