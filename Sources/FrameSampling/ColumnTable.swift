/// Per-column tap positions of an axis-aligned map: the left tap and the weight of the right one.
/// Filled once per (θ, plane kind) into memory the sampler allocated at init.
struct ColumnTable: @unchecked Sendable {
    let index: UnsafeMutablePointer<Int32>
    let weight: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        index = .allocate(capacity: count)
        index.initialize(repeating: 0, count: count)
        weight = .allocate(capacity: count)
        weight.initialize(repeating: 0, count: count)
    }

    func deallocate() {
        index.deallocate()
        weight.deallocate()
    }

    /// Fills the table for px = m02 + i·m00 (m01 = 0) and returns the columns of the plane that
    /// some tap reads, clamped to the plane (never empty).
    func fill(map: PlaneMap, planeWidth: Int) -> ClosedRange<Int> {
        let upper = Double(planeWidth + 1)
        var low = Int.max, high = Int.min
        for i in 0..<count {
            let px = clampCoordinate(map.m02 + Double(i) * map.m00, upper)
            let x0 = floorToInt(px)
            index[i] = Int32(x0)
            weight[i] = Float(px - Double(x0))
            low = min(low, x0)
            high = max(high, x0 + 1)
        }
        let last = planeWidth - 1
        return min(max(low, 0), last)...min(max(high, 0), last)
    }
}
