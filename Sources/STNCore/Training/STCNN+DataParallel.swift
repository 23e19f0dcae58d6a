import Dispatch

/// Data-parallel training steps: a batch is always split into the same two shards — samples
/// [0, ⌈N/2⌉) and [⌈N/2⌉, N) — computed by this network and by a replica with its own layers
/// and buffers and a copy of the parameter values; the replica's gradients are then added to
/// this network's, parameter by parameter, shard 0 first. The arithmetic is the same whether
/// the shards run one after the other (`threads` = 1) or side by side (2), so a seed gives
/// bit-identical weights at any thread count. OpenBLAS stays single-threaded inside each
/// shard (COpenBLAS loads it so); concurrent calls from two threads are what its
/// single-threaded mode is for.
extension STCNN {
    /// Shards per batch: fixed, so that the thread count never changes the result.
    public static let shardCount = 2

    /// Forward and backward of both shards, gradients summed into this network's; loss is the
    /// batch mean (summed in Double, shard 0 first).
    func trainShards(images: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int) -> (
        loss: Float, correct: Int
    ) {
        let twin = replica ?? makeReplica()
        replica = twin
        for (own, other) in zip(parameters, twin.parameters) {
            other.value.copy(from: own.value)
            own.zeroGradient()
            other.zeroGradient()
        }
        let first = (batch + 1) / 2, sample = config.input.shape.reduce(1, *)
        let work = ShardWork(
            networks: [self, twin], images: images, labels: labels, ranges: [0..<first, first..<batch], batch: batch)
        if threads >= 2 {
            DispatchQueue.concurrentPerform(iterations: Self.shardCount) { work.run(shard: $0, sample: sample) }
        } else {
            for shard in 0..<Self.shardCount { work.run(shard: shard, sample: sample) }
        }
        for (own, other) in zip(parameters, twin.parameters) {
            let g = own.gradient.data, h = other.gradient.data
            for i in 0..<own.gradient.count { g[i] += h[i] }
        }
        let lossSum = work.results[0].lossSum + work.results[1].lossSum
        return (Float(lossSum / Double(batch)), work.results[0].correct + work.results[1].correct)
    }

    private func makeReplica() -> STCNN {
        // The config has built this network already, so it builds again.
        try! STCNN(config: config)
    }
}

/// One step's shards: each worker touches only its own network, its slice of the batch and
/// its own result slot, so the unchecked Sendable is sound for the synchronous concurrentPerform.
private final class ShardWork: @unchecked Sendable {
    let networks: [STCNN]
    let images: UnsafePointer<Float>
    let labels: UnsafePointer<Int32>
    let ranges: [Range<Int>]
    let batch: Int
    /// One slot per shard, written by that shard's worker only (an array would be one shared variable).
    let results: UnsafeMutablePointer<(lossSum: Double, correct: Int)>

    init(
        networks: [STCNN], images: UnsafePointer<Float>, labels: UnsafePointer<Int32>, ranges: [Range<Int>], batch: Int
    ) {
        self.networks = networks; self.images = images; self.labels = labels; self.ranges = ranges; self.batch = batch
        results = .allocate(capacity: ranges.count)
        results.initialize(repeating: (0, 0), count: ranges.count)
    }

    deinit { results.deallocate() }

    func run(shard: Int, sample: Int) {
        let range = ranges[shard]
        guard !range.isEmpty else { return }
        let result = networks[shard].accumulateGradients(
            images: images + range.lowerBound * sample, labels: labels + range.lowerBound, batch: range.count,
            meanOver: batch)
        results[shard] = result
    }
}
