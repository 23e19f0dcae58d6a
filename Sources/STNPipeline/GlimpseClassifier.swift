import Foundation
import STNCore
import STNMedia

/// What the model's classifier saw in a frame's glimpse at the raw θ.
public struct GlimpseObservation: Sendable, Equatable {
    /// 1 − P(no item); 1 for a classifier without a "no item" class.
    public var presence: Double
    /// The most likely item class's name (the model's `class_names`, or its index).
    public var label: String
    /// That class's probability.
    public var confidence: Double

    public init(presence: Double, label: String, confidence: Double) {
        self.presence = presence; self.label = label; self.confidence = confidence
    }
}

/// Classifies the glimpse of an attention θ as training did (`TwoResolutionSTCNN`): the frame's
/// luminance canvas area-downscaled to 3 × the localisation side, a 2× box pyramid below it, the
/// glimpse sampled from the smallest level with a source pixel per glimpse pixel. Not thread-safe.
final class GlimpseClassifier {
    let network: TwoResolutionSTCNN
    let names: [String]
    let noItem: Int?
    private let centredInSquare: Bool
    private let sides: [Int]
    private var downscaler: LumaDownscaler?
    private let bytes: UnsafeMutablePointer<UInt8>
    private let levels: [UnsafeMutablePointer<Float>]
    private let pyramid: [TwoResolutionSTCNN.SamplingLevel]
    private let window = UnsafeMutablePointer<Float>.allocate(capacity: 3)

    /// nil when the model has no classifier or is not an attention model.
    init?(model: STNModel, centredInSquare: Bool) throws {
        guard model.config.classifier != nil, model.transformKind == .attention, model.inputChannels == 1 else {
            return nil
        }
        network = try TwoResolutionSTCNN(model: model)
        let count = network.classCount
        names = model.config.classNames ?? (0..<count).map(String.init)
        noItem = model.config.noItemClass
        self.centredInSquare = centredInSquare
        var sides = [3 * model.inputHeight]
        while sides.last! % 2 == 0, sides.last! / 2 >= max(model.glimpseHeight, model.glimpseWidth) + 16 {
            sides.append(sides.last! / 2)
        }
        self.sides = sides
        bytes = .allocate(capacity: sides[0] * sides[0])
        levels = sides.map { .allocate(capacity: $0 * $0) }
        pyramid = zip(levels, sides).map { TwoResolutionSTCNN.SamplingLevel(images: UnsafePointer($0), side: $1) }
    }

    deinit {
        bytes.deallocate()
        for level in levels { level.deallocate() }
        window.deallocate()
    }

    func classify(_ frame: VideoFrame, theta: ThetaValues) -> GlimpseObservation {
        makePyramid(frame)
        return observe(theta)
    }

    /// The window to follow in `frame` and what the classifier saw there: θ, or the window that
    /// `search` finds the classifier surest of (windows made and classified only when θ's glimpse
    /// is not already confident).
    func search(_ frame: VideoFrame, theta: ThetaValues, _ search: WindowSearch) -> (
        window: ThetaValues, observation: GlimpseObservation
    ) {
        makePyramid(frame)
        let atTheta = observe(theta)
        let found = search.run(
            theta: (Float(theta[0]), Float(theta[1]), Float(theta[2])), atTheta: atTheta, width: frame.width,
            height: frame.height, score: { Float($0.confidence) }, classify: observe(windows:))
        var window = theta
        (window[0], window[1], window[2]) = (Double(found.window.s), Double(found.window.tx), Double(found.window.ty))
        return (window, found.observation)
    }

    /// The frame's luminance canvas at the top side, and the 2× box pyramid below it.
    private func makePyramid(_ frame: VideoFrame) {
        let top = sides[0]
        if downscaler == nil || downscaler!.inputWidth != frame.width || downscaler!.inputHeight != frame.height {
            downscaler = LumaDownscaler(
                inputWidth: frame.width, inputHeight: frame.height, size: top, centredInSquare: centredInSquare)
        }
        downscaler!.downscale(frame, into: bytes)
        for i in 0..<(top * top) { levels[0][i] = Float(bytes[i]) * (1 / 255) }
        for k in 1..<sides.count {
            let side = sides[k], above = sides[k - 1]
            for y in 0..<side {
                for x in 0..<side {
                    let p = levels[k - 1] + 2 * y * above + 2 * x
                    levels[k][y * side + x] = 0.25 * (p[0] + p[1] + p[above] + p[above + 1])
                }
            }
        }
    }

    /// Classifies θ's glimpse of the current pyramid (no array per frame).
    private func observe(_ theta: ThetaValues) -> GlimpseObservation {
        for i in 0..<3 { window[i] = Float(theta[i]) }
        let v = network.sampleGlimpses(theta: window, levels: pyramid, batch: 1)
        return observation(network.classifier.forward(v, batch: 1, training: false))
    }

    /// Classifies the glimpses of `windows` `[K, 3]` of the current pyramid, in one batch.
    private func observe(windows: [Float]) -> [GlimpseObservation] {
        let count = windows.count / 3
        let z = windows.withUnsafeBufferPointer { t in
            network.classifier.forward(
                network.sampleGlimpses(
                    theta: t.baseAddress!, levels: pyramid, batch: count, images: Array(repeating: 0, count: count)),
                batch: count, training: false)
        }
        return (0..<count).map { observation(z + $0 * network.classCount) }
    }

    /// Presence, label and confidence from one glimpse's class scores (a softmax).
    private func observation(_ row: UnsafePointer<Float>) -> GlimpseObservation {
        let classes = network.classCount
        var top1 = row[0]
        for c in 1..<classes { top1 = max(top1, row[c]) }
        var total = 0.0
        for c in 0..<classes { total += exp(Double(row[c] - top1)) }
        func probability(_ c: Int) -> Double { exp(Double(row[c] - top1)) / total }
        var best = noItem == 0 ? 1 : 0
        for c in 0..<classes where c != noItem && row[c] > row[best] { best = c }
        return GlimpseObservation(
            presence: noItem.map { 1 - probability($0) } ?? 1, label: names[best], confidence: probability(best))
    }
}
