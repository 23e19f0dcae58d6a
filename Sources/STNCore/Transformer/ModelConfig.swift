import FrameSampling
import Foundation

/// The network's input and its normalisation. An 8-bit sample u becomes
/// (u/255 − mean[c]) / std[c]; float training images in [0, 1] get the same (x − mean)/std.
public struct InputSpec: Equatable, Sendable {
    public var height: Int
    public var width: Int
    public var channels: Int
    public var mean: [Float]
    public var std: [Float]
    /// When set, the localisation net reads the locally contrast-normalised input instead of
    /// (x − mean)/std (mean and std still normalise the glimpses).
    public var localContrast: LocalContrast?

    public init(
        height: Int, width: Int, channels: Int = 1, mean: [Float]? = nil, std: [Float]? = nil,
        localContrast: LocalContrast? = nil
    ) {
        self.height = height; self.width = width; self.channels = channels; self.localContrast = localContrast
        self.mean = mean ?? Array(repeating: 0, count: channels)
        self.std = std ?? Array(repeating: 1, count: channels)
    }

    public var shape: [Int] { [channels, height, width] }
}

/// One spatial transformer: localisation network `loc` (conv/pool/ReLU/dropout stack),
/// implicit flatten, regressor `fc_loc` = Linear, ReLU, …, Linear(→ θ), then the grid
/// generator of `transform` and the bilinear sampler producing a `glimpseHeight × glimpseWidth`
/// output. PyTorch names: `loc.<i>.weight`, `fc_loc.<j>.bias`; the final `fc_loc` layer starts
/// at the identity transform (zero weight, bias = the generator's identity θ).
public struct SpatialTransformerConfig: Equatable, Sendable {
    public var transform: TransformKind
    public var tpsControlGridSize: Int
    public var localisation: [LayerSpec]
    public var regressorHidden: [Int]
    public var glimpseHeight: Int
    public var glimpseWidth: Int
    public var padding: PaddingMode

    public init(
        transform: TransformKind, tpsControlGridSize: Int = 4, localisation: [LayerSpec], regressorHidden: [Int],
        glimpseHeight: Int, glimpseWidth: Int, padding: PaddingMode = .black
    ) {
        self.transform = transform; self.tpsControlGridSize = tpsControlGridSize
        self.localisation = localisation; self.regressorHidden = regressorHidden
        self.glimpseHeight = glimpseHeight; self.glimpseWidth = glimpseWidth; self.padding = padding
    }

    public var parameterCount: Int {
        makeGridGenerator(kind: transform, tpsControlGridSize: tpsControlGridSize).parameterCount
    }

    /// `fc_loc` as layer specs: Linear(h₀), ReLU, Linear(h₁), ReLU, …, Linear(θ size).
    public var regressorLayers: [LayerSpec] {
        regressorHidden.flatMap { [LayerSpec.linear(outFeatures: $0), .relu] } + [.linear(outFeatures: parameterCount)]
    }

    /// Checks the configuration for an input of `inputShape`; returns the output shape and
    /// every parameter's name (under `prefix`) and shape.
    public func infer(inputShape: [Int], prefix: String = "") throws -> (
        output: [Int], parameters: [(name: String, shape: [Int])]
    ) {
        guard inputShape.count == 3 else { throw ArchitectureError("a spatial transformer needs a [C, H, W] input") }
        if transform == .tps, !(2...16).contains(tpsControlGridSize) {
            throw ArchitectureError("tps control grid size \(tpsControlGridSize) is outside 2…16")
        }
        guard (1...ArchitectureLimits.maximumSide).contains(glimpseHeight),
            (1...ArchitectureLimits.maximumSide).contains(glimpseWidth)
        else {
            throw ArchitectureError("glimpse \(glimpseHeight)×\(glimpseWidth) is out of range")
        }
        guard regressorHidden.count <= 8,
            regressorHidden.allSatisfy({ (1...ArchitectureLimits.maximumFeatures).contains($0) })
        else {
            throw ArchitectureError("regressor_hidden \(regressorHidden) is out of range")
        }
        for spec in localisation {
            if case .linear = spec {
                throw ArchitectureError(
                    "the localisation stack takes conv2d, max_pool2d, relu, dropout, spatial_soft_argmax only; fc_loc is separate"
                )
            }
            if case .flatten = spec {
                throw ArchitectureError("the localisation stack is flattened implicitly; no flatten layer")
            }
        }
        let loc = try localisation.infer(input: inputShape, prefix: joinName(prefix, "loc"))
        let fc = try regressorLayers.infer(input: [loc.output.reduce(1, *)], prefix: joinName(prefix, "fc_loc"))
        let output = [inputShape[0], glimpseHeight, glimpseWidth]
        return (output, loc.parameters + fc.parameters)
    }
}

/// Everything a model file describes: input, one spatial transformer, and optionally the
/// classifier of an ST-CNN (layers named `classifier.<i>`, ending in the class logits).
///
/// ## Metadata encoding (safetensors `__metadata__`, every value a string)
/// | key | value |
/// |---|---|
/// | `format` | `stn-video-model` |
/// | `format_version` | `1` |
/// | `transform` | `attention`, `affine`, `projective` or `tps` |
/// | `tps_control_grid_size` | n for an n×n grid of control points (used by `tps`; default 4) |
/// | `localisation` | JSON `{"layers": [LayerSpec…], "regressor_hidden": [32]}` |
/// | `localisation_input` | JSON `{"height": 64, "width": 64, "channels": 1, "mean": [0.5], "std": [0.5]}`, optionally with `"local_contrast": {"radius": 6, "floor": 0.1, "mix": 1}` (`LocalContrast`; mix optional, 0) |
/// | `glimpse` | JSON `{"height": 64, "width": 64}` — the output size trained with |
/// | `padding` | `zeros` or `border` (sampler padding in training) |
/// | `classifier` | JSON `{"layers": [LayerSpec…]}`, only for an ST-CNN |
/// | `class_names` | JSON `["T-shirt/top", …, "no item"]`, optional, one name per class score; a class named `no item` is the absence of any item (its probability gives `presence` = 1 − P) |
///
/// See `LayerSpec` for the layer objects. Tensors: `loc.*`, `fc_loc.*`, `classifier.*`, all
/// F32 in PyTorch layouts, so `torch.nn.Module.state_dict()` of the same structure exports
/// directly (pipelines/reference writes such a file).
public struct ModelConfig: Equatable, Sendable {
    public static let formatName = "stn-video-model"
    public static let formatVersion = 1

    public var input: InputSpec
    public var transformer: SpatialTransformerConfig
    public var classifier: [LayerSpec]?
    /// One name per class score, when the file names them.
    public var classNames: [String]?

    /// The class name that means "nothing here".
    public static let noItemClassName = "no item"

    public init(
        input: InputSpec, transformer: SpatialTransformerConfig, classifier: [LayerSpec]? = nil,
        classNames: [String]? = nil
    ) {
        self.input = input; self.transformer = transformer; self.classifier = classifier; self.classNames = classNames
    }

    /// Index of the "no item" class, when the classifier has one.
    public var noItemClass: Int? { classNames?.firstIndex(of: Self.noItemClassName) }

    /// The ST-CNN of PyTorch's spatial-transformer tutorial, sized for `height × width`
    /// inputs (60×60 in the benchmark): loc = conv7(8)–pool2–ReLU–conv5(10)–pool2–ReLU,
    /// fc_loc = 32 hidden; classifier = conv5(10)–pool2–ReLU–conv5(20)–dropout2d–pool2–ReLU–
    /// flatten–linear(50)–ReLU–dropout–linear(classes).
    public static func tutorial(
        height: Int = 28, width: Int = 28, channels: Int = 1, classes: Int = 10,
        transform: TransformKind = .affine, mean: Float = 0.1307, std: Float = 0.3081
    ) -> ModelConfig {
        ModelConfig(
            input: InputSpec(
                height: height, width: width, channels: channels,
                mean: Array(repeating: mean, count: channels), std: Array(repeating: std, count: channels)),
            transformer: SpatialTransformerConfig(
                transform: transform,
                localisation: [
                    .conv2d(outChannels: 8, kernelSize: 7), .maxPool2d(kernelSize: 2, stride: 2), .relu,
                    .conv2d(outChannels: 10, kernelSize: 5), .maxPool2d(kernelSize: 2, stride: 2), .relu
                ],
                regressorHidden: [32], glimpseHeight: height, glimpseWidth: width),
            classifier: [
                .conv2d(outChannels: 10, kernelSize: 5), .maxPool2d(kernelSize: 2, stride: 2), .relu,
                .conv2d(outChannels: 20, kernelSize: 5), .dropout2d(probability: 0.5),
                .maxPool2d(kernelSize: 2, stride: 2), .relu,
                .flatten, .linear(outFeatures: 50), .relu, .dropout(probability: 0.5), .linear(outFeatures: classes)
            ])
    }

    /// Validates the whole architecture; returns every tensor the file must hold, in order.
    public func expectedTensors() throws -> [(name: String, shape: [Int])] {
        guard (1...ArchitectureLimits.maximumSide).contains(input.height),
            (1...ArchitectureLimits.maximumSide).contains(input.width),
            (1...16).contains(input.channels)
        else {
            throw ArchitectureError(
                "localisation input \(input.channels)×\(input.height)×\(input.width) is out of range")
        }
        guard input.mean.count == input.channels, input.std.count == input.channels,
            input.mean.allSatisfy(\.isFinite), input.std.allSatisfy({ $0.isFinite && $0 > 0 })
        else {
            throw ArchitectureError("normalisation needs one finite mean and one positive std per channel")
        }
        if let problem = input.localContrast?.problem { throw ArchitectureError("local_contrast: \(problem)") }
        let st = try transformer.infer(inputShape: input.shape)
        var tensors = st.parameters
        if let classifier {
            let head = try classifier.infer(input: st.output, prefix: "classifier")
            guard head.output.count == 1, case .linear = classifier.last else {
                throw ArchitectureError("the classifier must end in a linear layer giving the class scores")
            }
            tensors += head.parameters
        }
        let total = tensors.reduce(0) { $0 + $1.shape.reduce(1, *) }
        guard total <= ArchitectureLimits.maximumParameters else {
            throw ArchitectureError("\(total) parameters is too many")
        }
        return tensors
    }

    /// Number of class scores, when there is a classifier.
    public var classCount: Int? {
        if case let .linear(out)? = classifier?.last { return out }
        return nil
    }

    // MARK: Metadata

    public var metadata: [String: String] {
        func json(_ object: Any) -> String {
            String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        var inputObject: [String: Any] = [
            "height": input.height, "width": input.width, "channels": input.channels,
            "mean": input.mean.map(Double.init), "std": input.std.map(Double.init)
        ]
        if let contrast = input.localContrast {
            // Through the shortest decimal text, so that 0.1 is written 0.1 and not 0.10000000149011612.
            var object: [String: Any] = ["radius": contrast.radius, "floor": Double("\(contrast.floor)")!]
            if contrast.mix != 0 { object["mix"] = Double("\(contrast.mix)")! }
            inputObject["local_contrast"] = object
        }
        var result: [String: String] = [
            "format": Self.formatName,
            "format_version": String(Self.formatVersion),
            "transform": transformer.transform.rawValue,
            "tps_control_grid_size": String(transformer.tpsControlGridSize),
            "localisation": json(
                ["layers": transformer.localisation.jsonObject, "regressor_hidden": transformer.regressorHidden]
                    as [String: Any]),
            "localisation_input": json(inputObject),
            "glimpse": json(["height": transformer.glimpseHeight, "width": transformer.glimpseWidth]),
            "padding": transformer.padding.pytorchName
        ]
        if let classifier { result["classifier"] = json(["layers": classifier.jsonObject]) }
        if let classNames { result["class_names"] = json(classNames) }
        return result
    }

    /// Parses `__metadata__`; errors carry the offending metadata key.
    public init(metadata: [String: String]) throws(MetadataError) {
        func require(_ key: String) throws(MetadataError) -> String {
            guard let value = metadata[key] else { throw MetadataError(key: key, message: "missing") }
            return value
        }
        func object(_ key: String) throws(MetadataError) -> [String: Any] {
            let text = try require(key)
            guard let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8)),
                let dictionary = parsed as? [String: Any]
            else {
                throw MetadataError(key: key, message: "is not a JSON object")
            }
            return dictionary
        }
        func integer(_ dictionary: [String: Any], _ field: String, in key: String) throws(MetadataError) -> Int {
            guard let raw = dictionary[field], let number = raw as? NSNumber,
                !String(describing: type(of: raw)).contains("Boolean"),
                number.doubleValue.rounded() == number.doubleValue, abs(number.doubleValue) < 1e9
            else {
                throw MetadataError(key: key, message: "\"\(field)\" is missing or not an integer")
            }
            return number.intValue
        }
        func floats(_ dictionary: [String: Any], _ field: String, in key: String) throws(MetadataError) -> [Float] {
            guard let values = dictionary[field] as? [Any], values.count <= 16 else {
                throw MetadataError(key: key, message: "\"\(field)\" is missing or not a list of numbers")
            }
            var result: [Float] = []
            for value in values {
                guard let number = value as? NSNumber, !String(describing: type(of: value)).contains("Boolean") else {
                    throw MetadataError(key: key, message: "\"\(field)\" is not a list of numbers")
                }
                result.append(number.floatValue)
            }
            return result
        }
        func localContrast(_ dictionary: [String: Any]) throws(MetadataError) -> LocalContrast? {
            guard let raw = dictionary["local_contrast"] else { return nil }
            let key = "localisation_input"
            guard let object = raw as? [String: Any], let floor = object["floor"] as? NSNumber,
                !String(describing: type(of: floor)).contains("Boolean")
            else {
                throw MetadataError(key: key, message: "\"local_contrast\" must be {\"radius\": n, \"floor\": x}")
            }
            var mix: Float = 0
            if let raw = object["mix"] {
                guard let number = raw as? NSNumber, !String(describing: type(of: raw)).contains("Boolean") else {
                    throw MetadataError(key: key, message: "\"local_contrast\": \"mix\" must be a number")
                }
                mix = number.floatValue
            }
            return LocalContrast(radius: try integer(object, "radius", in: key), floor: floor.floatValue, mix: mix)
        }
        func layers(_ dictionary: [String: Any], in key: String) throws(MetadataError) -> [LayerSpec] {
            guard let list = dictionary["layers"] as? [Any], list.count <= ArchitectureLimits.maximumLayers else {
                throw MetadataError(
                    key: key,
                    message: "\"layers\" is missing or not a list (at most \(ArchitectureLimits.maximumLayers))")
            }
            var result: [LayerSpec] = []
            for item in list {
                do { result.append(try LayerSpec(jsonObject: item)) } catch {
                    throw MetadataError(key: key, message: String(describing: error))
                }
            }
            return result
        }

        guard try require("format") == Self.formatName else {
            throw MetadataError(
                key: "format", message: "is \"\(metadata["format"]!)\", expected \"\(Self.formatName)\"")
        }
        let version = try require("format_version")
        guard let number = Int(version), number >= 1 else {
            throw MetadataError(key: "format_version", message: "\"\(version)\" is not a version number")
        }
        guard number <= Self.formatVersion else {
            throw MetadataError(
                key: "format_version",
                message: "version \(number) is newer than this program reads (\(Self.formatVersion)); upgrade stn-video"
            )
        }
        let kindName = try require("transform")
        guard let kind = TransformKind(rawValue: kindName) else {
            throw MetadataError(
                key: "transform", message: "unknown transform \"\(kindName)\" (attention, affine, projective, tps)")
        }
        var gridSize = 4
        if let text = metadata["tps_control_grid_size"] {
            guard let value = Int(text), (2...16).contains(value) else {
                throw MetadataError(key: "tps_control_grid_size", message: "\"\(text)\" is not an integer in 2…16")
            }
            gridSize = value
        }
        var padding = PaddingMode.black
        if let text = metadata["padding"] {
            guard let value = PaddingMode(pytorchName: text) else {
                throw MetadataError(key: "padding", message: "unknown padding \"\(text)\" (zeros, border)")
            }
            padding = value
        }
        let loc = try object("localisation")
        let locLayers = try layers(loc, in: "localisation")
        guard let hiddenRaw = loc["regressor_hidden"] as? [Any], hiddenRaw.count <= 8 else {
            throw MetadataError(
                key: "localisation", message: "\"regressor_hidden\" is missing or not a list of integers")
        }
        var hidden: [Int] = []
        for index in hiddenRaw.indices { hidden.append(try integer(["h": hiddenRaw[index]], "h", in: "localisation")) }
        let inputObject = try object("localisation_input")
        let channels = try integer(inputObject, "channels", in: "localisation_input")
        let inputSpec = InputSpec(
            height: try integer(inputObject, "height", in: "localisation_input"),
            width: try integer(inputObject, "width", in: "localisation_input"), channels: channels,
            mean: try floats(inputObject, "mean", in: "localisation_input"),
            std: try floats(inputObject, "std", in: "localisation_input"),
            localContrast: try localContrast(inputObject))
        let glimpse = try object("glimpse")
        let transformer = SpatialTransformerConfig(
            transform: kind, tpsControlGridSize: gridSize, localisation: locLayers, regressorHidden: hidden,
            glimpseHeight: try integer(glimpse, "height", in: "glimpse"),
            glimpseWidth: try integer(glimpse, "width", in: "glimpse"),
            padding: padding)
        var classifier: [LayerSpec]?
        if metadata["classifier"] != nil { classifier = try layers(try object("classifier"), in: "classifier") }
        var names: [String]?
        if let text = metadata["class_names"] {
            guard let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8)), let list = parsed as? [String]
            else {
                throw MetadataError(key: "class_names", message: "is not a JSON array of strings")
            }
            names = list
        }
        self.init(input: inputSpec, transformer: transformer, classifier: classifier, classNames: names)
        if let names {
            guard classifier != nil, names.count == classCount else {
                throw MetadataError(
                    key: "class_names",
                    message:
                        "names \(names.count) classes, the classifier gives \(classCount.map(String.init) ?? "none")")
            }
        }
        do { _ = try expectedTensors() } catch {
            throw MetadataError(
                key: classifier != nil && String(describing: error).hasPrefix("classifier")
                    ? "classifier" : "localisation",
                message: String(describing: error))
        }
    }
}

/// A problem with one `__metadata__` entry.
public struct MetadataError: Error, CustomStringConvertible, Sendable {
    public let key: String
    public let message: String
    public var description: String { "__metadata__.\(key): \(message)" }
}
