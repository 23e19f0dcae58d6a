import Foundation
import STNCore

/// A synthetic video: scenes of one item moving along a smooth path (a sum of sinusoids,
/// always fully inside the frame) while its size changes smoothly within the allowed range,
/// over static clutter and background, with fresh noise each frame; a scene cut (new item,
/// new background) every few seconds. Deterministic for a given seed.
public struct SceneVideo: Sendable {
    public let sampler: SceneSampler
    public let width: Int
    public let height: Int
    public let frameRate: Double
    /// Length of a scene in seconds.
    public var sceneLength: ClosedRange<Double> = 2...5
    /// A diagnostic, off in every video we generate: each clutter patch is scaled about its
    /// centre with the item's size, so that patches keep the ratio to the item they had at the
    /// scene's start (as `ClutterSizing.item` scenes have them) instead of staying put while
    /// the item shrinks below them.
    public var clutterFollowsItem = false

    private var random: RandomSource
    private var frameIndex = 0
    private var scene: Scene?

    /// Per-scene motion: phases and angular frequencies of the paths.
    private struct Scene: Sendable {
        var start: Int
        var length: Int
        var still: SceneLayout
        var x: (amplitudes: (Double, Double), omegas: (Double, Double), phases: (Double, Double))
        var y: (amplitudes: (Double, Double), omegas: (Double, Double), phases: (Double, Double))
        var size: (omega: Double, phase: Double)
        /// Per clutter patch, its velocity in pixels per second (zero for still clutter).
        var drift: [(x: Double, y: Double)]
    }

    public init(
        items: IDXDataset, width: Int, height: Int, frameRate: Double, seed: UInt64,
        options: SceneOptions = SceneOptions()
    ) {
        precondition(width > 0 && height > 0 && frameRate > 0)
        sampler = SceneSampler(items: items, options: options)
        self.width = width; self.height = height; self.frameRate = frameRate
        random = RandomSource(seed: seed)
    }

    /// The next frame's scene and ground truth.
    public mutating func next() -> (layout: SceneLayout, truth: SceneTruth) {
        var cut = false
        if scene == nil || frameIndex >= scene!.start + scene!.length {
            cut = scene != nil
            scene = makeScene(start: frameIndex)
        }
        let current = scene!
        let t = Double(frameIndex - current.start) / frameRate
        let range = sampler.options.itemFraction
        let fraction =
            range.lowerBound + (range.upperBound - range.lowerBound)
            * (0.5 + 0.5 * sin(current.size.omega * t + current.size.phase))
        let side = fraction * Double(min(width, height))
        func path(_ p: (amplitudes: (Double, Double), omegas: (Double, Double), phases: (Double, Double))) -> Double {
            0.5 + p.amplitudes.0 * sin(p.omegas.0 * t + p.phases.0) + p.amplitudes.1 * sin(p.omegas.1 * t + p.phases.1)
        }
        var layout = current.still
        layout.item.side = side
        if clutterFollowsItem {
            let ratio = side / current.still.item.side
            for i in layout.clutter.indices {
                let patch = layout.clutter[i], scaled = patch.side * ratio
                layout.clutter[i].x = patch.x + (patch.side - scaled) / 2
                layout.clutter[i].y = patch.y + (patch.side - scaled) / 2
                layout.clutter[i].side = scaled
            }
        }
        for (i, velocity) in current.drift.enumerated() where velocity.x != 0 || velocity.y != 0 {
            layout.clutter[i].x += velocity.x * t
            layout.clutter[i].y += velocity.y * t
        }
        layout.item.centreX = side / 2 + path(current.x) * (Double(width) - side)
        layout.item.centreY = side / 2 + path(current.y) * (Double(height) - side)
        layout.noiseSeed = random.next()
        let truth = SceneTruth(frame: frameIndex, time: Double(frameIndex) / frameRate, layout: layout, sceneCut: cut)
        frameIndex += 1
        return (layout, truth)
    }

    private mutating func makeScene(start: Int) -> Scene {
        let seconds = Double(random.uniform(Float(sceneLength.lowerBound), Float(sceneLength.upperBound)))
        let still = sampler.layout(width: width, height: height, random: &random)
        func omega(_ periods: ClosedRange<Float>) -> Double {
            2 * Double.pi / Double(random.uniform(periods.lowerBound, periods.upperBound))
        }
        func axis() -> (amplitudes: (Double, Double), omegas: (Double, Double), phases: (Double, Double)) {
            // Amplitudes sum to at most ½, so the path stays in [0, 1].
            let first = Double(random.uniform(0.2, 0.35))
            let second = Double(random.uniform(0, 0.5 - Float(first)))
            return (
                (first, second), (omega(3...8), omega(1.5...4)),
                (Double(random.uniform(0, 2 * .pi)), Double(random.uniform(0, 2 * .pi)))
            )
        }
        let x = axis(), y = axis()
        let size = (omega: omega(3...7), phase: Double(random.uniform(0, 2 * .pi)))
        let speeds = sampler.options.clutterDrift
        let drift: [(x: Double, y: Double)] = still.clutter.map { _ in
            guard speeds.upperBound > 0 else { return (0, 0) }
            let speed =
                Double(random.uniform(Float(speeds.lowerBound), Float(speeds.upperBound))) * Double(min(width, height))
            let angle = Double(random.uniform(0, 2 * .pi))
            return (speed * cos(angle), speed * sin(angle))
        }
        return Scene(
            start: start, length: max(1, Int((seconds * frameRate).rounded())), still: still, x: x, y: y, size: size,
            drift: drift)
    }
}
