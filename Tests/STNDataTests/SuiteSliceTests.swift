import Foundation
import STNCore
import XCTest
@testable import STNData

/// A slice of the held-out suite (`stn-train video-eval --suite`) for the bundled model: three of
/// its buckets at 96 frames each, in smaller frames than the suite's (the model reads the same
/// 64×64 canvas), checked against the model's targets where it meets them and against floors
/// under its measured figures where it does not. The full suite's figures are in the model card.
final class SuiteSliceTests: XCTestCase {
    private var repository: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    private func evaluate(_ name: String, frames: Int = 96) throws -> SceneEvaluation {
        let items: IDXDataset
        do { items = try FashionMNIST.load(.test) } catch {
            throw XCTSkip("Fashion-MNIST t10k not installed: \(error)")
        }
        let url = repository.appendingPathComponent("samples/model/attention-fashion.safetensors")
        let model = try STNModel.load(contentsOf: url)
        let classifier = try TwoResolutionSTCNN(contentsOf: url)
        let index = try XCTUnwrap(SceneSuite.buckets.firstIndex { $0.name == name })
        let bucket = SceneSuite.buckets[index]
        let result = try SceneEvaluation.run(
            model: model, classifier: classifier, items: items, width: 256, height: 144,
            frames: frames, seed: 2024 &+ UInt64(1000 + index), options: bucket.options)
        print("suite slice, \(name), 256x144: \(result)")
        return result
    }

    /// Measured: item-free frames called absent 100 %, clean scenes called present 100 %: the
    /// targets (95 % each) on this slice.
    func testTheModelTellsItemFreeScenesFromScenesWithAnItem() throws {
        let free = try evaluate("item-free scenes")
        XCTAssertTrue(free.measuresPresence)
        XCTAssertEqual(free.absentFrames, 96)
        XCTAssertEqual(free.frames, 0)
        XCTAssertGreaterThanOrEqual(free.absenceRate, 0.95, "\(free)")
        let items = try evaluate("no clutter")
        XCTAssertGreaterThanOrEqual(items.presenceRate, 0.95, "\(items)")
    }

    /// Measured: without clutter 100 % centre in box, IoU 0.742 (the targets, 95 % and 0.6, are
    /// met); nominal clutter 79.2 %, 0.570 (targets not met; floors under the measured figures).
    func testTheModelFindsItemsWithAndWithoutClutter() throws {
        let clean = try evaluate("no clutter")
        XCTAssertGreaterThanOrEqual(clean.centreInBoxRate, 0.95, "\(clean)")
        XCTAssertGreaterThanOrEqual(clean.meanIoU, 0.6, "\(clean)")
        let nominal = try evaluate("nominal")
        XCTAssertGreaterThanOrEqual(nominal.centreInBoxRate, 0.7, "\(nominal)")
        XCTAssertGreaterThanOrEqual(nominal.meanIoU, 0.5, "\(nominal)")
    }
}
