/// A float32 tensor that owns its storage, row-major (NCHW for images, `[out, in]` for
/// linear weights, `[out, in, kh, kw]` for convolution weights — PyTorch's layouts).
///
/// Storage is a raw allocation so that layers can hand pointers to BLAS and to each other
/// without copy-on-write checks; the tensor is never resized.
public final class Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let count: Int
    public let data: UnsafeMutablePointer<Float>

    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        data = .allocate(capacity: max(count, 1))
        data.initialize(repeating: value, count: max(count, 1))
    }

    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit { data.deallocate() }

    public var values: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public subscript(index: Int) -> Float {
        get { data[index] }
        set { data[index] = newValue }
    }

    public func fill(_ value: Float) { data.update(repeating: value, count: count) }

    public func copy(from other: Tensor) {
        precondition(other.count == count)
        data.update(from: other.data, count: count)
    }
}
