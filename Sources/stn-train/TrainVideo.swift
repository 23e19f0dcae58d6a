import ArgumentParser
import CommandSupport
import Foundation
import STNCore
import STNData
import STNRuntime

/// `stn-train video`: trains the bundled video model, an attention ST-CNN with class labels
/// only (the paper's weak supervision), on synthetic scenes of Fashion-MNIST train items
/// (`SceneSampler`): the localisation net reads the 64×64 canvas, the classifier the glimpse
/// sampled from a 192² canvas pyramid (`TwoResolutionSTCNN`).
extension VideoLocalisationNet: ExpressibleByArgument {}
extension VideoClassifierNet: ExpressibleByArgument {}
extension ItemSizeDistribution: ExpressibleByArgument {}
extension ClutterSizing: ExpressibleByArgument {}
extension SceneProfile: ExpressibleByArgument {}

struct TrainVideo: CancellableCommand {
    static let configuration = CommandConfiguration(
        commandName: "video",
        abstract:
            "Train the attention model stn-video runs by default (two-resolution ST-CNN on synthetic Fashion-MNIST scenes)."
    )

    @Option(help: "Directory of the IDX files (train split used).")
    var data = FashionMNIST.defaultDirectory.path
    @Option(name: .shortAndLong, help: "Model file to write (also the checkpoint).")
    var output = "samples/model/attention-fashion.safetensors"
    @Option(help: "Optimisation steps.")
    var steps = 14000
    @Option(help: "Scenes per step.")
    var batchSize = 32
    @Option(help: "Adam learning rate of the classifier (cosine-annealed to 5%).")
    var learningRate: Float = 1e-3
    @Option(help: "Learning-rate multiplier of the localisation network and regressor.")
    var localisationScale: Float = 0.7
    @Option(help: "Classifier warm-up steps on item glimpses (64 each) before the joint training.")
    var warmupSteps = 1500
    @Option(
        help:
            "Learning-rate multiplier of the classifier during the joint training (0: the warmed-up classifier stays fixed and only θ learns)."
    )
    var classifierScale: Float = 0.3
    @Option(
        help:
            "Final steps that train the classifier alone on the trained localisation's glimpses (localisation frozen).")
    var finetuneSteps = 0
    @Option(
        help: ArgumentHelp(
            "In the classifier fine-tuning steps, show the classifier each item-free scene at its most item-like window (highest presence among θ and a grid of windows of θ's scale, this many half-sides apart), so that \"no item\" holds wherever a search looks; scenes with an item keep θ's glimpse.",
            valueName: "half-sides"))
    var mineNegatives: Double?
    @Option(
        help: ArgumentHelp(
            "In the classifier fine-tuning steps, show the classifier every scene at the window stn-video --search follows (this many half-sides apart), labelled as ever: the scene's class, or \"no item\". The classifier learns on the windows the search will ask it about.",
            valueName: "half-sides"))
    var searchWindows: Double?
    @Option(
        help: ArgumentHelp(
            "Self-training, still with class labels only: in the steps before the fine-tuning, regress θ onto the window where a search of the scene (θ, grids of windows this many half-sides apart at θ's scale and 0.625 times it, refined) finds the classifier surest of the scene's class; the classifier stays fixed. The paper's objective, optimised by search where gradient descent on θ stalls on a brighter patch.",
            valueName: "half-sides"))
    var searchTargets: Double?
    @Option(help: "Curriculum length: item sizes shrink from 70–100% to 15–50% of the shorter side over these steps.")
    var curriculumSteps = 6000
    @Option(help: "Glimpse side in pixels.")
    var glimpse = 32
    @Option(help: "Side of the localisation network's square luminance input (--source-side must be a multiple of it).")
    var localisationSide = 64
    @Option(
        help: ArgumentHelp(
            "Local contrast normalisation of the localisation input: the window's half-side in input pixels, the contrast floor, and optionally the weight of the plain input added back (e.g. 6,0.1,1); the net then tells items from clutter by shape as well as brightness.",
            valueName: "radius,floor[,mix]"))
    var localContrast: String?
    @Option(
        help:
            "Localisation network: small (conv stack, fc regression), keypoints (spatial soft-argmax) or keypoints-lite (its strided, cheaper form); keypoints-deep and keypoints-wide are trials of more capacity, keypoints-fine of finer (32×32) keypoint maps, keypoints-context of a wider view (one more pooling stage and three convolutions)."
    )
    var localisationNet: VideoLocalisationNet = .small
    @Option(
        help:
            "How item sizes are drawn within the range: uniform, or arcsine (as the sample videos' smooth size path visits them, more often near both ends)."
    )
    var itemSizes: ItemSizeDistribution = .uniform
    @Option(
        help:
            "Scene statistics: plain (a few dim patches smaller than the item) or robust (randomised clutter coverage and size, background, noise, blur, contrast, and item-free scenes; --item-sizes and --clutter-sizing then do not apply)."
    )
    var scenes: SceneProfile = .plain
    @Option(
        help:
            "Share of item-free scenes when --scenes robust; a share above 0 gives the model an 11th class, \"no item\"."
    )
    var noItemShare: Double = 0.1
    @Option(help: "With --scenes robust: the lowest item contrast drawn (robust's own: 0.5; the highest is 1).")
    var minItemContrast: Float?
    @Option(help: "With --scenes robust: the largest share of the frame clutter covers (robust's own: 0.4).")
    var maxClutterCoverage: Double?
    @Option(
        help:
            "Start from the weights of this model file where names match (the leading rows where only the class count differs), e.g. a trained model at another --localisation-side."
    )
    var initialiseFrom: String?
    @Option(
        help:
            "What clutter is scaled to: item (the item's side, patches always smaller than it) or independent (a size drawn apart from the item's, as in the sample videos, whose static clutter stays while the item shrinks)."
    )
    var clutterSizing: ClutterSizing = .item
    @Option(
        help:
            "Glimpse classifier: small, wide, or small-normalised (small on a glimpse normalised to mean 0, variance 1). With --resume, a different one than the file's starts fresh (warm-up included) on the file's localisation network."
    )
    var classifierNet: VideoClassifierNet?
    @Option(
        help: "Side of the highest-resolution canvas the glimpse is sampled from (a multiple of --localisation-side).")
    var sourceSide = 192
    @Option(
        help:
            "Weight of the prior scale-prior · mean(s) added to the loss during joint training (0: none): a pull toward the smallest window that still classifies well."
    )
    var scalePrior: Float = 0
    @Option(
        help:
            "Weight of the quadratic penalty that keeps the window's scale s in [0.04, 1]. At the default 1 a classifier that gives up can still shrink windows to nothing; 100 holds them."
    )
    var scalePenalty: Float = 1
    @Option(help: "Random seed (scenes and initialisation).")
    var seed: UInt64 = 1
    @Option(help: "Print progress every N steps.")
    var logEvery = 50
    @Option(help: "Write the model file every N steps.")
    var checkpointEvery = 250
    @Flag(
        help:
            "Diagnostic, not weak supervision: train only the localisation network, regressing θ onto the true boxes (no warm-up, no classifier), to measure the architecture's localisation ceiling."
    )
    var boxSupervision = false
    @Flag(help: "Continue from the model file at --output (the step count restarts).")
    var resume = false
    @Option(
        help: """
            CPUs to use (the process is pinned to them) and training threads (default: every CPU; at most 2 \
            train). The trained model does not depend on it.
            """)
    var threads: Int?

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard (1...4096).contains(batchSize) else { throw ValidationError("--batch-size must be in 1…4096") }
        // The warm-up renders items at 12…glimpse pixels and enlarges them to the glimpse.
        guard (12...256).contains(glimpse) else { throw ValidationError("--glimpse must be in 12…256") }
        guard warmupSteps >= 0, curriculumSteps >= 0 else {
            throw ValidationError("--warmup-steps and --curriculum-steps must not be negative")
        }
        guard (0...steps).contains(finetuneSteps) else {
            throw ValidationError("--finetune-steps must be in 0…--steps (\(steps))")
        }
        if let minItemContrast, !(minItemContrast > 0 && minItemContrast <= 1) {
            throw ValidationError("--min-item-contrast must be in (0, 1]")
        }
        if let maxClutterCoverage, !(maxClutterCoverage >= 0 && maxClutterCoverage <= 0.9) {
            throw ValidationError("--max-clutter-coverage must be in [0, 0.9]")
        }
        if (minItemContrast != nil || maxClutterCoverage != nil) && scenes != .robust {
            throw ValidationError("--min-item-contrast and --max-clutter-coverage apply to --scenes robust")
        }
        guard logEvery >= 1, checkpointEvery >= 1 else {
            throw ValidationError("--log-every and --checkpoint-every must be at least 1")
        }
        guard learningRate > 0, learningRate.isFinite else {
            throw ValidationError("--learning-rate must be a positive number")
        }
        for (name, value) in [
            ("--localisation-scale", localisationScale), ("--classifier-scale", classifierScale),
            ("--scale-prior", scalePrior), ("--scale-penalty", scalePenalty)
        ] {
            guard value >= 0, value.isFinite else { throw ValidationError("\(name) must be a finite number ≥ 0") }
        }
        if let mineNegatives {
            guard mineNegatives > 0, mineNegatives.isFinite else {
                throw ValidationError("--mine-negatives must be a positive number of half-sides")
            }
            guard finetuneSteps > 0, noItemShare > 0 else {
                throw ValidationError(
                    "--mine-negatives mines item-free scenes in the fine-tuning steps: give --finetune-steps and --no-item-share"
                )
            }
        }
        if let searchWindows {
            guard searchWindows >= 0.25 && searchWindows <= 8 else {
                throw ValidationError("--search-windows must be from 0.25 to 8 half-sides")
            }
            guard finetuneSteps > 0, mineNegatives == nil else {
                throw ValidationError(
                    "--search-windows chooses the fine-tuning steps' windows: give --finetune-steps, and not --mine-negatives"
                )
            }
        }
        if let searchTargets {
            guard searchTargets >= 0.25 && searchTargets <= 8 else {
                throw ValidationError("--search-targets must be from 0.25 to 8 half-sides")
            }
            guard !boxSupervision, finetuneSteps < steps else {
                throw ValidationError(
                    "--search-targets trains θ in the steps before --finetune-steps, with class labels: not with --box-supervision, and leave steps before the fine-tuning"
                )
            }
        }
        if boxSupervision && finetuneSteps > 0 {
            throw ValidationError("--box-supervision trains no classifier: drop --finetune-steps")
        }
        guard localisationSide >= 16 else { throw ValidationError("--localisation-side must be at least 16") }
        if localContrast != nil && resume {
            throw ValidationError("--local-contrast makes a new model; --resume keeps the file's input")
        }
        _ = try parsedLocalContrast()
        guard (0..<1).contains(noItemShare) else { throw ValidationError("--no-item-share must be in [0, 1)") }
        if initialiseFrom != nil && resume {
            throw ValidationError("--initialise-from starts a new model; --resume continues one: give one of them")
        }
        guard sourceSide > 0, sourceSide % localisationSide == 0 else {
            throw ValidationError("--source-side must be a multiple of --localisation-side")
        }
    }

    /// `--local-contrast radius,floor[,mix]`.
    private func parsedLocalContrast() throws -> LocalContrast? {
        guard let localContrast else { return nil }
        let parts = localContrast.split(separator: ",", omittingEmptySubsequences: false)
        let mix = parts.count == 3 ? Float(parts[2]) : 0
        guard (2...3).contains(parts.count), let radius = Int(parts[0]), let floor = Float(parts[1]), let mix else {
            throw ValidationError("--local-contrast: expected radius,floor[,mix], not \"\(localContrast)\"")
        }
        let contrast = LocalContrast(radius: radius, floor: floor, mix: mix)
        if let problem = contrast.problem { throw ValidationError("--local-contrast \(localContrast): \(problem)") }
        return contrast
    }

    func run(cancellation: CancellationToken) throws {
        if let threads, let kept = ThreadLimit.apply(threads) {
            print("stn-train video: on CPU \(kept.map(String.init).joined(separator: ", "))")
        }
        try OutputGuard.refuse(output, overwriting: OutputGuard.datasetFiles(in: data), what: "data file")
        try OutputGuard.checkWritable(output)
        let items = try FashionMNIST.load(.train, from: URL(fileURLWithPath: data))
        let url = URL(fileURLWithPath: output)
        let withNoItem = scenes == .robust && noItemShare > 0
        let names = FashionMNIST.classNames + (withNoItem ? [ModelConfig.noItemClassName] : [])
        var net = try naming(output) {
            resume
                ? try TwoResolutionSTCNN(contentsOf: url)
                : try TwoResolutionSTCNN(
                    config: .videoAttention(
                        localisationSide: localisationSide, glimpse: glimpse, classes: names.count,
                        localisationNet: localisationNet, classifierNet: classifierNet ?? .small,
                        classNames: names, localContrast: try parsedLocalContrast()), seed: seed)
        }
        if withNoItem && net.config.noItemClass != SceneLayout.noItemLabel {
            throw ToolError(
                output,
                "the model has no \"\(ModelConfig.noItemClassName)\" class at index \(SceneLayout.noItemLabel); train item-free scenes into a model made with them (--initialise-from)"
            )
        }
        net.thetaFrozenLabel = withNoItem ? Int32(SceneLayout.noItemLabel) : nil
        var freshClassifier = !resume
        if let source = initialiseFrom {
            let report = try naming(source) { try net.initialise(from: URL(fileURLWithPath: source)) }
            print(
                "stn-train video: from \(source): \(report.whole.count) tensors whole, \(report.partial.count) in part (\(report.partial.joined(separator: ", "))), \(report.identity.count) identity (\(report.identity.joined(separator: ", "))), \(report.skipped.count) fresh (\(report.skipped.joined(separator: ", ")))"
            )
            // A classifier copied only in part (a new class) warms up on glimpses first.
            freshClassifier = (report.skipped + report.partial).contains { $0.hasPrefix("classifier") }
        }
        if resume, let wanted = classifierNet, let layers = net.config.classifier,
            VideoClassifierNet(layers: layers, classes: net.classCount) != wanted
        {
            net = try net.replacingClassifier(with: wanted.layers(classes: net.classCount), seed: seed)
            freshClassifier = true
            print("stn-train video: a fresh \(wanted) classifier on the localisation network of \(output)")
        }
        cancellation.startHandlingSignals()
        defer { cancellation.stopHandlingSignals() }
        if freshClassifier && !boxSupervision { try warmUp(net, items: items, cancellation: cancellation) }
        net.scalePrior = scalePrior
        net.scalePenalty = scalePenalty
        net.threads = min(threads ?? ProcessInfo.processInfo.activeProcessorCount, STCNN.shardCount)
        let optimiser = Adam(
            learningRate: learningRate, groupScale: [.localisation: localisationScale, .classifier: classifierScale])
        // θ alone learns from the search's windows; the classifier that judges them stays fixed.
        if searchTargets != nil { optimiser.groupScale[.classifier] = 0 }
        let schedule = LearningRateSchedule.cosine(totalSteps: steps, minimum: learningRate * 0.05)
        var sampler = SceneSampler(items: items, options: scenes.options)
        if scenes == .plain {
            sampler.options.itemSizes = itemSizes
            sampler.options.clutterSizing = clutterSizing
        } else {
            sampler.options.itemAbsentShare = noItemShare
            if let minItemContrast { sampler.options.itemContrast = minItemContrast...1 }
            if let maxClutterCoverage { sampler.options.clutterCoverage = 0...maxClutterCoverage }
        }
        let renderer = SceneRenderer(items: items)
        let batch = SceneBatch(capacity: batchSize, localisationSide: net.config.input.height, sourceSide: sourceSide)
        let levels = zip(batch.levels, batch.levelSides).map {
            TwoResolutionSTCNN.SamplingLevel(images: UnsafePointer($0), side: $1)
        }
        var random = RandomSource(seed: seed &+ 0x5EED)
        var targets = [Float](repeating: 0, count: batchSize * 3)
        var window = (
            loss: 0.0, correct: 0, seen: 0, stats: SceneEvaluation(), scale: 0.0, targets: SceneEvaluation(), moved: 0
        )
        var clock = Date()
        print(
            "stn-train video: \(items.count) train items, \(steps) steps × \(batchSize), glimpse \(glimpse)², source \(batch.levelSides)"
        )
        for step in 0...steps {
            if let signal = cancellation.signal {
                try naming(output) { try net.save(to: url) }
                throw ToolError.interrupted(
                    signal: signal,
                    "interrupted at step \(step) of \(steps); \(output) holds the model so far (--resume continues from it, the schedule restarting)"
                )
            }
            if step == steps { break }  // the extra pass only honours a signal from the last step
            let progress = min(1, Double(step) / Double(max(curriculumSteps, 1)))
            // Start with items that nearly fill the canvas, so that the identity window already frames
            // them and the classifier's gradient can guide θ; end at the task's 15–50%.
            if curriculumSteps > 0 { sampler.options.itemFraction = (0.7 - 0.55 * progress)...(1.0 - 0.5 * progress) }
            let layouts = (0..<batchSize).map { _ in
                let size = SceneSampler.trainingFrameSizes[random.int(below: SceneSampler.trainingFrameSizes.count)]
                return sampler.layout(width: size.width, height: size.height, random: &random)
            }
            batch.fill(layouts: layouts, renderer: renderer)
            optimiser.learningRate = schedule.learningRate(base: learningRate, step: step)
            if step == steps - finetuneSteps {
                // Localisation frozen: the classifier adapts to the glimpses the trained θ gives.
                optimiser.groupScale = [.localisation: 0, .classifier: 1]
                net.scalePrior = 0
                print("stn-train video: classifier fine-tuning from step \(step + 1)")
            }
            let result: (loss: Float, correct: Int)
            if boxSupervision {
                for (n, box) in batch.canvasBoxes.prefix(batchSize).enumerated() {
                    targets[3 * n] = Float(box.halfSide); targets[3 * n + 1] = Float(box.centreX);
                    targets[3 * n + 2] = Float(box.centreY)
                }
                result = (
                    net.trainLocalisationStep(
                        localisationInput: batch.localisation, targets: targets, batch: batchSize, optimiser: optimiser),
                    0
                )
            } else if let searchTargets, step < steps - finetuneSteps {
                let found = searchedTargets(
                    net, batch: batch, layouts: layouts, levels: levels, search: WindowSearch(step: searchTargets))
                let t = found.targets
                for n in 0..<batchSize where layouts[n].itemPresent {
                    window.targets.add(
                        theta: (Double(t[3 * n]), Double(t[3 * n + 1]), Double(t[3 * n + 2])), box: batch.canvasBoxes[n]
                    )
                }
                window.moved += found.moved
                let loss = found.targets.withUnsafeBufferPointer {
                    net.trainLocalisationStep(
                        localisationInput: batch.localisation, targets: $0.baseAddress!, batch: batchSize,
                        optimiser: optimiser)
                }
                result = (loss, found.correct)
            } else if let mineNegatives, step >= steps - finetuneSteps {
                result = mineAndTrain(
                    net, batch: batch, layouts: layouts, levels: levels, step: mineNegatives, optimiser: optimiser)
            } else if let searchWindows, step >= steps - finetuneSteps {
                result = trainOnSearchedWindows(
                    net, batch: batch, layouts: layouts, levels: levels, search: WindowSearch(step: searchWindows),
                    optimiser: optimiser)
            } else {
                result = batch.labels.withUnsafeBufferPointer { labels in
                    net.trainStep(
                        localisationInput: batch.localisation, levels: levels, labels: labels.baseAddress!,
                        batch: batchSize, optimiser: optimiser)
                }
            }
            guard result.loss.isFinite else {
                throw ToolError(
                    output,
                    "training diverged at step \(step + 1) (loss \(result.loss)); \(output) keeps its last checkpoint, if any; try a smaller --learning-rate"
                )
            }
            let theta = net.lastTheta!
            for n in 0..<batchSize where batch.labels[n] != SceneLayout.noItemLabel {
                window.stats.add(
                    theta: (Double(theta[3 * n]), Double(theta[3 * n + 1]), Double(theta[3 * n + 2])),
                    box: batch.canvasBoxes[n])
                window.scale += Double(theta[3 * n])
            }
            window.loss += Double(result.loss) * Double(batchSize)
            window.correct += result.correct
            window.seen += batchSize
            if (step + 1) % logEvery == 0 || step + 1 == steps {
                let elapsed = Date().timeIntervalSince(clock)
                print(
                    String(
                        format:
                            "step %5d/%d  loss %.3f  acc %.1f%%  centre-in-box %.1f%%  IoU %.3f  mean s %.3f  min frac %.2f  lr %.2e  %.0f img/s",
                        step + 1, steps, window.loss / Double(window.seen),
                        100 * Double(window.correct) / Double(window.seen),
                        100 * window.stats.centreInBoxRate, window.stats.meanIoU, window.scale / Double(window.seen),
                        sampler.options.itemFraction.lowerBound, optimiser.learningRate, Double(window.seen) / elapsed)
                        + (window.targets.frames > 0
                            ? String(
                                format: "  targets: centre-in-box %.1f%%  IoU %.3f  moved %.1f%%",
                                100 * window.targets.centreInBoxRate, window.targets.meanIoU,
                                100 * Double(window.moved) / Double(window.targets.frames)) : ""))
                fflush(nil)
                window = (0, 0, 0, SceneEvaluation(), 0, SceneEvaluation(), 0)
                clock = Date()
            }
            if (step + 1) % checkpointEvery == 0 || step + 1 == steps {
                // An update can make the weights non-finite before any loss shows it.
                guard net.parameters.allSatisfy({ p in (0..<p.value.count).allSatisfy { p.value.data[$0].isFinite } })
                else {
                    throw ToolError(
                        output,
                        "training diverged at step \(step + 1) (weights no longer finite); \(output) keeps its last checkpoint, if any; try a smaller --learning-rate"
                    )
                }
                try naming(output) { try net.save(to: url) }
            }
        }
        print("stn-train video: wrote \(output)")
    }

    /// One classifier step on θ's glimpses, except that each item-free scene is shown at the window
    /// of its grid (and θ) that the classifier finds most item-like: a hard negative.
    private func mineAndTrain(
        _ net: TwoResolutionSTCNN, batch: SceneBatch, layouts: [SceneLayout],
        levels: [TwoResolutionSTCNN.SamplingLevel], step gridStep: Double, optimiser: any Optimiser
    ) -> (loss: Float, correct: Int) {
        let search = WindowSearch(step: gridStep, scales: [1])
        return classifierStep(net, batch: batch, layouts: layouts, levels: levels, optimiser: optimiser) { windows in
            for (n, layout) in layouts.enumerated() where !layout.itemPresent {
                let candidates = search.candidates(
                    theta: (windows[3 * n], windows[3 * n + 1], windows[3 * n + 2]), width: layout.width,
                    height: layout.height)
                let count = candidates.count / 3
                let scores = candidates.withUnsafeBufferPointer {
                    net.classify(
                        windows: $0.baseAddress!, levels: levels, batch: count,
                        images: Array(repeating: n, count: count))
                }
                let hardest = scores.indices.max { scores[$0].presence < scores[$1].presence }!
                for k in 0..<3 { windows[3 * n + k] = candidates[3 * hardest + k] }
            }
        }
    }

    /// θ's regression targets `[N, 3]`: for each scene with an item, the window of a search for its
    /// class (scored by the classifier's probability of the scene's label); θ itself for item-free
    /// scenes and where the search keeps θ, so that they send no gradient. Also the scenes whose θ
    /// glimpse the classifier gets right, and how many targets differ from θ.
    private func searchedTargets(
        _ net: TwoResolutionSTCNN, batch: SceneBatch, layouts: [SceneLayout],
        levels: [TwoResolutionSTCNN.SamplingLevel], search: WindowSearch
    ) -> (targets: [Float], correct: Int, moved: Int) {
        let theta = net.predictTheta(localisationInput: batch.localisation, batch: layouts.count)
        var targets = Array(UnsafeBufferPointer(start: theta, count: 3 * layouts.count))
        let classes = net.classCount
        let atTheta = targets.withUnsafeBufferPointer {
            net.probabilities(windows: $0.baseAddress!, levels: levels, batch: layouts.count)
        }
        var correct = 0, moved = 0
        for (n, layout) in layouts.enumerated() {
            let row = atTheta[(n * classes)..<((n + 1) * classes)]
            if row.indices.max(by: { row[$0] < row[$1] }) == n * classes + layout.label { correct += 1 }
            guard layout.itemPresent else { continue }
            let found = search.run(
                theta: (targets[3 * n], targets[3 * n + 1], targets[3 * n + 2]),
                atTheta: row[n * classes + layout.label],
                width: layout.width, height: layout.height, score: { $0 },
                classify: { candidates in
                    let count = candidates.count / 3
                    let rows = net.probabilities(
                        windows: candidates, levels: levels, batch: count, images: Array(repeating: n, count: count))
                    return (0..<count).map { rows[$0 * classes + layout.label] }
                })
            let target = [found.window.s, found.window.tx, found.window.ty]
            if target != Array(targets[(3 * n)..<(3 * n + 3)]) { moved += 1 }
            targets.replaceSubrange((3 * n)..<(3 * n + 3), with: target)
        }
        return (targets, correct, moved)
    }

    /// One classifier step on the windows the search follows in each scene (θ where θ's glimpse is
    /// already confident): the glimpses `stn-video --search` classifies, with the scenes' labels.
    private func trainOnSearchedWindows(
        _ net: TwoResolutionSTCNN, batch: SceneBatch, layouts: [SceneLayout],
        levels: [TwoResolutionSTCNN.SamplingLevel], search: WindowSearch, optimiser: any Optimiser
    ) -> (loss: Float, correct: Int) {
        classifierStep(net, batch: batch, layouts: layouts, levels: levels, optimiser: optimiser) { windows in
            let atTheta = windows.withUnsafeBufferPointer {
                net.classify(windows: $0.baseAddress!, levels: levels, batch: layouts.count)
            }
            for (n, layout) in layouts.enumerated() {
                let found = search.run(
                    theta: (windows[3 * n], windows[3 * n + 1], windows[3 * n + 2]), atTheta: atTheta[n],
                    width: layout.width, height: layout.height, score: \.confidence,
                    classify: { candidates in
                        net.classify(
                            windows: candidates, levels: levels, batch: candidates.count / 3,
                            images: Array(repeating: n, count: candidates.count / 3))
                    })
                (windows[3 * n], windows[3 * n + 1], windows[3 * n + 2]) = found.window
            }
        }
    }

    /// One classifier step (localisation untouched) on θ's windows `[N, 3]` as `choose` replaces them.
    private func classifierStep(
        _ net: TwoResolutionSTCNN, batch: SceneBatch, layouts: [SceneLayout],
        levels: [TwoResolutionSTCNN.SamplingLevel], optimiser: any Optimiser, choose: (inout [Float]) -> Void
    ) -> (loss: Float, correct: Int) {
        let theta = net.predictTheta(localisationInput: batch.localisation, batch: layouts.count)
        var windows = Array(UnsafeBufferPointer(start: theta, count: 3 * layouts.count))
        choose(&windows)
        return windows.withUnsafeBufferPointer { w in
            batch.labels.withUnsafeBufferPointer { labels in
                net.trainClassifierStep(
                    windows: w.baseAddress!, levels: levels, labels: labels.baseAddress!, batch: layouts.count,
                    optimiser: optimiser)
            }
        }
    }

    /// Trains the classifier alone on glimpse-like images: one item filling 80–100% of a small
    /// square scene (clutter, noise), rendered at 12–G pixels and enlarged bilinearly to G×G, as a
    /// glimpse of a small item is. Labels only: the classifier learns what a framed item looks like.
    func warmUp(_ net: TwoResolutionSTCNN, items: IDXDataset, cancellation: CancellationToken) throws {
        guard warmupSteps > 0 else { return }
        let side = net.config.transformer.glimpseHeight, plane = side * side, count = 64
        var options = scenes.options
        options.itemFraction = 0.8...1.0
        options.clutterCoverage = nil
        if scenes == .robust {
            options.clutterSide = nil
            options.itemAbsentShare = net.config.noItemClass == nil ? 0 : noItemShare
        }
        let sampler = SceneSampler(items: items, options: options)
        let renderer = SceneRenderer(items: items)
        let optimiser = Adam(learningRate: learningRate)
        var random = RandomSource(seed: seed &+ 0xC1A55)
        var identity = [Float](repeating: 0, count: plane * 2)
        identity.withUnsafeMutableBufferPointer {
            AttentionGridGenerator().forward(
                theta: [1, 0, 0], batch: 1, height: side, width: side, grid: $0.baseAddress!)
        }
        var glimpses = [Float](repeating: 0, count: count * plane)
        var labels = [Int32](repeating: 0, count: count)
        var window = (loss: 0.0, correct: 0, seen: 0)
        for step in 0..<warmupSteps {
            if let signal = cancellation.signal {
                throw ToolError.interrupted(
                    signal: signal,
                    "interrupted during the classifier warm-up (step \(step) of \(warmupSteps)); nothing saved")
            }
            for n in 0..<count {
                let resolution = 12 + random.int(below: side - 11)
                let layout = sampler.layout(width: resolution, height: resolution, random: &random)
                let small = renderer.render(layout, raster: .frame(width: resolution, height: resolution))
                glimpses.withUnsafeMutableBufferPointer { out in
                    BilinearSampler.forward(
                        input: small, batch: 1, channels: 1, inputHeight: resolution, inputWidth: resolution,
                        grid: identity,
                        outputHeight: side, outputWidth: side, padding: .border, output: out.baseAddress! + n * plane)
                }
                labels[n] = Int32(layout.label)
            }
            optimiser.learningRate = LearningRateSchedule.cosine(totalSteps: warmupSteps, minimum: learningRate * 0.3)
                .learningRate(base: learningRate, step: step)
            let result = net.trainClassifierStep(glimpses: glimpses, labels: labels, batch: count, optimiser: optimiser)
            guard result.loss.isFinite else {
                throw ToolError(
                    output,
                    "the classifier warm-up diverged at step \(step + 1) (loss \(result.loss)); try a smaller --learning-rate"
                )
            }
            window.loss += Double(result.loss) * Double(count); window.correct += result.correct; window.seen += count
            if (step + 1) % (logEvery * 2) == 0 || step + 1 == warmupSteps {
                print(
                    String(
                        format: "warm-up %5d/%d  loss %.3f  acc %.1f%%", step + 1, warmupSteps,
                        window.loss / Double(window.seen), 100 * Double(window.correct) / Double(window.seen)))
                fflush(nil)
                window = (0, 0, 0)
            }
        }
    }
}
