import Foundation
import STNCore
import XCTest
@testable import STNData

/// The synthetic scenes: boxes inside the frame and within 15–50% of the shorter side,
/// determinism, and the square-canvas coordinates of DESIGN.md §2.
final class SceneGeneratorTests: XCTestCase {
    /// Items that are solid white squares (so the drawn box is measurable), labels 0…9.
    private func solidItems(count: Int = 20) -> IDXDataset {
        IDXDataset(
            count: count, height: 28, width: 28, pixels: [UInt8](repeating: 255, count: count * 28 * 28),
            labels: (0..<count).map { UInt8($0 % 10) })
    }

    private let sizes = [(640, 360), (480, 360), (360, 360), (360, 640), (846, 360), (101, 77)]

    func testRandomScenesKeepTheItemInsideTheFrameAndWithinItsSizeRange() {
        let sampler = SceneSampler(items: solidItems())
        var random = RandomSource(seed: 7)
        for (width, height) in sizes {
            for _ in 0..<500 {
                let item = sampler.layout(width: width, height: height, random: &random).item
                let shorter = Double(min(width, height))
                XCTAssert(
                    (0.15 * shorter - 1e-9...0.5 * shorter + 1e-9).contains(item.side),
                    "side \(item.side) in \(width)x\(height)")
                XCTAssertGreaterThanOrEqual(item.centreX - item.side / 2, -1e-9)
                XCTAssertLessThanOrEqual(item.centreX + item.side / 2, Double(width) + 1e-9)
                XCTAssertGreaterThanOrEqual(item.centreY - item.side / 2, -1e-9)
                XCTAssertLessThanOrEqual(item.centreY + item.side / 2, Double(height) + 1e-9)
            }
        }
    }

    /// Sizes in the range either way; the share in the smallest seventh of the range is 1/7
    /// for uniform and ½ − asin(5/7)/π = 0.2467 for arcsine (P(½ + ½ sin φ < 1/7)).
    func testItemSizeDistributions() {
        for (distribution, expected) in [
            (ItemSizeDistribution.uniform, 1.0 / 7), (.arcsine, 0.5 - asin(5.0 / 7) / Double.pi)
        ] {
            var options = SceneOptions()
            options.itemSizes = distribution
            let sampler = SceneSampler(items: solidItems(), options: options)
            var random = RandomSource(seed: 3)
            var small = 0
            let draws = 20000
            for _ in 0..<draws {
                let fraction = sampler.layout(width: 640, height: 360, random: &random).item.side / 360
                XCTAssert((0.15 - 1e-9...0.5 + 1e-9).contains(fraction), "\(distribution): \(fraction)")
                if fraction < 0.2 { small += 1 }
            }
            XCTAssertEqual(Double(small) / Double(draws), expected, accuracy: 0.01, "\(distribution)")
        }
    }

    /// Over `layouts` (scenes or video frames): the range of clutter patch side over item side,
    /// and of patch side over its crop's share of an item (`sourceSide/28`) per shorter side.
    private func clutterRatios(_ layouts: [SceneLayout]) -> (
        patchOverItem: ClosedRange<Double>, reference: ClosedRange<Double>
    ) {
        var overItem = (Double.infinity, -Double.infinity), reference = (Double.infinity, -Double.infinity)
        for layout in layouts {
            let shorter = Double(min(layout.width, layout.height))
            for patch in layout.clutter {
                let r = patch.side / layout.item.side
                overItem = (min(overItem.0, r), max(overItem.1, r))
                let f = patch.side * 28 / Double(patch.sourceSide) / shorter
                reference = (min(reference.0, f), max(reference.1, f))
            }
        }
        return (overItem.0...overItem.1, reference.0...reference.1)
    }

    /// `.item` clutter is always smaller than the item (at most 12/28 × 1.25 = 0.536 of its side);
    /// a video's static clutter is not once the item shrinks, and `.independent` scenes show the
    /// same: patches up to (12/28 × 1.25) × 50/15 = 1.79 item sides, scaled to 15–50 % × 0.8–1.25
    /// of the shorter side.
    func testClutterSizingMatchesTheVideosWhenIndependent() {
        let items = solidItems()
        var random = RandomSource(seed: 5)
        func scenes(_ sizing: ClutterSizing) -> [SceneLayout] {
            var options = SceneOptions()
            options.clutterSizing = sizing
            let sampler = SceneSampler(items: items, options: options)
            return (0..<3000).map { _ in sampler.layout(width: 640, height: 360, random: &random) }
        }
        let item = clutterRatios(scenes(.item))
        XCTAssertLessThanOrEqual(item.patchOverItem.upperBound, 12.0 / 28 * 1.25 + 1e-9)
        XCTAssertGreaterThan(item.patchOverItem.upperBound, 0.5)

        var video = SceneVideo(items: items, width: 640, height: 360, frameRate: 25, seed: 4)
        let videoRatios = clutterRatios((0..<3000).map { _ in video.next().layout })
        var following = SceneVideo(items: items, width: 640, height: 360, frameRate: 25, seed: 4)
        following.clutterFollowsItem = true  // the diagnostic of `stn-train video-eval --clutter-follows-item`
        let followingRatios = clutterRatios((0..<3000).map { _ in following.next().layout })
        XCTAssertLessThanOrEqual(followingRatios.patchOverItem.upperBound, 12.0 / 28 * 1.25 + 1e-9)
        XCTAssertGreaterThan(followingRatios.patchOverItem.upperBound, 0.5)
        let independent = clutterRatios(scenes(.independent))
        for ratios in [videoRatios, independent] {
            XCTAssertGreaterThan(ratios.patchOverItem.upperBound, 1.4)
            XCTAssertLessThanOrEqual(ratios.patchOverItem.upperBound, 12.0 / 28 * 1.25 * 50 / 15 + 1e-9)
            XCTAssertGreaterThanOrEqual(ratios.reference.lowerBound, 0.15 * 0.8 - 1e-9)
            XCTAssertLessThanOrEqual(ratios.reference.upperBound, 0.5 * 1.25 + 1e-9)
        }
    }

    func testVideoFramesStayInsideMoveSmoothlyAndCutScenes() {
        for (width, height) in sizes {
            var video = SceneVideo(items: solidItems(), width: width, height: height, frameRate: 25, seed: 3)
            var previous: SceneTruth?
            var cuts = 0
            let shorter = Double(min(width, height))
            for index in 0..<750 {
                let (layout, truth) = video.next()
                XCTAssertEqual(truth.frame, index)
                XCTAssertEqual(truth.time, Double(index) / 25, accuracy: 1e-12)
                let side = 2 * truth.box.halfSide
                XCTAssert((0.15 * shorter - 1e-9...0.5 * shorter + 1e-9).contains(side))
                XCTAssertGreaterThanOrEqual(truth.box.centreX - side / 2, -1e-9)
                XCTAssertLessThanOrEqual(truth.box.centreX + side / 2, Double(width) + 1e-9)
                XCTAssertGreaterThanOrEqual(truth.box.centreY - side / 2, -1e-9)
                XCTAssertLessThanOrEqual(truth.box.centreY + side / 2, Double(height) + 1e-9)
                XCTAssertEqual(truth.label, layout.item.label)
                if truth.sceneCut { cuts += 1 }
                if let previous, !truth.sceneCut {
                    // Smooth: well under a tenth of the frame per frame at 25 fps.
                    XCTAssertLessThan(abs(truth.box.centreX - previous.box.centreX), 0.05 * Double(width))
                    XCTAssertLessThan(abs(truth.box.centreY - previous.box.centreY), 0.05 * Double(height))
                    XCTAssertLessThan(abs(truth.box.halfSide - previous.box.halfSide), 0.02 * shorter)
                }
                previous = truth
            }
            // 30 s of 2–5 s scenes.
            XCTAssert((5...15).contains(cuts), "\(cuts) cuts in 30 s")
        }
    }

    func testTheSameSeedGivesTheSameVideoAndAnotherSeedAnother() {
        let items = solidItems()
        func frames(_ seed: UInt64) -> ([SceneTruth], [Float]) {
            var video = SceneVideo(items: items, width: 160, height: 90, frameRate: 25, seed: seed)
            var truths: [SceneTruth] = [], pixels: [Float] = []
            for _ in 0..<60 {
                let (layout, truth) = video.next()
                truths.append(truth)
                pixels += SceneRenderer(items: items).render(layout, raster: .frame(width: 160, height: 90))
            }
            return (truths, pixels)
        }
        let (a, pa) = frames(11), (b, pb) = frames(11), (c, _) = frames(12)
        XCTAssertEqual(a, b)
        XCTAssertEqual(pa, pb)
        XCTAssertNotEqual(a, c)
    }

    func testCanvasCoordinatesFollowDesignSection2() {
        let canvas = SquareCanvas(width: 640, height: 360)
        XCTAssertEqual(canvas.side, 640)
        XCTAssertEqual(canvas.frameOffsetY, 140)
        // The frame's centre is the canvas centre; its top edge is at y = 2·140/640 − 1.
        XCTAssertEqual(canvas.normalised(x: 320, y: 180).x, 0, accuracy: 1e-12)
        XCTAssertEqual(canvas.normalised(x: 320, y: 180).y, 0, accuracy: 1e-12)
        XCTAssertEqual(canvas.normalised(x: 0, y: 0).x, -1, accuracy: 1e-12)
        XCTAssertEqual(canvas.normalised(x: 0, y: 0).y, 2 * 140 / 640 - 1, accuracy: 1e-12)
        XCTAssertEqual(canvas.normalised(x: 640, y: 360).y, 1 - 2 * 140 / 640, accuracy: 1e-12)
        let back = canvas.pixels(x: 0.3, y: -0.2)
        XCTAssertEqual(canvas.normalised(x: back.x, y: back.y).x, 0.3, accuracy: 1e-12)
        XCTAssertEqual(canvas.normalised(x: back.x, y: back.y).y, -0.2, accuracy: 1e-12)
        // Portrait: the offset is horizontal.
        let portrait = SquareCanvas(width: 360, height: 640)
        XCTAssertEqual(portrait.normalised(x: 0, y: 320).x, 2 * 140 / 640 - 1, accuracy: 1e-12)
        // A 64-pixel box has half-side 64/640 = 0.1.
        XCTAssertEqual(canvas.normalisedHalfSide(pixels: 64), 0.1, accuracy: 1e-12)

        let item = SceneLayout.Item(index: 0, label: 3, centreX: 100, centreY: 300, side: 64)
        let layout = SceneLayout(
            width: 640, height: 360, backgroundLevel: 0, gradientX: 0, gradientY: 0, clutter: [], item: item, noise: 0,
            noiseSeed: 0)
        let box = layout.canvasBox
        XCTAssertEqual(box.centreX, 2 * 100 / 640 - 1, accuracy: 1e-12)
        XCTAssertEqual(box.centreY, 2 * (300 + 140) / 640 - 1, accuracy: 1e-12)
        XCTAssertEqual(box.halfSide, 0.1, accuracy: 1e-12)
        let truth = SceneTruth(frame: 0, time: 0, layout: layout, sceneCut: false)
        XCTAssertEqual(truth.csvRow.split(separator: ",").count, SceneTruth.csvHeader.split(separator: ",").count)
        XCTAssertEqual(truth.csvRow, "0,0.000000,3,\"Dress\",100.000,300.000,64.000,-0.687500,0.375000,0.100000,0")
    }

    func testTheRenderedItemSitsWhereItsCanvasBoxSays() {
        let items = solidItems()
        let item = SceneLayout.Item(index: 0, label: 0, centreX: 200, centreY: 120, side: 96)
        let layout = SceneLayout(
            width: 640, height: 360, backgroundLevel: 0, gradientX: 0, gradientY: 0, clutter: [], item: item, noise: 0,
            noiseSeed: 0)
        let side = 160
        let canvas = SceneRenderer(items: items).render(layout, raster: .canvas(layout.canvas, side: side))
        // Pixels whose centres are well inside the box are white; well outside, black.
        let box = layout.canvasBox
        for y in 0..<side {
            for x in 0..<side {
                let nx = (2 * Double(x) + 1) / Double(side) - 1, ny = (2 * Double(y) + 1) / Double(side) - 1
                let inside =
                    abs(nx - box.centreX) < box.halfSide - 2.0 / Double(side)
                    && abs(ny - box.centreY) < box.halfSide - 2.0 / Double(side)
                let outside =
                    abs(nx - box.centreX) > box.halfSide + 2.0 / Double(side)
                    || abs(ny - box.centreY) > box.halfSide + 2.0 / Double(side)
                if inside { XCTAssertEqual(canvas[y * side + x], 1, accuracy: 1e-5) }
                if outside { XCTAssertEqual(canvas[y * side + x], 0, accuracy: 1e-5) }
            }
        }
        // Total ink equals the box's area in canvas pixels (the filters preserve mass).
        let area = pow(box.halfSide * Double(side), 2)
        XCTAssertEqual(Double(canvas.reduce(0, +)), area, accuracy: area * 0.01)
    }

    func testAreaDownscaleCentresTheFrameLikeTheLumaDownscaler() {
        let (width, height) = (640, 360)
        let frame = [Float](repeating: 0.5, count: width * height)
        var canvas = [Float](repeating: 9, count: 64 * 64)
        frame.withUnsafeBufferPointer { f in
            canvas.withUnsafeMutableBufferPointer {
                SceneBatch.areaDownscale(
                    frame: f.baseAddress!, width: width, height: height, side: 64, into: $0.baseAddress!)
            }
        }
        // 360·64/640 = 36 rows, from row 14.
        for y in 0..<64 {
            let expected: Float = (14..<50).contains(y) ? 0.5 : 0
            for x in 0..<64 { XCTAssertEqual(canvas[y * 64 + x], expected, accuracy: 1e-5, "(\(x), \(y))") }
        }
    }

    func testIntersectionOverUnionOfSquares() {
        let a = SceneSquare(centreX: 0, centreY: 0, halfSide: 0.5)
        XCTAssertEqual(a.intersectionOverUnion(a), 1, accuracy: 1e-12)
        XCTAssertEqual(
            a.intersectionOverUnion(SceneSquare(centreX: 0, centreY: 0, halfSide: 0.25)), 0.25, accuracy: 1e-12)
        XCTAssertEqual(
            a.intersectionOverUnion(SceneSquare(centreX: 0.5, centreY: 0, halfSide: 0.5)), 0.5 / 1.5, accuracy: 1e-12)
        XCTAssertEqual(a.intersectionOverUnion(SceneSquare(centreX: 2, centreY: 0, halfSide: 0.5)), 0)
        XCTAssertEqual(SceneSquare(attention: (s: -0.5, tx: 0, ty: 0)).halfSide, 0.5)
    }

    func testEvaluationCountsHitsNearAndFarMissesAndSmallItems() {
        let box = SceneSquare(centreX: 0, centreY: 0, halfSide: 0.1)
        var evaluation = SceneEvaluation()
        evaluation.add(theta: (s: 0.1, tx: 0.1, ty: -0.1), box: box, itemFraction: 0.2)  // on the corner: a hit
        evaluation.add(theta: (s: 0.1, tx: 0.15, ty: 0), box: box, itemFraction: 0.2)  // near
        evaluation.add(theta: (s: 0.1, tx: 0, ty: -0.2), box: box, itemFraction: 0.3)  // near, on the grown box's edge
        evaluation.add(theta: (s: 0.1, tx: 0.21, ty: 0), box: box, itemFraction: 0.3)  // far
        XCTAssertEqual(evaluation.frames, 4)
        XCTAssertEqual(evaluation.centresInBox, 1)
        XCTAssertEqual(evaluation.nearMisses, 2)
        XCTAssertEqual(evaluation.smallItemFrames, 2)
        XCTAssertEqual(evaluation.smallItemCentresInBox, 1)
        XCTAssertEqual(
            evaluation.missSummary,
            "misses 3: 2 near the box (inside it doubled in side), 1 far; items under 25% of the shorter side: 2 frames, centre-in-box 50.00%"
        )
        var merged = SceneEvaluation()
        merged.merge(evaluation); merged.merge(evaluation)
        XCTAssertEqual([merged.nearMisses, merged.smallItemFrames, merged.smallItemCentresInBox], [4, 4, 2])
    }
}
