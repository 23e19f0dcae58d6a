/// One frame's θ parameters, by value. Up to `inlineCapacity` numbers (attention 3, affine 6,
/// projective 8) live inside the value, so the per-frame records that flow from the localise
/// stage through the queues to the sampler and the log cost no heap allocation; a TPS θ
/// (2n² numbers) spills into an array.
public struct ThetaValues: RandomAccessCollection, MutableCollection, Equatable, Sendable, ExpressibleByArrayLiteral {
    public static let inlineCapacity = 8

    private var inline = SIMD8<Double>()
    private var spill: [Double]?
    public let count: Int

    /// `count` zeros.
    public init(count: Int) {
        precondition(count >= 0)
        self.count = count
        if count > Self.inlineCapacity { spill = [Double](repeating: 0, count: count) }
    }

    public init(_ values: some Collection<Double>) {
        self.init(count: values.count)
        for (i, value) in values.enumerated() { self[i] = value }
    }

    public init(arrayLiteral elements: Double...) { self.init(elements) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(index: Int) -> Double {
        get {
            precondition(index >= 0 && index < count, "ThetaValues index out of range")
            return spill?[index] ?? inline[index]
        }
        set {
            precondition(index >= 0 && index < count, "ThetaValues index out of range")
            if spill != nil { spill![index] = newValue } else { inline[index] = newValue }
        }
    }

    /// Element by element, as `Array` compares (so NaN ≠ NaN).
    public static func == (a: ThetaValues, b: ThetaValues) -> Bool { a.elementsEqual(b) }
}
