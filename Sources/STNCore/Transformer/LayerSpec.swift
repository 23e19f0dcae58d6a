import Foundation

/// One layer of an architecture description, as stored in a model file's metadata.
///
/// JSON encoding (one object per layer, PyTorch's argument names):
/// ```
/// {"type": "conv2d", "out_channels": 8, "kernel_size": 7, "stride": 1, "padding": 0}
/// {"type": "max_pool2d", "kernel_size": 2, "stride": 2}
/// {"type": "relu"}
/// {"type": "dropout", "p": 0.5}        // nn.Dropout
/// {"type": "dropout2d", "p": 0.5}      // nn.Dropout2d (whole channels)
/// {"type": "flatten"}
/// {"type": "linear", "out_features": 50}
/// {"type": "spatial_soft_argmax"}       // [C, H, W] → [2C] expected (x, y) per channel
/// {"type": "instance_norm2d", "eps": 0.01}  // nn.InstanceNorm2d(C, eps), no affine parameters
/// ```
/// Input channels / features are not stored: they follow from the previous layer.
public enum LayerSpec: Equatable, Sendable {
    case conv2d(outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0)
    case maxPool2d(kernelSize: Int, stride: Int)
    case relu
    case dropout(probability: Float)
    case dropout2d(probability: Float)
    case flatten
    case linear(outFeatures: Int)
    case spatialSoftArgmax
    case instanceNorm2d(eps: Float)
}

/// An architecture that cannot be built; the model loader turns it into a `ModelFileError`.
public struct ArchitectureError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Bounds that keep a hostile or mistaken file from asking for unbounded memory.
enum ArchitectureLimits {
    static let maximumSide = 2048
    static let maximumChannels = 1024
    static let maximumKernel = 64
    static let maximumStride = 64
    static let maximumFeatures = 1 << 20
    static let maximumLayers = 64
    static let maximumActivationsPerSample = 1 << 24
    static let maximumActivationsPerNetwork = 1 << 26
    static let maximumPatch = 1 << 16
    static let maximumParameters = 1 << 28
}

extension LayerSpec {
    public var jsonObject: [String: Any] {
        switch self {
        case let .conv2d(out, k, s, p):
            ["type": "conv2d", "out_channels": out, "kernel_size": k, "stride": s, "padding": p]
        case let .maxPool2d(k, s): ["type": "max_pool2d", "kernel_size": k, "stride": s]
        case .relu: ["type": "relu"]
        case let .dropout(p): ["type": "dropout", "p": Double(p)]
        case let .dropout2d(p): ["type": "dropout2d", "p": Double(p)]
        case .flatten: ["type": "flatten"]
        case let .linear(out): ["type": "linear", "out_features": out]
        case .spatialSoftArgmax: ["type": "spatial_soft_argmax"]
        case let .instanceNorm2d(eps): ["type": "instance_norm2d", "eps": Double("\(eps)")!]  // 0.01, not 0.0099999998
        }
    }

    public init(jsonObject: Any) throws {
        guard let object = jsonObject as? [String: Any], let type = object["type"] as? String else {
            throw ArchitectureError("a layer is not an object with a \"type\"")
        }
        func integer(_ key: String, default value: Int? = nil) throws -> Int {
            guard let raw = object[key] else {
                if let value { return value }
                throw ArchitectureError("\(type) layer lacks \"\(key)\"")
            }
            guard let number = raw as? NSNumber, !String(describing: Swift.type(of: raw)).contains("Boolean"),
                number.doubleValue.rounded() == number.doubleValue, abs(number.doubleValue) < 1e9
            else {
                throw ArchitectureError("\(type) layer: \"\(key)\" is not an integer")
            }
            return number.intValue
        }
        func probability() throws -> Float {
            guard let p = (object["p"] as? NSNumber)?.doubleValue, p >= 0, p < 1 else {
                throw ArchitectureError("\(type) layer: \"p\" must be a number in [0, 1)")
            }
            return Float(p)
        }
        switch type {
        case "conv2d":
            self = .conv2d(
                outChannels: try integer("out_channels"), kernelSize: try integer("kernel_size"),
                stride: try integer("stride", default: 1), padding: try integer("padding", default: 0))
        case "max_pool2d":
            let k = try integer("kernel_size")
            self = .maxPool2d(kernelSize: k, stride: try integer("stride", default: k))
        case "relu": self = .relu
        case "dropout": self = .dropout(probability: try probability())
        case "dropout2d": self = .dropout2d(probability: try probability())
        case "flatten": self = .flatten
        case "linear": self = .linear(outFeatures: try integer("out_features"))
        case "spatial_soft_argmax": self = .spatialSoftArgmax
        case "instance_norm2d":
            guard let eps = (object["eps"] as? NSNumber)?.doubleValue, eps > 0, eps <= 1e6 else {
                throw ArchitectureError("instance_norm2d layer: \"eps\" must be a positive number")
            }
            self = .instanceNorm2d(eps: Float(eps))
        default: throw ArchitectureError("unknown layer type \"\(type)\"")
        }
    }

    /// Per-sample output shape for a per-sample input shape, with the limits checked.
    public func outputShape(for input: [Int]) throws -> [Int] {
        func image() throws -> (Int, Int, Int) {
            guard input.count == 3 else { throw ArchitectureError("\(name) needs a [C, H, W] input, got \(input)") }
            return (input[0], input[1], input[2])
        }
        let shape: [Int]
        switch self {
        case let .conv2d(out, k, s, p):
            let (_, h, w) = try image()
            guard (1...ArchitectureLimits.maximumChannels).contains(out),
                (1...ArchitectureLimits.maximumKernel).contains(k),
                (1...ArchitectureLimits.maximumStride).contains(s), (0..<k).contains(p)
            else {
                throw ArchitectureError(
                    "conv2d(out_channels \(out), kernel_size \(k), stride \(s), padding \(p)) is out of range")
            }
            guard h + 2 * p >= k, w + 2 * p >= k else {
                throw ArchitectureError("conv2d kernel \(k) is larger than its input \(input)")
            }
            // The column buffer holds at least one output row of Cin·k·k patches.
            let patch = input[0] * k * k
            guard patch <= ArchitectureLimits.maximumPatch,
                patch * (w + 2 * p) <= ArchitectureLimits.maximumActivationsPerSample
            else {
                throw ArchitectureError("conv2d patches of \(patch) values over width \(w) are too large")
            }
            shape = [out, (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1]
        case let .maxPool2d(k, s):
            let (c, h, w) = try image()
            guard (1...ArchitectureLimits.maximumKernel).contains(k), (1...ArchitectureLimits.maximumStride).contains(s)
            else {
                throw ArchitectureError("max_pool2d(kernel_size \(k), stride \(s)) is out of range")
            }
            guard h >= k, w >= k else {
                throw ArchitectureError("max_pool2d kernel \(k) is larger than its input \(input)")
            }
            shape = [c, (h - k) / s + 1, (w - k) / s + 1]
        case .relu, .dropout, .dropout2d: shape = input
        case .instanceNorm2d:
            _ = try image()
            shape = input
        case .flatten: shape = [input.reduce(1, *)]
        case .spatialSoftArgmax:
            let (c, _, _) = try image()
            shape = [2 * c]
        case let .linear(out):
            guard (1...ArchitectureLimits.maximumFeatures).contains(out) else {
                throw ArchitectureError("linear(out_features \(out)) is out of range")
            }
            guard input.count == 1 else {
                throw ArchitectureError("linear needs a flat input (add a flatten layer), got \(input)")
            }
            shape = [out]
        }
        guard shape.reduce(1, *) <= ArchitectureLimits.maximumActivationsPerSample else {
            throw ArchitectureError("\(name) output \(shape) is too large")
        }
        return shape
    }

    /// `state_dict` suffixes and shapes of the layer's parameters.
    public func parameterShapes(for input: [Int]) -> [(suffix: String, shape: [Int])] {
        switch self {
        case let .conv2d(out, k, _, _): [("weight", [out, input[0], k, k]), ("bias", [out])]
        case let .linear(out): [("weight", [out, input.reduce(1, *)]), ("bias", [out])]
        default: []
        }
    }

    var name: String { jsonObject["type"] as! String }

    /// A fresh layer with initialised parameters. `input` must have passed `outputShape(for:)`.
    func makeLayer(input: [Int], group: ParameterGroup, initialisation: Initialisation, random: inout RandomSource)
        -> any Layer
    {
        switch self {
        case let .conv2d(out, k, s, p):
            Conv2d(
                inputShape: input, outputChannels: out, kernelSize: k, stride: s, padding: p, group: group,
                initialisation: initialisation, random: &random)
        case let .maxPool2d(k, s): MaxPool2d(inputShape: input, kernelSize: k, stride: s)
        case .relu: ReLU(inputShape: input)
        case let .dropout(p): Dropout(inputShape: input, probability: p, seed: random.next())
        case let .dropout2d(p): Dropout(inputShape: input, probability: p, channelwise: true, seed: random.next())
        case .flatten: Flatten(inputShape: input)
        case let .linear(out):
            Linear(
                inputShape: input, outputFeatures: out, group: group, initialisation: initialisation, random: &random)
        case .spatialSoftArgmax: SpatialSoftArgmax(inputShape: input)
        case let .instanceNorm2d(eps): InstanceNorm2d(inputShape: input, eps: eps)
        }
    }
}

extension Array where Element == LayerSpec {
    /// Shape inference through the stack, with the parameter shapes under `prefix.<index>`.
    func infer(input: [Int], prefix: String) throws -> (output: [Int], parameters: [(name: String, shape: [Int])]) {
        guard count <= ArchitectureLimits.maximumLayers else {
            throw ArchitectureError("more than \(ArchitectureLimits.maximumLayers) layers")
        }
        var shape = input, activations = 0
        var parameters: [(name: String, shape: [Int])] = []
        for (index, spec) in enumerated() {
            for (suffix, parameterShape) in spec.parameterShapes(for: shape) {
                parameters.append(("\(prefix).\(index).\(suffix)", parameterShape))
            }
            do { shape = try spec.outputShape(for: shape) } catch let error as ArchitectureError {
                throw ArchitectureError("\(prefix).\(index): \(error.message)")
            }
            activations += shape.reduce(1, *)
            guard activations <= ArchitectureLimits.maximumActivationsPerNetwork else {
                throw ArchitectureError(
                    "\(prefix): more than \(ArchitectureLimits.maximumActivationsPerNetwork) activations per sample")
            }
        }
        return (shape, parameters)
    }

    func makeSequential(input: [Int], group: ParameterGroup, initialisation: Initialisation, random: inout RandomSource)
        -> Sequential
    {
        var layers: [any Layer] = []
        var shape = input
        for spec in self {
            let layer = spec.makeLayer(input: shape, group: group, initialisation: initialisation, random: &random)
            layers.append(layer)
            shape = layer.outputShape
        }
        return Sequential(layers, inputShape: input)
    }

    public var jsonObject: [[String: Any]] { map(\.jsonObject) }
}
