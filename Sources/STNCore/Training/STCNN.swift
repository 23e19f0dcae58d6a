import Foundation

/// The training-side API: an ST-CNN (input normalisation → spatial transformer →
/// classifier CNN) trained end to end with class labels only, as in the paper.
///
/// ```swift
/// let net = try STCNN(config: .tutorial(height: 60, width: 60, transform: .affine), seed: 1)
/// let optimiser = SGD(learningRate: 0.01, momentum: 0.9, groupScale: [.localisation: 0.1])
/// let schedule = LearningRateSchedule.cosine(totalSteps: steps, minimum: 0)
/// for step in 0..<steps {
///     optimiser.learningRate = schedule.learningRate(base: 0.01, step: step)
///     let result = net.trainStep(images: x, labels: y, batch: 64, optimiser: optimiser)  // loss, correct
/// }
/// let (loss, accuracy) = net.evaluate(images: testX, labels: testY, count: n, batchSize: 256)
/// try net.save(to: url)     // a model file STNModel.load reads (θ from `loc`/`fc_loc`)
/// ```
/// Images are `[N, C, H, W]` floats in [0, 1] (the model's normalisation is applied inside);
/// labels are class indices. Not thread-safe.
public final class STCNN {
    public let config: ModelConfig
    public let normalise: Normalise
    public let transformer: SpatialTransformer
    public let classifier: Sequential
    public let classCount: Int
    private let loss: SoftmaxCrossEntropy
    public let namedParameters: [(name: String, parameter: Parameter)]
    public let parameters: [Parameter]
    /// Threads a training step runs on, 1 or 2 (STCNN+DataParallel.swift); the result does not depend on it.
    public var threads = 1 {
        didSet { precondition((1...Self.shardCount).contains(threads), "threads must be 1…\(Self.shardCount)") }
    }
    /// The network that computes the second shard of a batch, made at the first step that needs it.
    var replica: STCNN?

    /// A fresh network (PyTorch-default initialisation, regressor at the identity).
    public init(config: ModelConfig, seed: UInt64 = 0, initialisation: Initialisation = .pytorchDefault) throws {
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

    /// Continues from a model file that holds a classifier.
    public convenience init(contentsOf url: URL) throws {
        let (config, tensors) = try STCNNParts.readClassifierModel(contentsOf: url)
        try self.init(config: config)
        ModelFile.assign(tensors, to: namedParameters)
    }

    public func zeroGradients() { for parameter in parameters { parameter.zeroGradient() } }

    /// Class scores `[N, classes]`, valid until the next call.
    public func logits(images: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafePointer<Float> {
        let x = normalise.forward(images, batch: batch, training: training)
        let v = transformer.forward(x, batch: batch, training: training)
        return classifier.forward(v, batch: batch, training: training)
    }

    /// θ of the last `logits`/`trainStep` call, `[N, parameterCount]`.
    public var lastTheta: UnsafePointer<Float>? { transformer.lastThetaPointer }

    /// One optimisation step on a batch: forward, mean cross-entropy, backward, `optimiser.step`.
    /// A batch of two or more is computed as two shards (`trainShards`), on `threads` threads.
    @discardableResult
    public func trainStep(
        images: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int, optimiser: any Optimiser
    ) -> (loss: Float, correct: Int) {
        let result: (loss: Float, correct: Int)
        if batch >= Self.shardCount {
            result = trainShards(images: images, labels: labels, batch: batch)
        } else {
            zeroGradients()
            let shard = accumulateGradients(images: images, labels: labels, batch: batch, meanOver: batch)
            result = (Float(shard.lossSum / Double(batch)), shard.correct)
        }
        optimiser.step(parameters)
        return result
    }

    /// Forward and backward on `batch` samples: adds to the gradients each sample's share of the
    /// mean loss over `meanOver` samples; returns the summed loss and the correct count.
    func accumulateGradients(
        images: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int, meanOver: Int
    ) -> (lossSum: Double, correct: Int) {
        let z = logits(images: images, batch: batch, training: true)
        let value = loss.forward(logits: z, labels: labels, batch: batch)
        let correct = SoftmaxCrossEntropy.correctCount(logits: z, labels: labels, batch: batch, classes: classCount)
        let dz = loss.backward(labels: labels, batch: batch, meanOver: meanOver)
        if let dv = classifier.backward(dz, batch: batch, inputGradient: true) {
            _ = transformer.backward(dv, batch: batch, inputGradient: false)
        }
        return (Double(value) * Double(batch), correct)
    }

    /// Mean loss and accuracy over `count` samples, in batches, dropout off.
    public func evaluate(images: UnsafePointer<Float>, labels: UnsafePointer<Int32>, count: Int, batchSize: Int = 256)
        -> (loss: Float, accuracy: Float)
    {
        var total: Double = 0, correct = 0, start = 0
        let sample = config.input.shape.reduce(1, *)
        while start < count {
            let batch = min(batchSize, count - start)
            let z = logits(images: images + start * sample, batch: batch, training: false)
            total += Double(loss.forward(logits: z, labels: labels + start, batch: batch)) * Double(batch)
            correct += SoftmaxCrossEntropy.correctCount(
                logits: z, labels: labels + start, batch: batch, classes: classCount)
            start += batch
        }
        return (Float(total / Double(max(count, 1))), Float(correct) / Float(max(count, 1)))
    }

    /// Writes a model file (metadata of `config`, every parameter).
    public func save(to url: URL) throws {
        try ModelFile.write(config: config, parameters: namedParameters, to: url)
    }

    /// The trained weights as an inference model (a copy).
    public func makeModel() -> STNModel {
        var tensors: [String: Tensor] = [:]
        for (name, parameter) in namedParameters {
            let copy = Tensor(shape: parameter.shape)
            copy.copy(from: parameter.value)
            tensors[name] = copy
        }
        return STNModel(config: config, tensors: tensors)
    }
}
