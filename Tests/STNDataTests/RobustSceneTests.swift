import Foundation
import XCTest
import STNCore
@testable import STNData

/// The randomised scene statistics and the held-out suite.
final class RobustSceneTests: XCTestCase {
    private func solidItems(count: Int = 20) -> IDXDataset {
        IDXDataset(
            count: count, height: 28, width: 28, pixels: [UInt8](repeating: 255, count: count * 28 * 28),
            labels: (0..<count).map { UInt8($0 % 10) })
    }

    private func layout(item: Bool, contrast: Float = 1, blur: Float = 0) -> SceneLayout {
        var layout = SceneLayout(
            width: 200, height: 100, backgroundLevel: 0, gradientX: 0, gradientY: 0, clutter: [],
            item: SceneLayout.Item(index: 0, label: 7, centreX: 100, centreY: 50, side: 40), noise: 0, noiseSeed: 0)
        layout.itemPresent = item; layout.itemIntensity = contrast; layout.blur = blur
        return layout
    }

    func testAnItemFreeSceneDrawsNoItemAndIsLabelledNoItem() {
        let renderer = SceneRenderer(items: solidItems())
        let frame = renderer.render(layout(item: false), raster: .frame(width: 200, height: 100))
        XCTAssertEqual(frame.max(), 0)
        XCTAssertEqual(layout(item: false).label, SceneLayout.noItemLabel)
        XCTAssertEqual(layout(item: true).label, 7)
    }

    func testItemContrastScalesTheInkAndBlurKeepsItsMass() {
        let renderer = SceneRenderer(items: solidItems())
        let full = renderer.render(layout(item: true), raster: .frame(width: 200, height: 100))
        let dim = renderer.render(layout(item: true, contrast: 0.4), raster: .frame(width: 200, height: 100))
        XCTAssertEqual(full[50 * 200 + 100], 1, accuracy: 1e-6)
        XCTAssertEqual(dim[50 * 200 + 100], 0.4, accuracy: 1e-6)
        XCTAssertEqual(Double(full.reduce(0, +)), 1600, accuracy: 1)
        let blurred = renderer.render(layout(item: true, blur: 2), raster: .frame(width: 200, height: 100))
        XCTAssertEqual(Double(blurred.reduce(0, +)), 1600, accuracy: 1)  // the item is far from the frame's edges
        XCTAssertLessThan(blurred[50 * 200 + 80], 0.6)  // the box's left edge is soft
        XCTAssertGreaterThan(blurred[50 * 200 + 79], 0.05)
    }

    func testClutterCoverageReachesItsShareOfTheFrame() {
        var options = SceneOptions()
        options.clutterSizing = .independent
        options.clutterSide = 0.1...0.5
        for coverage in [0.0, 0.25, 0.5] {
            options.clutterCoverage = coverage...coverage
            let sampler = SceneSampler(items: solidItems(), options: options)
            var random = RandomSource(seed: 3)
            for _ in 0..<20 {
                let scene = sampler.layout(width: 640, height: 360, random: &random)
                let area = scene.clutter.reduce(0) { $0 + $1.side * $1.side } / (640 * 360)
                if coverage == 0 {
                    XCTAssertTrue(scene.clutter.isEmpty)
                } else {
                    XCTAssertGreaterThanOrEqual(area, coverage)
                    XCTAssertLessThan(area, coverage + 0.05)  // one patch is at most 0.5 × 180 px
                }
            }
        }
    }

    func testTheRobustProfileDrawsItemFreeScenesAtItsShare() {
        let sampler = SceneSampler(items: solidItems(), options: .robustTraining)
        var random = RandomSource(seed: 11)
        let absent = (0..<2000).filter { _ in !sampler.layout(width: 640, height: 360, random: &random).itemPresent }
            .count
        XCTAssertEqual(Double(absent) / 2000, 0.1, accuracy: 0.02)
    }

    func testDriftingClutterMovesAndStillClutterDoesNot() {
        var options = SceneSuite.nominal
        options.clutterDrift = 0.1...0.1
        var drifting = SceneVideo(
            items: solidItems(), width: 640, height: 360, frameRate: 25, seed: 5, options: options)
        var still = SceneVideo(
            items: solidItems(), width: 640, height: 360, frameRate: 25, seed: 5, options: SceneSuite.nominal)
        let a0 = drifting.next().layout, b0 = still.next().layout
        let a1 = drifting.next().layout, b1 = still.next().layout
        XCTAssertFalse(a0.clutter.isEmpty)
        for (p, q) in zip(a0.clutter, a1.clutter) {
            // 0.1 shorter sides per second = 36 px/s = 1.44 px per frame.
            XCTAssertEqual(hypot(q.x - p.x, q.y - p.y), 1.44, accuracy: 1e-6)  // the speed is drawn as a Float
        }
        XCTAssertEqual(b0.clutter, b1.clutter)
    }

    func testTheSuiteSpansPastTheTrainingRanges() {
        let training = SceneOptions.robustTraining
        let buckets = SceneSuite.buckets
        XCTAssertGreaterThan(
            buckets.compactMap { $0.options.clutterCoverage?.upperBound }.max()!, training.clutterCoverage!.upperBound)
        XCTAssertGreaterThan(
            buckets.compactMap { $0.options.clutterSide?.upperBound }.max()!, training.clutterSide!.upperBound)
        XCTAssertGreaterThan(
            buckets.map(\.options.backgroundLevel.upperBound).max()!, training.backgroundLevel.upperBound)
        XCTAssertGreaterThan(buckets.map(\.options.noise.upperBound).max()!, training.noise.upperBound)
        XCTAssertGreaterThan(buckets.map(\.options.blur.upperBound).max()!, training.blur.upperBound)
        XCTAssertLessThan(buckets.map(\.options.itemContrast.lowerBound).min()!, training.itemContrast.lowerBound)
        XCTAssertEqual(Set(buckets.compactMap(\.crf)), [18, 35])
        XCTAssertTrue(
            buckets.contains { $0.width == 1920 && $0.height == 1080 }
                && buckets.contains { $0.width == 320 && $0.height == 240 })
        XCTAssertTrue(buckets.contains { $0.width * 16 == $0.height * 9 })  // 9:16
        XCTAssertTrue(buckets.contains { $0.width * 100 == $0.height * 235 })  // 2.35:1
        XCTAssertEqual(buckets.filter(\.itemFree).count, 1)
    }
}
