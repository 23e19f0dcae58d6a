/// The localisation networks the bundled video model can be trained with.
public enum VideoLocalisationNet: String, CaseIterable, Sendable {
    /// conv5(8)–pool2–ReLU–conv3(16)–pool2–ReLU–conv3(16)–pool2–ReLU (64 → 6×6×16), fc_loc
    /// 576→64→3: the position is learnt by the fully connected layer, cell by cell.
    case small
    /// conv5(16, pad 2)–pool2–ReLU–conv3(32, pad 1)–pool2–ReLU–conv3(32, pad 1)–ReLU–
    /// conv3(32, pad 1)–spatial soft-argmax (64 → 16×16×32 → 32 keypoints), fc_loc 64→64→3:
    /// a translation-equivariant position, sub-cell precise, that fc_loc only combines.
    case keypoints
    /// The keypoint net at ~40 % of its multiply-adds (4.3 M against 11 M) and about half its
    /// time: strided convolutions instead of conv + pool, a 1×1 last layer —
    /// conv5(16, stride 2, pad 2)–ReLU–conv3(32, stride 2, pad 1)–ReLU–conv3(32, pad 1)–ReLU–
    /// conv1(32)–spatial soft-argmax (64 → 16×16×32). (A narrower variant, 8/16 channels in the
    /// first two layers, lost 7 more points of centre-in-box.)
    case keypointsLite = "keypoints-lite"
    /// The keypoint net with one more conv3(32, pad 1)–ReLU at 16×16 (13.4 M multiply-adds,
    /// receptive field 36 px of 64 instead of 28): a trial for items among clutter of their size.
    case keypointsDeep = "keypoints-deep"
    /// The keypoint net with 48 channels in its two 16×16 layers (15.2 M multiply-adds, 48
    /// keypoints): the same trial by width.
    case keypointsWide = "keypoints-wide"
    /// The keypoint net with one pooling stage instead of two, so that its keypoint maps are
    /// 32×32 (25.2 M multiply-adds, receptive field 18 px of 64): a trial of map resolution, as
    /// a 96×96 input (24×24 maps) raised the box-supervised ceiling where depth and width did not.
    /// The maps did not: told the boxes, it centres 93.0 % / 92.4 % held-out, as the others do.
    case keypointsFine = "keypoints-fine"
    /// The keypoint net followed by one more pooling stage and three conv3(32, pad 1) layers, so
    /// that each keypoint map (12×12 at a 96×96 input) sees 80 px of the canvas instead of 28:
    /// enough to take in a large item and the ground around it, where a crop of another item in
    /// clutter is cut off at its edges. The first layers are the keypoint net's, index for index,
    /// so its weights carry over (`--initialise-from`).
    case keypointsContext = "keypoints-context"

    public var layers: [LayerSpec] {
        switch self {
        case .small:
            [
                .conv2d(outChannels: 8, kernelSize: 5), .maxPool2d(kernelSize: 2, stride: 2), .relu,
                .conv2d(outChannels: 16, kernelSize: 3), .maxPool2d(kernelSize: 2, stride: 2), .relu,
                .conv2d(outChannels: 16, kernelSize: 3), .maxPool2d(kernelSize: 2, stride: 2), .relu
            ]
        case .keypoints:
            [
                .conv2d(outChannels: 16, kernelSize: 5, padding: 2), .maxPool2d(kernelSize: 2, stride: 2), .relu,
                .conv2d(outChannels: 32, kernelSize: 3, padding: 1), .maxPool2d(kernelSize: 2, stride: 2), .relu,
                .conv2d(outChannels: 32, kernelSize: 3, padding: 1), .relu,
                .conv2d(outChannels: 32, kernelSize: 3, padding: 1), .spatialSoftArgmax
            ]
        case .keypointsLite:
            [
                .conv2d(outChannels: 16, kernelSize: 5, stride: 2, padding: 2), .relu,
                .conv2d(outChannels: 32, kernelSize: 3, stride: 2, padding: 1), .relu,
                .conv2d(outChannels: 32, kernelSize: 3, padding: 1), .relu,
                .conv2d(outChannels: 32, kernelSize: 1), .spatialSoftArgmax
            ]
        case .keypointsDeep:
            [
                .conv2d(outChannels: 16, kernelSize: 5, padding: 2), .maxPool2d(kernelSize: 2, stride: 2), .relu,
                .conv2d(outChannels: 32, kernelSize: 3, padding: 1), .maxPool2d(kernelSize: 2, stride: 2), .relu,
                .conv2d(outChannels: 32, kernelSize: 3, padding: 1), .relu,
                .conv2d(outChannels: 32, kernelSize: 3, padding: 1), .relu,
                .conv2d(outChannels: 32, kernelSize: 3, padding: 1), .spatialSoftArgmax
            ]
        case .keypointsWide:
            [
                .conv2d(outChannels: 16, kernelSize: 5, padding: 2), .maxPool2d(kernelSize: 2, stride: 2), .relu,
                .conv2d(outChannels: 32, kernelSize: 3, padding: 1), .maxPool2d(kernelSize: 2, stride: 2), .relu,
                .conv2d(outChannels: 48, kernelSize: 3, padding: 1), .relu,
                .conv2d(outChannels: 48, kernelSize: 3, padding: 1), .spatialSoftArgmax
            ]
        case .keypointsFine:
            [
                .conv2d(outChannels: 16, kernelSize: 5, padding: 2), .maxPool2d(kernelSize: 2, stride: 2), .relu,
                .conv2d(outChannels: 32, kernelSize: 3, padding: 1), .relu,
                .conv2d(outChannels: 32, kernelSize: 3, padding: 1), .relu,
                .conv2d(outChannels: 32, kernelSize: 3, padding: 1), .spatialSoftArgmax
            ]
        case .keypointsContext:
            Array(Self.keypoints.layers.dropLast()) + [
                .relu, .maxPool2d(kernelSize: 2, stride: 2),
                .conv2d(outChannels: 32, kernelSize: 3, padding: 1), .relu,
                .conv2d(outChannels: 32, kernelSize: 3, padding: 1), .relu,
                .conv2d(outChannels: 32, kernelSize: 3, padding: 1), .spatialSoftArgmax
            ]
        }
    }
}

/// The glimpse classifiers of the video model. The pipeline never runs them; they drive the
/// labels-only training of θ and measure the glimpse accuracy.
public enum VideoClassifierNet: String, CaseIterable, Sendable {
    /// [conv3(c, pad 1)–pool2–ReLU] × 3 with c = 16, 32, 32, linear(64)–ReLU–linear(classes).
    case small
    /// The same with c = 32, 64, 64 and linear(128): about 4× the compute, for the accuracy.
    case wide
    /// `small` reading the glimpse normalised to mean 0, variance 1 (instance_norm2d, variance
    /// floor 0.01): an item's class without its brightness, for dim items on grey grounds.
    case smallNormalised = "small-normalised"

    public func layers(classes: Int) -> [LayerSpec] {
        let (c, hidden) = self == .wide ? ([32, 64, 64], 128) : ([16, 32, 32], 64)
        let normalise: [LayerSpec] = self == .smallNormalised ? [.instanceNorm2d(eps: 0.01)] : []
        return normalise
            + c.flatMap {
                [
                    LayerSpec.conv2d(outChannels: $0, kernelSize: 3, padding: 1), .maxPool2d(kernelSize: 2, stride: 2),
                    .relu
                ]
            }
            + [.flatten, .linear(outFeatures: hidden), .relu, .linear(outFeatures: classes)]
    }

    /// The preset whose layers `specs` are, if any.
    public init?(layers specs: [LayerSpec], classes: Int) {
        guard let match = Self.allCases.first(where: { $0.layers(classes: classes) == specs }) else { return nil }
        self = match
    }
}

extension ModelConfig {
    /// The bundled video model's architecture: an attention ST-CNN whose localisation network
    /// (`VideoLocalisationNet`) reads a `localisationSide`² luminance downscale of the square
    /// canvas and whose classifier reads a `glimpse`² crop sampled from a higher-resolution
    /// canvas (`TwoResolutionSTCNN`).
    ///
    /// fc_loc = 64 hidden → (s, tx, ty); the classifier reads the glimpse (`VideoClassifierNet`).
    public static func videoAttention(
        localisationSide: Int = 64, glimpse: Int = 32, classes: Int = 10,
        localisationNet: VideoLocalisationNet = .small, classifierNet: VideoClassifierNet = .small,
        classNames: [String]? = nil, mean: Float = 0.2, std: Float = 0.25, localContrast: LocalContrast? = nil
    ) -> ModelConfig {
        ModelConfig(
            input: InputSpec(
                height: localisationSide, width: localisationSide, channels: 1, mean: [mean], std: [std],
                localContrast: localContrast),
            transformer: SpatialTransformerConfig(
                transform: .attention, localisation: localisationNet.layers,
                regressorHidden: [64], glimpseHeight: glimpse, glimpseWidth: glimpse),
            classifier: classifierNet.layers(classes: classes), classNames: classNames)
    }
}
