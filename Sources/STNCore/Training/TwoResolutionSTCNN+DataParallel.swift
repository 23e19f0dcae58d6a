import Dispatch

/// Data-parallel training steps of the two-resolution ST-CNN, as `STCNN`'s
/// (STCNN+DataParallel.swift): always the same two shards, this network and a replica with a
/// copy of the parameter values and settings, the replica's gradients added parameter by
/// parameter; bit-identical weights at 1 or 2 threads.
extension TwoResolutionSTCNN {
    func trainShards(
        localisationInput: UnsafePointer<Float>, levels: [SamplingLevel], labels: UnsafePointer<Int32>, batch: Int
    ) -> (loss: Float, correct: Int) {
        let twin = replica ?? (try! TwoResolutionSTCNN(config: config))  // the config has built this network already
        replica = twin
        twin.scaleRange = scaleRange; twin.scalePenalty = scalePenalty; twin.translationLimit = translationLimit
        twin.scalePrior = scalePrior; twin.thetaFrozenLabel = thetaFrozenLabel
        for (own, other) in zip(parameters, twin.parameters) {
            other.value.copy(from: own.value)
            own.zeroGradient()
            other.zeroGradient()
        }
        let first = (batch + 1) / 2, input = config.input.shape.reduce(1, *), channels = config.input.channels
        let ranges = [0..<first, first..<batch]
        let work = TwoResolutionShardWork(
            networks: [self, twin], count: STCNN.shardCount,
            run: { network, shard in
                let range = ranges[shard]
                let shardLevels = levels.map {
                    SamplingLevel(images: $0.images + range.lowerBound * channels * $0.side * $0.side, side: $0.side)
                }
                return network.accumulateGradients(
                    localisationInput: localisationInput + range.lowerBound * input, levels: shardLevels,
                    labels: labels + range.lowerBound, batch: range.count, meanOver: batch)
            })
        if threads >= 2 {
            DispatchQueue.concurrentPerform(iterations: STCNN.shardCount) { work.run(shard: $0) }
        } else {
            for shard in 0..<STCNN.shardCount { work.run(shard: shard) }
        }
        for (own, other) in zip(parameters, twin.parameters) {
            let g = own.gradient.data, h = other.gradient.data
            for i in 0..<own.gradient.count { g[i] += h[i] }
        }
        // θ of the whole batch, for lastTheta.
        let thetas = shardedTheta.reserve(batch * 3)
        thetas.update(from: theta!, count: first * 3)
        (thetas + first * 3).update(from: twin.theta!, count: (batch - first) * 3)
        theta = UnsafePointer(thetas)
        let lossSum = work.results[0].lossSum + work.results[1].lossSum
        return (Float(lossSum / Double(batch)), work.results[0].correct + work.results[1].correct)
    }
}

/// One step's shards: each worker touches only its own network, its slice of the batch and its
/// own result slot, so the unchecked Sendable is sound for the synchronous concurrentPerform.
private final class TwoResolutionShardWork: @unchecked Sendable {
    let networks: [TwoResolutionSTCNN]
    let body: (TwoResolutionSTCNN, Int) -> (lossSum: Double, correct: Int)
    let results: UnsafeMutablePointer<(lossSum: Double, correct: Int)>

    init(
        networks: [TwoResolutionSTCNN], count: Int,
        run body: @escaping (TwoResolutionSTCNN, Int) -> (lossSum: Double, correct: Int)
    ) {
        self.networks = networks
        self.body = body
        results = .allocate(capacity: count)
        results.initialize(repeating: (0, 0), count: count)
    }

    deinit { results.deallocate() }

    func run(shard: Int) { results[shard] = body(networks[shard], shard) }
}
