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

    public init() {}
}

/// Draws random still scenes: one item anywhere fully inside the frame, clutter cut from
/// other items, background and noise. Deterministic given the `RandomSource`.
public struct SceneSampler: Sendable {
    public let items: IDXDataset
    public var options: SceneOptions

    /// Frame sizes of the aspect ratios training uses: 16:9, 4:3, 1:1, 3:4, 9:16, 2.35:1.
    public static let trainingFrameSizes: [(width: Int, height: Int)] = [
        (640, 360), (480, 360), (360, 360), (360, 480), (360, 640), (846, 360),
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
            reference = Double(min(width, height)) * Double(random.uniform(Float(range.lowerBound), Float(range.upperBound)))
        }
        let count = options.clutterCount.lowerBound + random.int(below: options.clutterCount.count)
        var clutter: [SceneLayout.Patch] = []
        for _ in 0..<count {
            var other = random.int(below: items.count)
            if other == item.index { other = (other + 1) % items.count }
            let sourceSide = min(items.width, options.clutterSourceSide.lowerBound + random.int(below: options.clutterSourceSide.count))
            let scale = Double(random.uniform(Float(options.clutterScale.lowerBound), Float(options.clutterScale.upperBound)))
            let side = reference * scale * Double(sourceSide) / Double(items.width)
            clutter.append(SceneLayout.Patch(
                index: other,
                sourceX: random.int(below: items.width - sourceSide + 1), sourceY: random.int(below: items.height - sourceSide + 1),
                sourceSide: sourceSide,
                x: Double(random.uniform()) * Double(width) - side / 2, y: Double(random.uniform()) * Double(height) - side / 2,
                side: side, intensity: random.uniform(options.clutterIntensity.lowerBound, options.clutterIntensity.upperBound)))
        }
        let gradient = options.backgroundGradient
        return SceneLayout(
            width: width, height: height,
            backgroundLevel: random.uniform(options.backgroundLevel.lowerBound, options.backgroundLevel.upperBound),
            gradientX: random.uniform(-gradient, gradient), gradientY: random.uniform(-gradient, gradient),
            clutter: clutter, item: item,
            noise: random.uniform(options.noise.lowerBound, options.noise.upperBound), noiseSeed: random.next())
    }
}
