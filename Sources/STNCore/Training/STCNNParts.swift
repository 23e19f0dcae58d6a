import Foundation

/// What `STCNN` and `TwoResolutionSTCNN` are built of: input normalisation, the spatial
/// transformer (localisation net, regressor, sampler), the classifier and its loss, with the
/// parameters named as the model file names them.
struct STCNNParts {
    let normalise: Normalise
    let transformer: SpatialTransformer
    let classifier: Sequential
    let classCount: Int
    let loss: SoftmaxCrossEntropy
    let namedParameters: [(name: String, parameter: Parameter)]

    /// Fresh layers (regressor at the identity), initialised from `seed`.
    init(config: ModelConfig, seed: UInt64, initialisation: Initialisation) throws {
        _ = try config.expectedTensors()
        guard let classes = config.classCount, let classifierSpecs = config.classifier else {
            throw ArchitectureError("an ST-CNN needs a classifier")
        }
        var random = RandomSource(seed: seed)
        normalise = Normalise(
            inputShape: config.input.shape, mean: config.input.mean, std: config.input.std,
            localContrast: config.input.localContrast)
        transformer = SpatialTransformer(
            config: config.transformer, inputShape: config.input.shape, initialisation: initialisation, random: &random)
        classifier = classifierSpecs.makeSequential(
            input: transformer.outputShape, group: .classifier, initialisation: initialisation, random: &random)
        classCount = classes
        loss = SoftmaxCrossEntropy(classes: classes)
        namedParameters = transformer.namedParameters(prefix: "") + classifier.namedParameters(prefix: "classifier")
    }

    /// A model file's config and tensors; the file must hold a classifier.
    static func readClassifierModel(contentsOf url: URL) throws -> (config: ModelConfig, tensors: [String: Tensor]) {
        let file = try ModelFile.read(contentsOf: url)
        guard file.config.classifier != nil else {
            throw ModelFileError(
                path: url.path, key: "__metadata__.classifier", kind: .badMetadata,
                "missing: the file holds no classifier")
        }
        return file
    }
}
