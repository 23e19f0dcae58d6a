import Foundation
import STNCore

/// An IDX data set seen through one distortion, generated on the fly.
///
/// Sample `index` in pass `pass` (an epoch in training; 0 for a fixed test set) is drawn from
/// its own generator seeded by (seed, pass, index), so a sample does not depend on batch
/// size, order or thread, and the same seed gives the same images everywhere.
public struct DistortedDataset: Sendable {
    public let base: IDXDataset
    public let distortion: Distortion
    public let seed: UInt64

    public init(_ base: IDXDataset, distortion: Distortion, seed: UInt64) {
        self.base = base; self.distortion = distortion; self.seed = seed
    }

    public var count: Int { base.count }
    /// Output side (square canvas).
    public var side: Int { distortion == .none ? base.height : distortion.canvasSide }
    public var sampleSize: Int { side * side }

    /// The random choices for sample `index` in `pass`.
    public func parameters(index: Int, pass: Int) -> DistortionParameters {
        var random = RandomSource(
            seed: Self.mix(seed, UInt64(truncatingIfNeeded: pass), UInt64(truncatingIfNeeded: index)))
        return DistortionParameters.draw(distortion, index: index, in: base, random: &random)
    }

    /// Writes sample `index` of `pass`: `side × side` floats in [0, 1].
    public func render(index: Int, pass: Int, into output: UnsafeMutablePointer<Float>) {
        DistortionRenderer.render(
            parameters(index: index, pass: pass), index: index, of: base, into: output, side: side)
    }

    /// Fills a batch `[indices.count, 1, side, side]` and its labels.
    public func fill(
        indices: some Collection<Int>, pass: Int, images: UnsafeMutablePointer<Float>,
        labels: UnsafeMutablePointer<Int32>
    ) {
        for (slot, index) in indices.enumerated() {
            render(index: index, pass: pass, into: images + slot * sampleSize)
            labels[slot] = Int32(base.labels[index])
        }
    }

    /// SplitMix-style mixing of three words into one seed.
    static func mix(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        var random = RandomSource(seed: a)
        var value = random.next() ^ (b &* 0x9E37_79B9_7F4A_7C15)
        random = RandomSource(seed: value)
        value = random.next() ^ (c &* 0xC2B2_AE3D_27D4_EB4F)
        random = RandomSource(seed: value)
        return random.next()
    }
}
