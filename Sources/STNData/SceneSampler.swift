import Foundation
import STNCore

/// How an item's size is drawn within `SceneOptions.itemFraction`.
public enum ItemSizeDistribution: String, CaseIterable, Sendable {
    /// Every size in the range equally often.
    case uniform
    /// As a smooth size oscillation visits them, `a + (b − a)(½ + ½ sin φ)` for a uniform phase
    /// φ (the arcsine law): what `SceneVideo`'s size path gives, with most frames near either
    /// end of the range (24.7 % of them in its smallest seventh, against 14.3 % for uniform).
    case arcsine
}

/// What a scene's clutter patches are scaled to.
public enum ClutterSizing: String, CaseIterable, Sendable {
    /// The item's own side: a patch is always smaller than the item.
    case item
    /// An item side drawn independently (uniform in the range): what a `SceneVideo` shows, whose
    /// static clutter is sized at the scene's start while its item grows and shrinks, so that a
    /// patch can be up to 1.8 times a small item's side.
    case independent
}

/// The ranges random scenes are drawn from.
public struct SceneOptions: Equatable, Sendable {
    /// The item's side as a fraction of the frame's shorter side.
    public var itemFraction: ClosedRange<Double> = 0.15...0.5
    public var itemSizes: ItemSizeDistribution = .uniform
    /// Clutter patches are drawn at the item's scale (`clutterSizing`) times this factor (as the
    /// paper's cluttered MNIST cuts its 8×8 patches from digits of the same size): with `.item`
    /// a patch is at most 12/28 × 1.25 of the item's side.
    public var clutterScale: ClosedRange<Double> = 0.8...1.25
    public var clutterSizing: ClutterSizing = .item
    /// Clutter patches per frame.
    public var clutterCount: ClosedRange<Int> = 4...12
    /// Side of a clutter crop, in source texels (of 28).
    public var clutterSourceSide: ClosedRange<Int> = 6...12
    public var clutterIntensity: ClosedRange<Float> = 0.35...0.85
    public var backgroundLevel: ClosedRange<Float> = 0...0.3
    /// Amplitude of the background's linear gradient across the frame, either sign.
    public var backgroundGradient: Float = 0.15
    /// Noise standard deviation per rendered pixel.
    public var noise: ClosedRange<Float> = 0...0.06
    /// When set, clutter patches are added until their summed area reaches this fraction of
    /// the frame (drawn per scene), instead of `clutterCount` of them.
    public var clutterCoverage: ClosedRange<Double>?
    /// When set, a patch's side is this many item sides (drawn per patch), instead of
    /// `clutterScale` × its crop's share of the item.
    public var clutterSide: ClosedRange<Double>?
    /// The item's peak intensity.
    public var itemContrast: ClosedRange<Float> = 1...1
    /// Gaussian blur σ in frame pixels.
    public var blur: ClosedRange<Float> = 0...0
    /// Share of scenes drawn without an item (label `SceneLayout.noItemLabel`).
    public var itemAbsentShare: Double = 0
    /// Speed of drifting clutter in `SceneVideo`, in shorter sides per second (0: still).
    public var clutterDrift: ClosedRange<Double> = 0...0

    public init() {}

    /// The randomised scene statistics the bundled model trains on: clutter from none to 40 %
    /// of the frame in patches of 0.1–0.9 item sides, background to 35 % grey with gradients,
    /// noise to σ 6/255, blur to σ 1.2 px, item contrast 50–100 %, and one scene in ten without
    /// an item. The evaluation suite (`SceneSuite`) reaches past each of these ranges.
    public static var robustTraining: SceneOptions {
        var options = SceneOptions()
        options.itemSizes = .arcsine
        options.clutterSizing = .independent
        options.clutterCoverage = 0...0.4
        options.clutterSide = 0.1...0.9
        options.clutterSourceSide = 6...14
        options.clutterIntensity = 0.3...0.9
        options.backgroundLevel = 0...0.35
        options.backgroundGradient = 0.2
        options.noise = 0...(6 / 255)
        options.blur = 0...1.2
        options.itemContrast = 0.5...1
        options.itemAbsentShare = 0.1
        return options
    }
}

/// Which scene statistics `stn-train video` draws from.
public enum SceneProfile: String, CaseIterable, Sendable {
    /// `SceneOptions()`: a few dim texture patches smaller than the item, as the sample videos.
    case plain
    /// `SceneOptions.robustTraining`.
    case robust

    public var options: SceneOptions { self == .plain ? SceneOptions() : .robustTraining }
}

/// Draws random still scenes: one item anywhere fully inside the frame, clutter cut from
/// other items, background and noise. Deterministic given the `RandomSource`.
public struct SceneSampler: Sendable {
    public let items: IDXDataset
    public var options: SceneOptions

    /// Frame sizes of the aspect ratios training uses: 16:9, 4:3, 1:1, 3:4, 9:16, 2.35:1.
    public static let trainingFrameSizes: [(width: Int, height: Int)] = [
        (640, 360), (480, 360), (360, 360), (360, 480), (360, 640), (846, 360)
    ]

    public init(items: IDXDataset, options: SceneOptions = SceneOptions()) {
        precondition(items.count >= 2, "scenes need at least two items (one to find, others for clutter)")
        self.items = items; self.options = options
    }

    /// A random scene of `width × height` pixels.
    public func layout(width: Int, height: Int, random: inout RandomSource) -> SceneLayout {
        let index = random.int(below: items.count)
        let shorter = Double(min(width, height))
        let range = options.itemFraction
        let side: Double
        switch options.itemSizes {
        case .uniform: side = shorter * Double(random.uniform(Float(range.lowerBound), Float(range.upperBound)))
        case .arcsine:
            let phase = 2 * Double.pi * Double(random.uniform())
            side = shorter * (range.lowerBound + (range.upperBound - range.lowerBound) * (0.5 + 0.5 * sin(phase)))
        }
        let cx = side / 2 + Double(random.uniform()) * (Double(width) - side)
        let cy = side / 2 + Double(random.uniform()) * (Double(height) - side)
        let item = SceneLayout.Item(index: index, label: Int(items.labels[index]), centreX: cx, centreY: cy, side: side)
        return background(width: width, height: height, item: item, random: &random)
    }

    /// Background, clutter and noise around a given item.
    public func background(width: Int, height: Int, item: SceneLayout.Item, random: inout RandomSource) -> SceneLayout {
        let reference: Double
        switch options.clutterSizing {
        case .item: reference = item.side
        case .independent:
            let range = options.itemFraction
            reference =
                Double(min(width, height)) * Double(random.uniform(Float(range.lowerBound), Float(range.upperBound)))
        }
        let count: Int
        var coverageLeft = Double.infinity
        if let coverage = options.clutterCoverage {
            coverageLeft =
                Double(width * height) * Double(random.uniform(Float(coverage.lowerBound), Float(coverage.upperBound)))
            count = 2000
        } else {
            count = options.clutterCount.lowerBound + random.int(below: options.clutterCount.count)
        }
        var clutter: [SceneLayout.Patch] = []
        for _ in 0..<count {
            guard coverageLeft > 0 else { break }
            var other = random.int(below: items.count)
            if other == item.index { other = (other + 1) % items.count }
            let sourceSide = min(
                items.width, options.clutterSourceSide.lowerBound + random.int(below: options.clutterSourceSide.count))
            let side: Double
            if let sides = options.clutterSide {
                side = reference * Double(random.uniform(Float(sides.lowerBound), Float(sides.upperBound)))
            } else {
                let scale = Double(
                    random.uniform(Float(options.clutterScale.lowerBound), Float(options.clutterScale.upperBound)))
                side = reference * scale * Double(sourceSide) / Double(items.width)
            }
            coverageLeft -= side * side
            clutter.append(
                SceneLayout.Patch(
                    index: other,
                    sourceX: random.int(below: items.width - sourceSide + 1),
                    sourceY: random.int(below: items.height - sourceSide + 1),
                    sourceSide: sourceSide,
                    x: Double(random.uniform()) * Double(width) - side / 2,
                    y: Double(random.uniform()) * Double(height) - side / 2,
                    side: side,
                    intensity: random.uniform(options.clutterIntensity.lowerBound, options.clutterIntensity.upperBound))
            )
        }
        let gradient = options.backgroundGradient
        var layout = SceneLayout(
            width: width, height: height,
            backgroundLevel: random.uniform(options.backgroundLevel.lowerBound, options.backgroundLevel.upperBound),
            gradientX: random.uniform(-gradient, gradient), gradientY: random.uniform(-gradient, gradient),
            clutter: clutter, item: item,
            noise: random.uniform(options.noise.lowerBound, options.noise.upperBound), noiseSeed: random.next())
        // Drawn only when their ranges are not fixed, so that scenes of the default options
        // keep the random sequence they always had.
        if options.itemContrast.lowerBound < options.itemContrast.upperBound || options.itemContrast.lowerBound != 1 {
            layout.itemIntensity = random.uniform(options.itemContrast.lowerBound, options.itemContrast.upperBound)
        }
        if options.blur.upperBound > 0 {
            layout.blur = random.uniform(options.blur.lowerBound, options.blur.upperBound)
        }
        if options.itemAbsentShare > 0 { layout.itemPresent = Double(random.uniform()) >= options.itemAbsentShare }
        return layout
    }
}
