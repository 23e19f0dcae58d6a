import STNCore

/// A batch of scenes as the two-resolution attention model reads them: the localisation
/// input (a `localisationSide`² area downscale of the square canvas, frame centred on black)
/// and a sampling pyramid of the same canvas (`sourceSide`, ½, ¼ …, each a 2× box average),
/// plus labels and ground truth.
///
/// `fill(layouts:)` renders the canvas directly at `sourceSide` (fast; training);
/// `fill(frames:)` starts from rendered 8-bit frames and area-downscales them, as the video
/// pipeline's `LumaDownscaler` does (evaluation).
public final class SceneBatch {
    public let capacity: Int
    public let localisationSide: Int
    /// Sides of the sampling levels, largest first.
    public let levelSides: [Int]
    public private(set) var count = 0
    /// `[N, side, side]` floats in [0, 1] per level, largest first.
    public private(set) var levels: [UnsafeMutablePointer<Float>]
    /// `[N, localisationSide, localisationSide]` floats in [0, 1].
    public let localisation: UnsafeMutablePointer<Float>
    /// The same quantised to 8 bits (what `ThetaPredictor.predict(luma:)` takes).
    public let localisationBytes: UnsafeMutablePointer<UInt8>
    public private(set) var labels: [Int32]
    public private(set) var canvasBoxes: [SceneSquare]

    /// `sourceSide` must be a multiple of `localisationSide`'s ratio for the direct path
    /// (192 → 64 is a 3× box); levels halve down to `minimumLevelSide`.
    public init(capacity: Int, localisationSide: Int = 64, sourceSide: Int = 192, minimumLevelSide: Int = 48) {
        precondition(capacity > 0 && sourceSide % localisationSide == 0)
        self.capacity = capacity; self.localisationSide = localisationSide
        var sides = [sourceSide]
        while sides.last! % 2 == 0, sides.last! / 2 >= minimumLevelSide { sides.append(sides.last! / 2) }
        levelSides = sides
        levels = sides.map { side in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: capacity * side * side)
            p.initialize(repeating: 0, count: capacity * side * side)
            return p
        }
        localisation = .allocate(capacity: capacity * localisationSide * localisationSide)
        localisation.initialize(repeating: 0, count: capacity * localisationSide * localisationSide)
        localisationBytes = .allocate(capacity: capacity * localisationSide * localisationSide)
        localisationBytes.initialize(repeating: 0, count: capacity * localisationSide * localisationSide)
        labels = Array(repeating: 0, count: capacity)
        canvasBoxes = Array(repeating: SceneSquare(centreX: 0, centreY: 0, halfSide: 0), count: capacity)
    }

    deinit {
        for level in levels { level.deallocate() }
        localisation.deallocate()
        localisationBytes.deallocate()
    }

    /// Renders each layout's canvas at the source side, then box-averages the other images from it.
    public func fill(layouts: [SceneLayout], renderer: SceneRenderer) {
        precondition(layouts.count <= capacity)
        count = layouts.count
        let top = levelSides[0]
        for (n, layout) in layouts.enumerated() {
            let source = levels[0] + n * top * top
            renderer.render(layout, raster: .canvas(layout.canvas, side: top), into: source)
            finish(item: n, layout: layout)
            let factor = top / localisationSide, side = localisationSide
            Self.boxDownsample(source, side: top, factor: factor, into: localisation + n * side * side)
        }
        quantiseLocalisation()
    }

    /// From frames already rendered and quantised to 8 bits (`layouts[i]`'s frame at `i · W·H`),
    /// perhaps after a codec round trip: each is area-downscaled into the square canvases, as the
    /// video pipeline feeds the model.
    public func fill(frames pixels: UnsafeBufferPointer<UInt8>, layouts: [SceneLayout]) {
        precondition(layouts.count <= capacity)
        count = layouts.count
        let top = levelSides[0], side = localisationSide
        for (n, layout) in layouts.enumerated() {
            let size = layout.width * layout.height
            precondition(pixels.count >= (n + 1) * size)
            let frame = (0..<size).map { Float(pixels[n * size + $0]) / 255 }
            frame.withUnsafeBufferPointer { f in
                Self.areaDownscale(
                    frame: f.baseAddress!, width: layout.width, height: layout.height, side: top,
                    into: levels[0] + n * top * top)
                Self.areaDownscale(
                    frame: f.baseAddress!, width: layout.width, height: layout.height, side: side,
                    into: localisation + n * side * side)
            }
            finish(item: n, layout: layout)
        }
        quantiseLocalisation()
    }

    /// Levels below the top, labels and boxes for item `n`.
    private func finish(item n: Int, layout: SceneLayout) {
        for index in 1..<levelSides.count {
            let side = levelSides[index], above = levelSides[index - 1]
            Self.boxDownsample(
                levels[index - 1] + n * above * above, side: above, factor: 2, into: levels[index] + n * side * side)
        }
        labels[n] = Int32(layout.label)
        canvasBoxes[n] = layout.canvasBox
    }

    private func quantiseLocalisation() {
        let total = count * localisationSide * localisationSide
        for i in 0..<total { localisationBytes[i] = UInt8(min(max((localisation[i] * 255).rounded(), 0), 255)) }
    }

    /// Mean of each `factor × factor` block of a `side × side` image.
    static func boxDownsample(
        _ source: UnsafePointer<Float>, side: Int, factor: Int, into output: UnsafeMutablePointer<Float>
    ) {
        let out = side / factor, scale = 1 / Float(factor * factor)
        for y in 0..<out {
            for x in 0..<out {
                var sum: Float = 0
                for dy in 0..<factor {
                    let row = source + (y * factor + dy) * side + x * factor
                    for dx in 0..<factor { sum += row[dx] }
                }
                output[y * out + x] = sum * scale
            }
        }
    }

    /// The frame centred in a `side × side` square on black, shrunk with an exact area filter;
    /// the scaled frame's size is rounded to whole pixels, as `LumaDownscaler` does.
    public static func areaDownscale(
        frame: UnsafePointer<Float>, width: Int, height: Int, side: Int, into output: UnsafeMutablePointer<Float>
    ) {
        output.update(repeating: 0, count: side * side)
        let longer = Double(max(width, height))
        let scaledWidth = max(1, Int((Double(width) * Double(side) / longer).rounded()))
        let scaledHeight = max(1, Int((Double(height) * Double(side) / longer).rounded()))
        let left = (side - scaledWidth) / 2, top = (side - scaledHeight) / 2
        let columns = SceneResampling.taps(
            start: Double(left), length: Double(scaledWidth), sourceCount: width, clip: left..<(left + scaledWidth))
        let rows = SceneResampling.taps(
            start: Double(top), length: Double(scaledHeight), sourceCount: height, clip: top..<(top + scaledHeight))
        var horizontal = [Float](repeating: 0, count: height * columns.count)
        for y in 0..<height {
            let row = frame + y * width
            for (c, column) in columns.enumerated() {
                var sum: Float = 0
                for tap in column.taps { sum += row[tap.index] * tap.weight }
                horizontal[y * columns.count + c] = sum
            }
        }
        for row in rows {
            let line = output + row.destination * side
            for (c, column) in columns.enumerated() {
                var sum: Float = 0
                for tap in row.taps { sum += horizontal[tap.index * columns.count + c] * tap.weight }
                line[column.destination] = sum
            }
        }
    }
}
