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

    public init() {}

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
        } else if SceneSquare(centreX: box.centreX, centreY: box.centreY, halfSide: 2 * box.halfSide).contains(x: theta.tx, y: theta.ty) {
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
        nearMisses += other.nearMisses; smallItemFrames += other.smallItemFrames; smallItemCentresInBox += other.smallItemCentresInBox
    }

    /// Where the misses are: near the item or far from it, and how small items fare.
    public var missSummary: String {
        let misses = frames - centresInBox
        return String(format: "misses %d: %d near the box (inside it doubled in side), %d far; items under 25%% of the shorter side: %d frames, centre-in-box %.2f%%",
                      misses, nearMisses, misses - nearMisses, smallItemFrames,
                      100 * Double(smallItemCentresInBox) / Double(max(smallItemFrames, 1)))
    }

    public var description: String {
        String(format: "frames %d  centre-in-box %.2f%%  mean IoU %.3f  accuracy %.2f%% (true-box glimpses %.2f%%)",
               frames, 100 * centreInBoxRate, meanIoU, 100 * accuracy, 100 * boxAccuracy)
    }

    /// Evaluates `frames` frames of a `SceneVideo` of `width × height` (t10k items, `seed`).
    /// `classifier` (optional) classifies the glimpses, sampled from a canvas of `sourceSide`²
    /// (default 3 × the localisation side); θ always comes from `model`'s predictor.
    public static func run(model: STNModel, classifier: TwoResolutionSTCNN?, items: IDXDataset, width: Int, height: Int,
                           frames: Int, frameRate: Double = 25, seed: UInt64, batchSize: Int = 16,
                           sourceSide: Int? = nil, clutterFollowsItem: Bool = false) -> SceneEvaluation {
        let renderer = SceneRenderer(items: items)
        var video = SceneVideo(items: items, width: width, height: height, frameRate: frameRate, seed: seed)
        video.clutterFollowsItem = clutterFollowsItem
        let side = model.inputHeight
        let sourceSide = sourceSide ?? 3 * side
        let batch = SceneBatch(capacity: batchSize, localisationSide: side, sourceSide: sourceSide)
        let predictor = model.makePredictor(maxBatch: batchSize)
        var theta = [Float](repeating: 0, count: batchSize * 3)
        var result = SceneEvaluation()
        var done = 0
        while done < frames {
            let n = min(batchSize, frames - done)
            let layouts = (0..<n).map { _ in video.next().layout }
            batch.fill(frames: layouts, renderer: renderer)
            theta.withUnsafeMutableBufferPointer { predictor.predict(luma: batch.localisationBytes, batch: n, theta: $0.baseAddress!) }
            for i in 0..<n {
                let box = batch.canvasBoxes[i]
                result.add(theta: (Double(theta[3 * i]), Double(theta[3 * i + 1]), Double(theta[3 * i + 2])), box: box,
                           itemFraction: box.halfSide * Double(max(width, height)) / Double(min(width, height)))
            }
            if let classifier {
                let levels = zip(batch.levels, batch.levelSides).map { TwoResolutionSTCNN.SamplingLevel(images: UnsafePointer($0), side: $1) }
                func correct(_ windows: [Float]) -> Int {
                    let logits = windows.withUnsafeBufferPointer { t -> UnsafePointer<Float> in
                        let v = classifier.sampleGlimpses(theta: t.baseAddress!, levels: levels, batch: n)
                        return classifier.classifier.forward(v, batch: n, training: false)
                    }
                    return batch.labels.withUnsafeBufferPointer { labels in
                        SoftmaxCrossEntropy.correctCount(logits: logits, labels: labels.baseAddress!, batch: n, classes: classifier.classCount)
                    }
                }
                result.correct += correct(theta)
                result.boxCorrect += correct((0..<n).flatMap { i -> [Float] in
                    let box = batch.canvasBoxes[i]
                    return [Float(box.halfSide), Float(box.centreX), Float(box.centreY)]
                })
                result.classifiedFrames += n
            }
            done += n
        }
        return result
    }
}
