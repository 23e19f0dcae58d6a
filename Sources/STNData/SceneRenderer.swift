import Foundation
import STNCore

/// Where a scene lands in a raster: raster point = offset + scale · frame point. Raster
/// pixels whose centre falls outside the frame are padding (0, black).
public struct SceneRaster: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var scale: Double
    public var offsetX: Double
    public var offsetY: Double

    public init(width: Int, height: Int, scale: Double, offsetX: Double, offsetY: Double) {
        self.width = width; self.height = height; self.scale = scale; self.offsetX = offsetX; self.offsetY = offsetY
    }

    /// The frame itself, pixel for pixel.
    public static func frame(width: Int, height: Int) -> SceneRaster {
        SceneRaster(width: width, height: height, scale: 1, offsetX: 0, offsetY: 0)
    }

    /// The square canvas of the frame (DESIGN.md §2) rendered at `side × side`.
    public static func canvas(_ canvas: SquareCanvas, side: Int) -> SceneRaster {
        let scale = Double(side) / canvas.side
        return SceneRaster(
            width: side, height: side, scale: scale, offsetX: canvas.frameOffsetX * scale,
            offsetY: canvas.frameOffsetY * scale)
    }
}

/// Draws `SceneLayout`s from an item source (28×28 Fashion-MNIST images) at any resolution.
///
/// Items and clutter are resampled separably: bilinear when enlarged, an exact box (area)
/// filter when shrunk, so that a small rendering is what an area downscale of a large one
/// would be. Layers combine by maximum (bright ink over a darker background); Gaussian noise
/// is added last and the result clamped to [0, 1].
public struct SceneRenderer: Sendable {
    public let items: IDXDataset

    public init(items: IDXDataset) { self.items = items }

    /// Renders `layout` into `output` (`raster.height × raster.width` floats, row-major).
    public func render(_ layout: SceneLayout, raster: SceneRaster, into output: UnsafeMutablePointer<Float>) {
        let (rw, rh) = (raster.width, raster.height)
        output.update(repeating: 0, count: rw * rh)
        // Frame region in raster pixels: pixels whose centre lies inside the frame.
        let left = max(0, Int((raster.offsetX - 0.5).rounded(.up)))
        let right = min(rw, Int((raster.offsetX + Double(layout.width) * raster.scale - 0.5).rounded(.up)))
        let top = max(0, Int((raster.offsetY - 0.5).rounded(.up)))
        let bottom = min(rh, Int((raster.offsetY + Double(layout.height) * raster.scale - 0.5).rounded(.up)))
        guard left < right, top < bottom else { return }
        let region = (left: left, right: right, top: top, bottom: bottom)

        let inverseWidth = 1 / Float(layout.width), inverseHeight = 1 / Float(layout.height)
        let inverseScale = Float(1 / raster.scale)
        for y in top..<bottom {
            let fy = (Float(y) + 0.5 - Float(raster.offsetY)) * inverseScale
            let rowLevel = layout.backgroundLevel + layout.gradientY * (fy * inverseHeight - 0.5)
            let row = output + y * rw
            for x in left..<right {
                let fx = (Float(x) + 0.5 - Float(raster.offsetX)) * inverseScale
                row[x] = rowLevel + layout.gradientX * (fx * inverseWidth - 0.5)
            }
        }
        for patch in layout.clutter {
            draw(
                source: patch.index, sourceX: patch.sourceX, sourceY: patch.sourceY, sourceSide: patch.sourceSide,
                x: raster.offsetX + patch.x * raster.scale, y: raster.offsetY + patch.y * raster.scale,
                side: patch.side * raster.scale, intensity: patch.intensity, region: region, raster: raster,
                output: output)
        }
        let item = layout.item
        if layout.itemPresent {
            draw(
                source: item.index, sourceX: 0, sourceY: 0, sourceSide: items.width,
                x: raster.offsetX + (item.centreX - item.side / 2) * raster.scale,
                y: raster.offsetY + (item.centreY - item.side / 2) * raster.scale,
                side: item.side * raster.scale, intensity: layout.itemIntensity, region: region, raster: raster,
                output: output)
        }
        let sigma = Float(Double(layout.blur) * raster.scale)
        if sigma >= 0.25 { SceneBlur.gaussian(output, width: rw, region: region, sigma: sigma) }

        var random = RandomSource(seed: layout.noiseSeed)
        let noise = layout.noise
        for y in top..<bottom {
            let row = output + y * rw
            for x in left..<right {
                let noisy = row[x] + (noise > 0 ? noise * SceneNoise.gaussian(&random) : 0)
                row[x] = min(max(noisy, 0), 1)
            }
        }
    }

    /// The same into a fresh array.
    public func render(_ layout: SceneLayout, raster: SceneRaster) -> [Float] {
        [Float](unsafeUninitializedCapacity: raster.width * raster.height) { buffer, count in
            render(layout, raster: raster, into: buffer.baseAddress!)
            count = raster.width * raster.height
        }
    }

    /// Max-composites a square crop of item `source` onto the raster square at (x, y) of `side` raster pixels.
    private func draw(
        source: Int, sourceX: Int, sourceY: Int, sourceSide: Int, x: Double, y: Double, side: Double,
        intensity: Float, region: (left: Int, right: Int, top: Int, bottom: Int),
        raster: SceneRaster, output: UnsafeMutablePointer<Float>
    ) {
        guard side > 0, sourceSide > 0 else { return }
        let columns = SceneResampling.taps(
            start: x, length: side, sourceCount: sourceSide, clip: region.left..<region.right)
        let rows = SceneResampling.taps(
            start: y, length: side, sourceCount: sourceSide, clip: region.top..<region.bottom)
        guard !columns.isEmpty, !rows.isEmpty else { return }
        let imageSide = items.width, base = source * items.height * items.width
        let scale = intensity / 255
        // Horizontal pass over every source row of the crop, then vertical.
        var horizontal = [Float](repeating: 0, count: sourceSide * columns.count)
        items.pixels.withUnsafeBufferPointer { pixels in
            for sy in 0..<sourceSide {
                let sourceRow = pixels.baseAddress! + base + (sourceY + sy) * imageSide + sourceX
                for (c, column) in columns.enumerated() {
                    var sum: Float = 0
                    for tap in column.taps { sum += Float(sourceRow[tap.index]) * tap.weight }
                    horizontal[sy * columns.count + c] = sum
                }
            }
        }
        for row in rows {
            let line = output + row.destination * raster.width
            for (c, column) in columns.enumerated() {
                var sum: Float = 0
                for tap in row.taps { sum += horizontal[tap.index * columns.count + c] * tap.weight }
                let value = sum * scale
                if value > line[column.destination] { line[column.destination] = value }
            }
        }
    }
}

/// 1-D resampling weights of a source segment of `sourceCount` texels drawn over
/// [start, start + length) raster pixels.
enum SceneResampling {
    struct Tap { var index: Int; var weight: Float }
    struct Destination { var destination: Int; var taps: [Tap] }

    static func taps(start: Double, length: Double, sourceCount: Int, clip: Range<Int>) -> [Destination] {
        let first = max(clip.lowerBound, Int((start - 1).rounded(.down)))
        let last = min(clip.upperBound, Int((start + length + 1).rounded(.up)))
        guard first < last else { return [] }
        let footprint = Double(sourceCount) / length  // texels per raster pixel
        var result: [Destination] = []
        for d in first..<last {
            let u = (Double(d) + 0.5 - start) * footprint  // source coordinate of the pixel centre
            var taps: [Tap] = []
            if footprint <= 1 {
                // Enlarging: bilinear between texel centres, transparent outside.
                let p = u - 0.5, i0 = Int(p.rounded(.down)), t = p - Double(i0)
                if i0 >= 0, i0 < sourceCount { taps.append(Tap(index: i0, weight: Float(1 - t))) }
                if i0 + 1 >= 0, i0 + 1 < sourceCount { taps.append(Tap(index: i0 + 1, weight: Float(t))) }
            } else {
                // Shrinking: the pixel's footprint [u − f/2, u + f/2] averaged over the texels it covers.
                let low = u - footprint / 2, high = u + footprint / 2
                let from = max(0, Int(low.rounded(.down))), to = min(sourceCount, Int(high.rounded(.up)))
                if from < to {
                    for i in from..<to {
                        let overlap = min(high, Double(i + 1)) - max(low, Double(i))
                        if overlap > 0 { taps.append(Tap(index: i, weight: Float(overlap / footprint))) }
                    }
                }
            }
            if !taps.isEmpty { result.append(Destination(destination: d, taps: taps)) }
        }
        return result
    }
}

/// Fast standard-normal noise: a fixed table of Gaussian quantiles indexed by random bits.
enum SceneNoise {
    static let table: [Float] = {
        var random = RandomSource(seed: 0x5CE4E)
        return (0..<4096).map { _ in random.normal() }
    }()

    @inline(__always)
    static func gaussian(_ random: inout RandomSource) -> Float {
        table[Int(random.next() >> 52)]
    }
}

/// Separable Gaussian blur of a raster region, edges clamped to the region (the frame), so
/// that padding outside the frame stays black and does not bleed in.
enum SceneBlur {
    static func gaussian(
        _ image: UnsafeMutablePointer<Float>, width: Int, region: (left: Int, right: Int, top: Int, bottom: Int),
        sigma: Float
    ) {
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        var kernel = (-radius...radius).map { exp(-Float($0 * $0) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        for i in kernel.indices { kernel[i] /= total }
        let (left, right, top, bottom) = region
        var line = [Float](repeating: 0, count: max(right - left, bottom - top))
        for y in top..<bottom {
            let row = image + y * width
            for x in left..<right {
                var sum: Float = 0
                for k in -radius...radius { sum += kernel[k + radius] * row[min(max(x + k, left), right - 1)] }
                line[x - left] = sum
            }
            for x in left..<right { row[x] = line[x - left] }
        }
        for x in left..<right {
            for y in top..<bottom {
                var sum: Float = 0
                for k in -radius...radius {
                    sum += kernel[k + radius] * image[min(max(y + k, top), bottom - 1) * width + x]
                }
                line[y - top] = sum
            }
            for y in top..<bottom { image[y * width + x] = line[y - top] }
        }
    }
}
