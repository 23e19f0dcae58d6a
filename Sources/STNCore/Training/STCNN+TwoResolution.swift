import Foundation

/// An attention ST-CNN whose localisation network and sampler read two different images of the
/// same canvas: the localisation net a small one (e.g. 64×64, the model's `input`), the sampler
/// a higher-resolution one, so that a small item is still resolved in the glimpse. This is what
/// the video pipeline does (θ from a downscale, crop from the full frame); a plain `STCNN`
/// samples its own input.
///
/// The sampling source is a pyramid of square images (e.g. 48, 96, 192): each batch item is
/// sampled from the smallest level with at least one source pixel per glimpse pixel across the
/// window (`side · s ≥ glimpse`), so a wide window reads a smoothed image (no aliasing, smooth
/// gradients) and a narrow one reads full detail. Gradients reach θ through the bilinear
/// sampler on the chosen level (Section 3.3), then the regressor and localisation net.
///
/// ```swift
/// let net = try TwoResolutionSTCNN(config: config, seed: 1)
/// let levels = [SamplingLevel(images: p48, side: 48), SamplingLevel(images: p96, side: 96)]
/// let result = net.trainStep(localisationInput: x64, levels: levels, labels: y, batch: n, optimiser: adam)
/// try net.save(to: url)   // STNModel.load reads it: input 64×64, the glimpse size, loc/fc_loc/classifier
/// ```
/// Images are floats in [0, 1]; the model's normalisation is applied inside, to the localisation
/// input and to the glimpse (so samples outside the canvas are black). Not thread-safe.
public final class TwoResolutionSTCNN {
    /// One level of the sampling pyramid: `[N, C, side, side]` floats in [0, 1].
    public struct SamplingLevel {
        public var images: UnsafePointer<Float>
        public var side: Int
        public init(images: UnsafePointer<Float>, side: Int) { self.images = images; self.side = side }
    }

    public let config: ModelConfig
    public let normalise: Normalise
    /// Its localisation net and regressor give θ; its own sampler is not used.
    public let transformer: SpatialTransformer
    public let classifier: Sequential
    public let classCount: Int
    public let namedParameters: [(name: String, parameter: Parameter)]
    public let parameters: [Parameter]
    /// θ's scale is kept in this range by a quadratic penalty on the excess (weight `scalePenalty`).
    public var scaleRange: ClosedRange<Float> = 0.04...1
    public var scalePenalty: Float = 1
    /// Translations beyond ±`translationLimit` are penalised the same way.
    public var translationLimit: Float = 1
    /// Weight of a prior `scalePrior · mean(max(s, scaleRange.lowerBound))` added to the loss: a
    /// pull toward smaller windows that the classification loss resists once a window starts to
    /// cut into the item, so the window settles on the smallest one that still classifies well.
    /// It uses no box, only θ. Below the range it pulls no more (a slope there would outweigh the
    /// range's quadratic penalty near the bound and drive s through 0 to mirrored windows).
    public var scalePrior: Float = 0
    /// Samples of this label send no gradient to θ: an item-free scene has no window to learn,
    /// only a class ("no item") for whatever window θ chose.
    public var thetaFrozenLabel: Int32?
    /// Threads a training step runs on, 1 or 2 (TwoResolutionSTCNN+DataParallel.swift); the
    /// result does not depend on it.
    public var threads = 1 {
        didSet { precondition((1...STCNN.shardCount).contains(threads), "threads must be 1…\(STCNN.shardCount)") }
    }
    /// The network that computes the second shard of a batch, made at the first step that needs it.
    var replica: TwoResolutionSTCNN?
    /// θ of both shards of the last sharded step, `[N, 3]`.
    let shardedTheta = FloatBuffer()

    private let loss: SoftmaxCrossEntropy
    private let grid = FloatBuffer()  // [N, G, G, 2]
    private let glimpse = FloatBuffer()  // [N, C, G, G]
    private let gradGlimpse = FloatBuffer()
    private let gradGrid = FloatBuffer()
    private let gradTheta = FloatBuffer()  // [N, 3]
    private var chosenLevels: [Int] = []
    private var lastLevels: [SamplingLevel] = []
    var theta: UnsafePointer<Float>?

    public init(config: ModelConfig, seed: UInt64 = 0, initialisation: Initialisation = .pytorchDefault) throws {
        guard config.transformer.transform == .attention else {
            throw ArchitectureError("the two-resolution ST-CNN is an attention model")
        }
        let parts = try STCNNParts(config: config, seed: seed, initialisation: initialisation)
        self.config = config
        normalise = parts.normalise
        transformer = parts.transformer
        classifier = parts.classifier
        classCount = parts.classCount
        loss = parts.loss
        namedParameters = parts.namedParameters
        parameters = namedParameters.map(\.parameter)
    }

    /// Continues from a model file that holds an attention classifier.
    public convenience init(contentsOf url: URL) throws {
        let (config, tensors) = try STCNNParts.readClassifierModel(contentsOf: url)
        try self.init(config: config)
        ModelFile.assign(tensors, to: namedParameters)
    }

    /// The same localisation network (weights copied) with a freshly initialised classifier of
    /// `layers`: for training a different glimpse classifier on a trained θ.
    public func replacingClassifier(with layers: [LayerSpec], seed: UInt64) throws -> TwoResolutionSTCNN {
        var changed = config
        changed.classifier = layers
        let net = try TwoResolutionSTCNN(config: changed, seed: seed)
        for (mine, theirs) in zip(transformer.namedParameters(prefix: ""), net.transformer.namedParameters(prefix: ""))
        {
            precondition(mine.name == theirs.name)
            theirs.parameter.value.copy(from: mine.parameter.value)
        }
        net.scaleRange = scaleRange; net.scalePenalty = scalePenalty; net.translationLimit = translationLimit
        return net
    }

    /// Copies the tensors of `url` into the parameters of the same name: whole where the shapes
    /// agree, the leading rows where only the first dimension differs (a classifier with one class
    /// more keeps the old classes' weights). Convolution weights carry over to another input
    /// size, and a keypoint localisation's regressor reads keypoints, not pixels, so a trained
    /// net starts a larger-input or more-class one. A localisation convolution the file lacks
    /// whose input and output channels agree starts as the identity (PyTorch's `nn.init.dirac_`, bias 0), so that
    /// layers added to a trained net pass its features on instead of noise. Returns the names
    /// copied whole, in part, set to the identity, or left fresh.
    public func initialise(from url: URL) throws -> (
        whole: [String], partial: [String], identity: [String], skipped: [String]
    ) {
        let tensors = try ModelFile.read(contentsOf: url).tensors
        var report: (whole: [String], partial: [String], identity: [String], skipped: [String]) = ([], [], [], [])
        for (name, parameter) in namedParameters {
            let mine = parameter.value
            guard let theirs = tensors[name], theirs.shape.count == mine.shape.count else {
                report.skipped.append(name); continue
            }
            if theirs.shape == mine.shape {
                mine.copy(from: theirs); report.whole.append(name)
            } else if theirs.shape.dropFirst() == mine.shape.dropFirst() {
                let rows = min(theirs.shape[0], mine.shape[0]), rowSize = mine.shape.dropFirst().reduce(1, *)
                mine.data.update(from: theirs.data, count: rows * rowSize); report.partial.append(name)
            } else {
                report.skipped.append(name)
            }
        }
        let skipped = Set(report.skipped), byName = Dictionary(uniqueKeysWithValues: namedParameters)
        for (name, weight) in namedParameters where skipped.contains(name) && name.hasPrefix("loc.") {
            let shape = weight.value.shape, biasName = name.replacingOccurrences(of: ".weight", with: ".bias")
            guard name.hasSuffix(".weight"), shape.count == 4, shape[0] == shape[1], shape[2] == shape[3],
                shape[2] % 2 == 1, skipped.contains(biasName), let bias = byName[biasName]
            else { continue }
            let (channels, k) = (shape[0], shape[2])
            weight.value.data.update(repeating: 0, count: weight.value.count)
            for c in 0..<channels { weight.value.data[((c * channels + c) * k + k / 2) * k + k / 2] = 1 }
            bias.value.data.update(repeating: 0, count: bias.value.count)
            report.identity += [name, biasName]
        }
        report.skipped.removeAll { report.identity.contains($0) }
        return report
    }

    public func zeroGradients() { for parameter in parameters { parameter.zeroGradient() } }

    private var channels: Int { config.input.channels }
    private var glimpseSide: (height: Int, width: Int) {
        (config.transformer.glimpseHeight, config.transformer.glimpseWidth)
    }

    /// θ `[N, 3]` from the localisation input `[N, C, H, W]` (valid until the next call).
    public func predictTheta(localisationInput: UnsafePointer<Float>, batch: Int, training: Bool = false)
        -> UnsafePointer<Float>
    {
        let x = normalise.forward(localisationInput, batch: batch, training: training)
        let t = transformer.predictTheta(x, batch: batch, training: training)
        theta = t
        return t
    }

    /// θ of the last forward pass, `[N, 3]`.
    public var lastTheta: UnsafePointer<Float>? { theta }

    /// The normalised glimpses `[N, C, G, G]` of θ read from the pyramid (valid until the next call).
    /// Glimpse n reads image `images[n]` of each level (default: image n), so that several windows
    /// of one frame can be classified in one batch.
    public func sampleGlimpses(
        theta: UnsafePointer<Float>, levels: [SamplingLevel], batch: Int, images: [Int]? = nil
    ) -> UnsafePointer<Float> {
        precondition(!levels.isEmpty)
        let sorted = levels.sorted { $0.side < $1.side }
        let (gh, gw) = glimpseSide, c = channels, plane = gh * gw
        let g = grid.reserve(batch * plane * 2)
        transformer.generator.forward(theta: theta, batch: batch, height: gh, width: gw, grid: g)
        let v = glimpse.reserve(batch * c * plane)
        chosenLevels = (0..<batch).map { n in
            let span = abs(theta[3 * n])
            return sorted.firstIndex { Float($0.side) * span >= Float(max(gh, gw)) } ?? (sorted.count - 1)
        }
        lastLevels = sorted
        for n in 0..<batch {
            let level = sorted[chosenLevels[n]], side = level.side
            BilinearSampler.forward(
                input: level.images + (images?[n] ?? n) * c * side * side, batch: 1, channels: c, inputHeight: side,
                inputWidth: side,
                grid: g + n * plane * 2, outputHeight: gh, outputWidth: gw, padding: config.transformer.padding,
                output: v + n * c * plane)
        }
        for n in 0..<batch {
            for channel in 0..<c {
                let m = config.input.mean[channel], scale = 1 / config.input.std[channel]
                let p = v + (n * c + channel) * plane
                for i in 0..<plane { p[i] = (p[i] - m) * scale }
            }
        }
        return UnsafePointer(v)
    }

    /// Class scores `[N, classes]` (valid until the next call); θ in `lastTheta`.
    public func logits(localisationInput: UnsafePointer<Float>, levels: [SamplingLevel], batch: Int, training: Bool)
        -> UnsafePointer<Float>
    {
        let t = predictTheta(localisationInput: localisationInput, batch: batch, training: training)
        let v = sampleGlimpses(theta: t, levels: levels, batch: batch)
        return classifier.forward(v, batch: batch, training: training)
    }

    /// One optimisation step: forward, mean cross-entropy (+ the θ range penalty), backward, `optimiser.step`.
    /// A batch of two or more is computed as two shards (`trainShards`), on `threads` threads.
    @discardableResult
    public func trainStep(
        localisationInput: UnsafePointer<Float>, levels: [SamplingLevel], labels: UnsafePointer<Int32>, batch: Int,
        optimiser: any Optimiser
    ) -> (loss: Float, correct: Int) {
        let result: (loss: Float, correct: Int)
        if batch >= STCNN.shardCount {
            result = trainShards(localisationInput: localisationInput, levels: levels, labels: labels, batch: batch)
        } else {
            zeroGradients()
            let shard = accumulateGradients(
                localisationInput: localisationInput, levels: levels, labels: labels, batch: batch, meanOver: batch)
            result = (Float(shard.lossSum / Double(batch)), shard.correct)
        }
        optimiser.step(parameters)
        return result
    }

    /// Forward and backward on `batch` samples: adds to the gradients each sample's share of the
    /// mean loss (and penalties) over `meanOver` samples; returns the summed cross-entropy and the
    /// correct count.
    func accumulateGradients(
        localisationInput: UnsafePointer<Float>, levels: [SamplingLevel], labels: UnsafePointer<Int32>, batch: Int,
        meanOver: Int
    ) -> (lossSum: Double, correct: Int) {
        let z = logits(localisationInput: localisationInput, levels: levels, batch: batch, training: true)
        let value = loss.forward(logits: z, labels: labels, batch: batch)
        let correct = SoftmaxCrossEntropy.correctCount(logits: z, labels: labels, batch: batch, classes: classCount)
        let dz = loss.backward(labels: labels, batch: batch, meanOver: meanOver)
        let dv = classifier.backward(dz, batch: batch, inputGradient: true)!
        if let frozen = thetaFrozenLabel {
            let size = channels * glimpseSide.height * glimpseSide.width
            let mutable = UnsafeMutablePointer(mutating: dv)
            for n in 0..<batch where labels[n] == frozen {
                mutable.advanced(by: n * size).update(repeating: 0, count: size)
            }
        }
        backwardThroughSampler(dv, batch: batch, meanOver: meanOver)
        return (Double(value) * Double(batch), correct)
    }

    /// One step on the classifier alone, from glimpses `[N, C, G, G]` in [0, 1] (e.g. item images):
    /// a warm start, so that the localisation network later has a classifier worth pointing at.
    @discardableResult
    public func trainClassifierStep(
        glimpses: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int,
        optimiser: any Optimiser
    ) -> (loss: Float, correct: Int) {
        zeroGradients()
        let (gh, gw) = glimpseSide, c = channels, plane = gh * gw
        let v = glimpse.reserve(batch * c * plane)
        for n in 0..<batch {
            for channel in 0..<c {
                let m = config.input.mean[channel], scale = 1 / config.input.std[channel],
                    offset = (n * c + channel) * plane
                for i in offset..<(offset + plane) { v[i] = (glimpses[i] - m) * scale }
            }
        }
        return classifierStep(UnsafePointer(v), labels: labels, batch: batch, optimiser: optimiser)
    }

    /// Forward, cross-entropy, backward and an optimiser step of the classifier's parameters alone,
    /// on normalised glimpses `[N, C, G, G]` (gradients zeroed by the caller).
    private func classifierStep(
        _ v: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int, optimiser: any Optimiser
    ) -> (loss: Float, correct: Int) {
        let z = classifier.forward(v, batch: batch, training: true)
        let value = loss.forward(logits: z, labels: labels, batch: batch)
        let correct = SoftmaxCrossEntropy.correctCount(logits: z, labels: labels, batch: batch, classes: classCount)
        _ = classifier.backward(loss.backward(labels: labels, batch: batch), batch: batch, inputGradient: false)
        optimiser.step(classifier.namedParameters(prefix: "").map(\.parameter))
        return (value, correct)
    }

    /// The most likely item class and the presence (1 − P(no item); 1 without that class) of the
    /// glimpses of `windows` `[N, 3]`; glimpse n reads image `images[n]` of the levels (default n).
    public func classify(
        windows: UnsafePointer<Float>, levels: [SamplingLevel], batch: Int, images: [Int]? = nil
    ) -> [(best: Int, presence: Float, confidence: Float)] {
        let v = sampleGlimpses(theta: windows, levels: levels, batch: batch, images: images)
        let z = classifier.forward(v, batch: batch, training: false)
        let classes = classCount, absent = config.noItemClass
        return (0..<batch).map { n in
            let row = z + n * classes
            var best = absent == 0 ? 1 : 0
            for c in 0..<classes where c != absent && row[c] > row[best] { best = c }
            let (top, sum) = Self.softmaxScale(row, classes: classes)
            let confidence = exp(row[best] - top) / sum
            guard let absent else { return (best, 1, confidence) }
            return (best, 1 - exp(row[absent] - top) / sum, confidence)
        }
    }

    /// The classifier's softmax `[N, classes]` on the glimpse of each window `[N, 3]`; glimpse n
    /// reads image `images[n]` of the levels (default n).
    public func probabilities(
        windows: UnsafePointer<Float>, levels: [SamplingLevel], batch: Int, images: [Int]? = nil
    ) -> [Float] {
        let v = sampleGlimpses(theta: windows, levels: levels, batch: batch, images: images)
        let z = classifier.forward(v, batch: batch, training: false)
        let classes = classCount
        var result = [Float](repeating: 0, count: batch * classes)
        for n in 0..<batch {
            let row = z + n * classes
            let (top, sum) = Self.softmaxScale(row, classes: classes)
            for c in 0..<classes { result[n * classes + c] = exp(row[c] - top) / sum }
        }
        return result
    }

    /// A logit row's largest value and Σ exp(z − top): softmax(z)[c] = exp(z[c] − top) / sum.
    private static func softmaxScale(_ row: UnsafePointer<Float>, classes: Int) -> (top: Float, sum: Float) {
        var top = row[0]
        for c in 1..<classes { top = max(top, row[c]) }
        var sum: Float = 0
        for c in 0..<classes { sum += exp(row[c] - top) }
        return (top, sum)
    }

    /// One step on the classifier alone, on the glimpses of the given windows `[N, 3]` (the
    /// localisation network untouched): for training on windows chosen outside the network.
    @discardableResult
    public func trainClassifierStep(
        windows: UnsafePointer<Float>, levels: [SamplingLevel], labels: UnsafePointer<Int32>, batch: Int,
        optimiser: any Optimiser
    ) -> (loss: Float, correct: Int) {
        zeroGradients()
        let v = sampleGlimpses(theta: windows, levels: levels, batch: batch)
        return classifierStep(v, labels: labels, batch: batch, optimiser: optimiser)
    }

    /// A diagnostic, not the paper's weak supervision: one step of the localisation network and
    /// regressor alone, regressing θ onto `targets` `[N, 3]` (mean over the batch of the squared
    /// error), to measure how well the architecture localises when it is told where the item is.
    /// Returns that loss; θ in `lastTheta`.
    @discardableResult
    public func trainLocalisationStep(
        localisationInput: UnsafePointer<Float>, targets: UnsafePointer<Float>, batch: Int,
        optimiser: any Optimiser
    ) -> Float {
        zeroGradients()
        let t = predictTheta(localisationInput: localisationInput, batch: batch, training: true)
        let dTheta = gradTheta.reserve(batch * 3)
        var loss: Float = 0
        for i in 0..<(batch * 3) {
            let difference = t[i] - targets[i]
            loss += difference * difference
            dTheta[i] = 2 * difference / Float(batch)
        }
        let dFeatures = transformer.regressor.backward(dTheta, batch: batch, inputGradient: true)!
        _ = transformer.localisation.backward(dFeatures, batch: batch, inputGradient: false)
        optimiser.step(parameters)
        return loss / Float(batch)
    }

    // dV (normalised glimpse) -> dV_raw = dV/std -> (sampler, chosen level) dGrid -> (generator) dθ (+ penalty)
    //   -> (fc_loc, loc); no gradient to the images.
    private func backwardThroughSampler(_ gradOutput: UnsafePointer<Float>, batch: Int, meanOver: Int) {
        guard let theta else { preconditionFailure("backward before forward") }
        let (gh, gw) = glimpseSide, c = channels, plane = gh * gw
        let dv = gradGlimpse.reserve(batch * c * plane)
        for n in 0..<batch {
            for channel in 0..<c {
                let scale = 1 / config.input.std[channel], offset = (n * c + channel) * plane
                for i in offset..<(offset + plane) { dv[i] = gradOutput[i] * scale }
            }
        }
        let dGrid = gradGrid.reserve(batch * plane * 2)
        dGrid.update(repeating: 0, count: batch * plane * 2)
        for n in 0..<batch {
            let level = lastLevels[chosenLevels[n]], side = level.side
            BilinearSampler.backward(
                input: level.images + n * c * side * side, batch: 1, channels: c, inputHeight: side, inputWidth: side,
                grid: grid.pointer + n * plane * 2, outputHeight: gh, outputWidth: gw,
                padding: config.transformer.padding, gradOutput: dv + n * c * plane,
                gradInput: nil, gradGrid: dGrid + n * plane * 2)
        }
        let dTheta = gradTheta.reserve(batch * 3)
        dTheta.update(repeating: 0, count: batch * 3)
        transformer.generator.backward(
            theta: theta, gradGrid: dGrid, batch: batch, height: gh, width: gw, gradTheta: dTheta)
        // Penalty (mean over the batch): w·(excess)² for s outside scaleRange and |t| beyond translationLimit;
        // plus the scale prior's constant slope.
        let weight = 2 * scalePenalty / Float(meanOver)
        for n in 0..<batch {
            let s = theta[3 * n]
            if s > scaleRange.lowerBound { dTheta[3 * n] += scalePrior / Float(meanOver) }
            if s > scaleRange.upperBound { dTheta[3 * n] += weight * (s - scaleRange.upperBound) }
            if s < scaleRange.lowerBound { dTheta[3 * n] += weight * (s - scaleRange.lowerBound) }
            for k in 1...2 {
                let t = theta[3 * n + k]
                if abs(t) > translationLimit {
                    dTheta[3 * n + k] += weight * (t - (t > 0 ? translationLimit : -translationLimit))
                }
            }
        }
        let dFeatures = transformer.regressor.backward(dTheta, batch: batch, inputGradient: true)!
        _ = transformer.localisation.backward(dFeatures, batch: batch, inputGradient: false)
    }

    /// Writes a model file (metadata of `config`, every parameter) that `STNModel.load` reads.
    public func save(to url: URL) throws {
        try ModelFile.write(config: config, parameters: namedParameters, to: url)
    }
}

extension TwoResolutionSTCNN {
    /// The ST-CNN of a loaded model that holds a classifier (weights copied).
    public convenience init(model: STNModel) throws {
        try self.init(config: model.config)
        ModelFile.assign(model.tensors, to: namedParameters)
    }
}
