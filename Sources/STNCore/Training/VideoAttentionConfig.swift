extension ModelConfig {
    /// The bundled video model's architecture: an attention ST-CNN whose localisation network
    /// reads a `localisationSide`² luminance downscale of the square canvas and whose classifier
    /// reads a `glimpse`² crop sampled from a higher-resolution canvas (`TwoResolutionSTCNN`).
    ///
    /// loc = conv5(8)–pool2–ReLU–conv3(16)–pool2–ReLU–conv3(16)–pool2–ReLU (64 → 6×6×16),
    /// fc_loc = 64 hidden → (s, tx, ty); classifier = [conv3(c, pad 1)–pool2–ReLU] × 3 with
    /// c = 16, 32, 32, then linear(64)–ReLU–linear(classes). About 90 k parameters.
    public static func videoAttention(localisationSide: Int = 64, glimpse: Int = 32, classes: Int = 10,
                                      mean: Float = 0.2, std: Float = 0.25) -> ModelConfig {
        ModelConfig(
            input: InputSpec(height: localisationSide, width: localisationSide, channels: 1, mean: [mean], std: [std]),
            transformer: SpatialTransformerConfig(
                transform: .attention,
                localisation: [.conv2d(outChannels: 8, kernelSize: 5), .maxPool2d(kernelSize: 2, stride: 2), .relu,
                               .conv2d(outChannels: 16, kernelSize: 3), .maxPool2d(kernelSize: 2, stride: 2), .relu,
                               .conv2d(outChannels: 16, kernelSize: 3), .maxPool2d(kernelSize: 2, stride: 2), .relu],
                regressorHidden: [64], glimpseHeight: glimpse, glimpseWidth: glimpse),
            classifier: [.conv2d(outChannels: 16, kernelSize: 3, padding: 1), .maxPool2d(kernelSize: 2, stride: 2), .relu,
                         .conv2d(outChannels: 32, kernelSize: 3, padding: 1), .maxPool2d(kernelSize: 2, stride: 2), .relu,
                         .conv2d(outChannels: 32, kernelSize: 3, padding: 1), .maxPool2d(kernelSize: 2, stride: 2), .relu,
                         .flatten, .linear(outFeatures: 64), .relu, .linear(outFeatures: classes)])
    }
}
