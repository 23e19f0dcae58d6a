import Foundation

/// What `stn-train` needs from a network it trains: `STCNN` and the plain `CNNClassifier`.
public protocol TrainableClassifier: AnyObject {
    var namedParameters: [(name: String, parameter: Parameter)] { get }
    var parameters: [Parameter] { get }
    @discardableResult
    func trainStep(images: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int, optimiser: any Optimiser)
        -> (loss: Float, correct: Int)
    func evaluate(images: UnsafePointer<Float>, labels: UnsafePointer<Int32>, count: Int, batchSize: Int) -> (
        loss: Float, accuracy: Float
    )
    func save(to url: URL) throws
}

extension STCNN: TrainableClassifier {}

/// The paper's CNN baseline: the ST-CNN's classifier alone, reading the (normalised) input
/// directly, with no spatial transformer in front (Jaderberg et al. 2015, §4.1).
///
/// Its file is safetensors with `__metadata__` `format` = `stn-video-cnn`, `format_version`,
/// `input` (as `localisation_input` of a model file) and `classifier`; tensors `classifier.*`.
/// `stn-video` does not run it (it predicts no θ).
public final class CNNClassifier: TrainableClassifier {
    public static let formatName = "stn-video-cnn"
    public let input: InputSpec
    public let layers: [LayerSpec]
    public let classCount: Int
    public let normalise: Normalise
    public let classifier: Sequential
    private let loss: SoftmaxCrossEntropy
    public let namedParameters: [(name: String, parameter: Parameter)]
    public let parameters: [Parameter]

    /// A fresh network; `layers` must end in the linear layer giving the class scores.
    public init(
        input: InputSpec, classifier layers: [LayerSpec], seed: UInt64 = 0,
        initialisation: Initialisation = .pytorchDefault
    ) throws {
        let head = try layers.infer(input: input.shape, prefix: "classifier")
        guard head.output.count == 1, case let .linear(classes)? = layers.last else {
            throw ArchitectureError("the classifier must end in a linear layer giving the class scores")
        }
        self.input = input; self.layers = layers; classCount = classes
        var random = RandomSource(seed: seed)
        normalise = Normalise(inputShape: input.shape, mean: input.mean, std: input.std)
        classifier = layers.makeSequential(
            input: input.shape, group: .classifier, initialisation: initialisation, random: &random)
        loss = SoftmaxCrossEntropy(classes: classes)
        namedParameters = classifier.namedParameters(prefix: "classifier")
        parameters = namedParameters.map(\.parameter)
    }

    /// The classifier and input of an ST-CNN configuration, without its transformer.
    public convenience init(baselineOf config: ModelConfig, seed: UInt64 = 0) throws {
        guard let layers = config.classifier else { throw ArchitectureError("the configuration has no classifier") }
        try self.init(input: config.input, classifier: layers, seed: seed)
    }

    /// Continues from a file written by `save(to:)`.
    public convenience init(contentsOf url: URL) throws {
        let (metadata, tensors) = try Safetensors.load(contentsOf: url)
        func fail(_ key: String, _ why: String) -> ModelFileError {
            ModelFileError(path: url.path, key: key, kind: .badMetadata, why)
        }
        guard metadata["format"] == Self.formatName else {
            throw fail("__metadata__.format", "expected \"\(Self.formatName)\" (a CNN baseline file)")
        }
        guard let inputText = metadata["input"],
            let inputObject = try? JSONSerialization.jsonObject(with: Data(inputText.utf8)) as? [String: Any],
            let height = inputObject["height"] as? Int, let width = inputObject["width"] as? Int,
            let channels = inputObject["channels"] as? Int,
            let mean = (inputObject["mean"] as? [NSNumber])?.map(\.floatValue),
            let std = (inputObject["std"] as? [NSNumber])?.map(\.floatValue)
        else { throw fail("__metadata__.input", "missing or malformed") }
        guard let text = metadata["classifier"],
            let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let list = object["layers"] as? [Any], list.count <= 64
        else { throw fail("__metadata__.classifier", "missing or malformed") }
        let layers = try list.map { try LayerSpec(jsonObject: $0) }
        try self.init(
            input: InputSpec(height: height, width: width, channels: channels, mean: mean, std: std), classifier: layers
        )
        for (name, parameter) in namedParameters {
            guard let tensor = tensors[name] else {
                throw ModelFileError(
                    path: url.path, key: name, kind: .missingKey, "missing tensor (shape \(parameter.shape))")
            }
            guard tensor.shape == parameter.shape else {
                throw ModelFileError(
                    path: url.path, key: name, kind: .shapeMismatch,
                    "shape \(tensor.shape) in the file, the architecture needs \(parameter.shape)")
            }
            parameter.value.copy(from: tensor)
        }
    }

    public var metadata: [String: String] {
        func json(_ object: Any) -> String {
            String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        return [
            "format": Self.formatName, "format_version": "1",
            "input": json(
                [
                    "height": input.height, "width": input.width, "channels": input.channels,
                    "mean": input.mean.map(Double.init), "std": input.std.map(Double.init)
                ] as [String: Any]),
            "classifier": json(["layers": layers.jsonObject])
        ]
    }

    public func zeroGradients() { for parameter in parameters { parameter.zeroGradient() } }

    /// Class scores `[N, classes]`, valid until the next call.
    public func logits(images: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafePointer<Float> {
        classifier.forward(
            normalise.forward(images, batch: batch, training: training), batch: batch, training: training)
    }

    @discardableResult
    public func trainStep(
        images: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int, optimiser: any Optimiser
    ) -> (loss: Float, correct: Int) {
        zeroGradients()
        let z = logits(images: images, batch: batch, training: true)
        let value = loss.forward(logits: z, labels: labels, batch: batch)
        let correct = SoftmaxCrossEntropy.correctCount(logits: z, labels: labels, batch: batch, classes: classCount)
        _ = classifier.backward(loss.backward(labels: labels, batch: batch), batch: batch, inputGradient: false)
        optimiser.step(parameters)
        return (value, correct)
    }

    public func evaluate(images: UnsafePointer<Float>, labels: UnsafePointer<Int32>, count: Int, batchSize: Int = 256)
        -> (loss: Float, accuracy: Float)
    {
        var total: Double = 0, correct = 0, start = 0
        let sample = input.shape.reduce(1, *)
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

    public func save(to url: URL) throws {
        try Safetensors.write(
            tensors: namedParameters.map { ($0.name, $0.parameter.value) }, metadata: metadata, to: url)
    }
}
