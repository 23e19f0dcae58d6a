/// Local contrast normalisation of the localisation input (`localisation_input.local_contrast`):
///
///     μ = box(x),  y = (x − μ) / sqrt(box((x − μ)²) + floor²)
///
/// with `box` the mean over a `(2·radius + 1)²` window, edges replicated. An item drawn at 40 %
/// contrast and a patch of clutter at 80 % come out alike, so the localisation net has to tell
/// them apart by shape, not brightness; `floor` keeps flat areas and faint noise from being
/// blown up. x is in [0, 1]; y needs no further normalisation. With `mix` > 0 the plain
/// normalised input is added back, `y + mix · (x − mean)/std`, so that brightness still counts
/// (among dense clutter the item is often the brightest thing; dim, it is not).
public struct LocalContrast: Equatable, Sendable {
    /// Half the window's side, in pixels of the localisation input.
    public var radius: Int
    /// In units of x: contrast well below it is attenuated, well above it normalised away.
    public var floor: Float
    /// Weight of the plain normalised input added to the result.
    public var mix: Float

    public init(radius: Int, floor: Float, mix: Float = 0) {
        self.radius = radius; self.floor = floor; self.mix = mix
    }

    /// What a usable setting is, for files and the command line alike.
    public var problem: String? {
        guard (1...64).contains(radius), floor.isFinite, floor > 0, mix.isFinite, mix >= 0 else {
            return "local contrast needs a radius of 1…64 pixels, a positive floor and a mix ≥ 0"
        }
        return nil
    }

    /// Floats of scratch `apply` needs for a `height × width` plane.
    public static func scratchCount(height: Int, width: Int) -> Int { 2 * height * width + width }

    /// `input` and `output`: `height × width` planes; `scratch`: `scratchCount(height:width:)` floats;
    /// `mean` and `std`: the plain normalisation `mix` adds back.
    public func apply(
        _ input: UnsafePointer<Float>, height: Int, width: Int, into output: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>, mean plainMean: Float = 0, std plainStd: Float = 1
    ) {
        let count = height * width
        let mean = scratch, deviation = scratch + count, columns = scratch + 2 * count
        boxMean(input, height: height, width: width, into: mean, rows: output, columns: columns)
        for i in 0..<count {
            let d = input[i] - mean[i]
            deviation[i] = d * d
        }
        boxMean(deviation, height: height, width: width, into: deviation, rows: output, columns: columns)
        let floorSquared = floor * floor
        for i in 0..<count { output[i] = (input[i] - mean[i]) / (deviation[i] + floorSquared).squareRoot() }
        if mix != 0 {
            let scale = mix / plainStd
            for i in 0..<count { output[i] += (input[i] - plainMean) * scale }
        }
    }

    /// Window mean, edges replicated, as running sums (a few operations a pixel whatever the
    /// radius): along each row into `rows` (a plane), then down the columns with one sum per
    /// column in `columns` (`width` floats). `output` may be `input`.
    private func boxMean(
        _ input: UnsafePointer<Float>, height: Int, width: Int, into output: UnsafeMutablePointer<Float>,
        rows: UnsafeMutablePointer<Float>, columns: UnsafeMutablePointer<Float>
    ) {
        let r = radius, scale = 1 / Float((2 * r + 1) * (2 * r + 1))
        for y in 0..<height {
            let row = input + y * width, line = rows + y * width
            var sum: Float = 0
            for k in -r...r { sum += row[min(max(k, 0), width - 1)] }
            line[0] = sum
            for x in 1..<max(width, 1) {
                sum += row[min(x + r, width - 1)] - row[max(x - r - 1, 0)]
                line[x] = sum
            }
        }
        columns.update(repeating: 0, count: width)
        for k in -r...r {
            let line = rows + min(max(k, 0), height - 1) * width
            for x in 0..<width { columns[x] += line[x] }
        }
        for y in 0..<height {
            let out = output + y * width
            for x in 0..<width { out[x] = columns[x] * scale }
            guard y + 1 < height else { break }
            let entering = rows + min(y + 1 + r, height - 1) * width, leaving = rows + max(y - r, 0) * width
            for x in 0..<width { columns[x] += entering[x] - leaving[x] }
        }
    }
}
