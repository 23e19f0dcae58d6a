#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Mean softmax cross-entropy over a batch (`F.cross_entropy(logits, labels)`, which is
/// `nll_loss(log_softmax)` — the tutorial's loss), computed stably with the row maximum
/// subtracted.
public final class SoftmaxCrossEntropy {
    public let classes: Int
    private let probabilities = FloatBuffer()
    private let gradLogits = FloatBuffer()

    public init(classes: Int) { self.classes = classes }

    // logits: [N, classes], labels: [N] -> mean loss; keeps softmax for backward.
    public func forward(logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int) -> Float {
        let p = probabilities.reserve(batch * classes)
        var total: Double = 0
        for n in 0..<batch {
            let z = logits + n * classes, q = p + n * classes
            var m = -Float.infinity
            for c in 0..<classes { m = max(m, z[c]) }
            var sum: Float = 0
            for c in 0..<classes { let e = expf(z[c] - m); q[c] = e; sum += e }
            let inv = 1 / sum
            for c in 0..<classes { q[c] *= inv }
            let label = Int(labels[n])
            precondition(label >= 0 && label < classes, "label \(label) outside 0..<\(classes)")
            total += Double(logf(sum) + m - z[label])
        }
        return Float(total / Double(batch))
    }

    // -> dlogits: [N, classes] = (softmax − onehot) / M, M = `meanOver` (default N): a shard of
    // a batch of M samples gets each sample's gradient of the whole batch's mean loss.
    public func backward(labels: UnsafePointer<Int32>, batch: Int, meanOver: Int? = nil) -> UnsafePointer<Float> {
        let p = probabilities.pointer, g = gradLogits.reserve(batch * classes)
        let scale = 1 / Float(meanOver ?? batch)
        for n in 0..<batch {
            for c in 0..<classes { g[n * classes + c] = p[n * classes + c] * scale }
            g[n * classes + Int(labels[n])] -= scale
        }
        return UnsafePointer(g)
    }

    /// Number of rows whose arg-max equals the label.
    public static func correctCount(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int, classes: Int
    ) -> Int {
        var correct = 0
        for n in 0..<batch {
            let z = logits + n * classes
            var best = 0
            for c in 1..<max(classes, 1) where z[c] > z[best] { best = c }
            if best == Int(labels[n]) { correct += 1 }
        }
        return correct
    }
}
