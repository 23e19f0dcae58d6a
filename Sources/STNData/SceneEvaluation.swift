import Foundation
import STNCore

/// Scores an attention model against generated ground truth, frame by frame, as the video
/// pipeline would run it: θ from the 8-bit area downscale of the rendered frame
/// (`ThetaPredictor`), the glimpse of θ sampled from a higher-resolution canvas and classified.
///
/// - centre in box: the window centre (tx, ty) lies inside the item's box (canvas coordinates);
/// - IoU: of the window square [tx ± s]×[ty ± s] with the box square;
/// - accuracy: the classifier's class on the glimpse equals the item's.
public struct SceneEvaluation: Sendable, CustomStringConvertible {
    public var frames = 0
    public var centresInBox = 0
    public var iouSum: Double = 0
    public var correct = 0
    public var classifiedFrames = 0
    /// Frames classified correctly from the glimpse of the true box (θ = (half-side, centre)):
    /// the classifier's own ceiling on these frames, whatever the localisation does.
    public var boxCorrect = 0
    /// Misses whose window centre still lies within the box grown to twice its side: windows
    /// that found the item but not precisely, as against windows that settled on clutter.
    public var nearMisses = 0
    /// Frames whose item is under a quarter of the frame's shorter side, and their hits.
    public var smallItemFrames = 0
    public var smallItemCentresInBox = 0
    /// Frames with an item whose presence (1 − P(no item)) was at least ½, of `classifiedFrames`.
    public var presentCalled = 0
    /// Item-free frames, and those whose presence was below ½.
    public var absentFrames = 0
    public var absentCalled = 0
    /// Whether the classifier has a "no item" class, so that presence is measured.
    public var measuresPresence = false
    /// With a `WindowSearch`: the same figures for the searched windows (`stn-video --search`).
    public var searched = (centresInBox: 0, iouSum: 0.0, correct: 0, presentCalled: 0, absentCalled: 0)

    public init() {}

    public var presenceRate: Double { Double(presentCalled) / Double(max(classifiedFrames, 1)) }
    public var absenceRate: Double { Double(absentCalled) / Double(max(absentFrames, 1)) }

    public var centreInBoxRate: Double { Double(centresInBox) / Double(max(frames, 1)) }
    public var meanIoU: Double { iouSum / Double(max(frames, 1)) }
    public var accuracy: Double { Double(correct) / Double(max(classifiedFrames, 1)) }
    public var boxAccuracy: Double { Double(boxCorrect) / Double(max(classifiedFrames, 1)) }

    /// `itemFraction`: the item's side over the frame's shorter side.
    public mutating func add(theta: (s: Double, tx: Double, ty: Double), box: SceneSquare, itemFraction: Double = 1) {
        frames += 1
        let hit = box.contains(x: theta.tx, y: theta.ty)
        if hit {
            centresInBox += 1
        } else if SceneSquare(centreX: box.centreX, centreY: box.centreY, halfSide: 2 * box.halfSide).contains(
            x: theta.tx, y: theta.ty)
        {
            nearMisses += 1
        }
        if itemFraction < 0.25 {
            smallItemFrames += 1
            if hit { smallItemCentresInBox += 1 }
        }
        iouSum += SceneSquare(attention: theta).intersectionOverUnion(box)
    }

    public mutating func merge(_ other: SceneEvaluation) {
        frames += other.frames; centresInBox += other.centresInBox; iouSum += other.iouSum
        correct += other.correct; classifiedFrames += other.classifiedFrames; boxCorrect += other.boxCorrect
        nearMisses += other.nearMisses; smallItemFrames += other.smallItemFrames;
        smallItemCentresInBox += other.smallItemCentresInBox
        presentCalled += other.presentCalled; absentFrames += other.absentFrames; absentCalled += other.absentCalled
        searched.centresInBox += other.searched.centresInBox; searched.iouSum += other.searched.iouSum
        searched.correct += other.searched.correct; searched.presentCalled += other.searched.presentCalled
        searched.absentCalled += other.searched.absentCalled
        measuresPresence = measuresPresence || other.measuresPresence
    }

    /// Where the misses are: near the item or far from it, and how small items fare.
    public var missSummary: String {
        let misses = frames - centresInBox
        return String(
            format:
                "misses %d: %d near the box (inside it doubled in side), %d far; items under 25%% of the shorter side: %d frames, centre-in-box %.2f%%",
            misses, nearMisses, misses - nearMisses, smallItemFrames,
            100 * Double(smallItemCentresInBox) / Double(max(smallItemFrames, 1)))
    }

    public var description: String {
        var text = String(
            format: "frames %d  centre-in-box %.2f%%  mean IoU %.3f  accuracy %.2f%% (true-box glimpses %.2f%%)",
            frames, 100 * centreInBoxRate, meanIoU, 100 * accuracy, 100 * boxAccuracy)
        if measuresPresence && classifiedFrames > 0 { text += String(format: "  present %.2f%%", 100 * presenceRate) }
        if absentFrames > 0 {
            text += String(format: "  item-free frames %d, called absent %.2f%%", absentFrames, 100 * absenceRate)
        }
        return text
    }

    /// Evaluates `frames` frames of a `SceneVideo` of `width × height` (t10k items, `seed`).
    /// `classifier` (optional) classifies the glimpses, sampled from a canvas of `sourceSide`²
    /// (default 3 × the localisation side); θ always comes from `model`'s predictor.
    /// `options` sets the scenes' statistics; `degrade`, when given, turns each chunk of 8-bit
    /// frames into what a codec round trip makes of them (same size and count).
    public static func run(
        model: STNModel, classifier: TwoResolutionSTCNN?, items: IDXDataset, width: Int, height: Int,
        frames: Int, frameRate: Double = 25, seed: UInt64, batchSize: Int = 16,
        sourceSide: Int? = nil, clutterFollowsItem: Bool = false, options: SceneOptions = SceneOptions(),
        degrade: (([UInt8], Int) throws -> [UInt8])? = nil, search: WindowSearch? = nil
    ) throws -> SceneEvaluation {
        let renderer = SceneRenderer(items: items)
        var video = SceneVideo(
            items: items, width: width, height: height, frameRate: frameRate, seed: seed, options: options)
        video.clutterFollowsItem = clutterFollowsItem
        let side = model.inputHeight
        let sourceSide = sourceSide ?? 3 * side
        let batch = SceneBatch(capacity: batchSize, localisationSide: side, sourceSide: sourceSide)
        let predictor = model.makePredictor(maxBatch: batchSize)
        var theta = [Float](repeating: 0, count: batchSize * 3)
        var result = SceneEvaluation()
        result.measuresPresence = classifier?.config.noItemClass != nil
        let frameSize = width * height
        // A codec sees a run of frames, not single ones: chunks of 10 batches go through `degrade` together.
        let chunk = degrade == nil ? batchSize : batchSize * 10
        var done = 0
        while done < frames {
            let chunkCount = min(chunk, frames - done)
            let chunkLayouts = (0..<chunkCount).map { _ in video.next().layout }
            var pixels = [UInt8](repeating: 0, count: chunkCount * frameSize)
            for (i, layout) in chunkLayouts.enumerated() {
                let frame = renderer.render(layout, raster: .frame(width: width, height: height))
                for p in 0..<frameSize { pixels[i * frameSize + p] = UInt8((min(max(frame[p], 0), 1) * 255).rounded()) }
            }
            if let degrade { pixels = try degrade(pixels, chunkCount) }
            var offset = 0
            while offset < chunkCount {
                let n = min(batchSize, chunkCount - offset)
                let layouts = Array(chunkLayouts[offset..<(offset + n)])
                pixels.withUnsafeBufferPointer { all in
                    batch.fill(
                        frames: UnsafeBufferPointer(rebasing: all[(offset * frameSize)..<((offset + n) * frameSize)]),
                        layouts: layouts)
                }
                theta.withUnsafeMutableBufferPointer {
                    predictor.predict(luma: batch.localisationBytes, batch: n, theta: $0.baseAddress!)
                }
                result.score(
                    batch: batch, layouts: layouts, theta: theta, classifier: classifier, width: width, height: height,
                    search: search)
                offset += n
            }
            done += chunkCount
        }
        return result
    }

    /// Adds one filled batch: tracking on frames with an item, presence on all, accuracy at θ and at the true box.
    mutating func score(
        batch: SceneBatch, layouts: [SceneLayout], theta: [Float], classifier: TwoResolutionSTCNN?, width: Int,
        height: Int, search: WindowSearch? = nil
    ) {
        let n = layouts.count
        for i in 0..<n where layouts[i].itemPresent {
            let box = batch.canvasBoxes[i]
            add(
                theta: (Double(theta[3 * i]), Double(theta[3 * i + 1]), Double(theta[3 * i + 2])), box: box,
                itemFraction: box.halfSide * Double(max(width, height)) / Double(min(width, height)))
        }
        guard let classifier else { return }
        let levels = zip(batch.levels, batch.levelSides).map {
            TwoResolutionSTCNN.SamplingLevel(images: UnsafePointer($0), side: $1)
        }
        let classes = classifier.classCount, absent = classifier.config.noItemClass
        func classify(_ windows: [Float], images: [Int]? = nil) -> [(best: Int, presence: Float, confidence: Float)] {
            let n = windows.count / 3
            return windows.withUnsafeBufferPointer { t in
                let v = classifier.sampleGlimpses(theta: t.baseAddress!, levels: levels, batch: n, images: images)
                let z = classifier.classifier.forward(v, batch: n, training: false)
                return (0..<n).map { i in
                    let row = z + i * classes
                    var best = 0
                    for c in 1..<classes where row[c] > row[best] { best = c }
                    let top = row[best]
                    let sum = (0..<classes).reduce(Float(0)) { $0 + exp(row[$1] - top) }
                    // The search's score: the most likely item class's probability.
                    var item = absent == 0 ? 1 : 0
                    for c in 0..<classes where c != absent && row[c] > row[item] { item = c }
                    let confidence = exp(row[item] - top) / sum
                    guard let absent else { return (best, 1, confidence) }
                    return (best, 1 - exp(row[absent] - top) / sum, confidence)
                }
            }
        }
        let atTheta = classify(Array(theta.prefix(3 * n)))
        let atBox = classify(
            (0..<n).flatMap { i -> [Float] in
                let box = batch.canvasBoxes[i]
                return [Float(box.halfSide), Float(box.centreX), Float(box.centreY)]
            })
        for i in 0..<n {
            if layouts[i].itemPresent {
                classifiedFrames += 1
                if atTheta[i].best == layouts[i].item.label { correct += 1 }
                if atBox[i].best == layouts[i].item.label { boxCorrect += 1 }
                if atTheta[i].presence >= 0.5 { presentCalled += 1 }
            } else {
                absentFrames += 1
                if atTheta[i].presence < 0.5 { absentCalled += 1 }
            }
        }
        guard let search else { return }
        for i in 0..<n {
            let (window, seen) = search.run(
                theta: (theta[3 * i], theta[3 * i + 1], theta[3 * i + 2]), atTheta: atTheta[i], width: width,
                height: height, score: \.confidence,
                classify: { classify($0, images: Array(repeating: i, count: $0.count / 3)) })
            let presence = seen.presence
            if layouts[i].itemPresent {
                let box = batch.canvasBoxes[i]
                let t = (s: Double(window.s), tx: Double(window.tx), ty: Double(window.ty))
                if box.contains(x: t.tx, y: t.ty) { searched.centresInBox += 1 }
                searched.iouSum += SceneSquare(attention: t).intersectionOverUnion(box)
                if seen.best == layouts[i].item.label { searched.correct += 1 }
                if presence >= 0.5 { searched.presentCalled += 1 }
            } else if presence < 0.5 {
                searched.absentCalled += 1
            }
        }
    }
}
