import XCTest

import STNCore

/// The search grid's windows, in normalised canvas coordinates (DESIGN.md §2): a 640×360 picture
/// spans x ∈ [−1, 1] and y ∈ [−0.5625, 0.5625] of its square canvas.
final class WindowGridTests: XCTestCase {
    func testCentresAreEvenlySpacedAndKeepEachWindowInsideThePicture() {
        let windows = WindowGrid.windows(scale: 0.25, width: 640, height: 360, step: 1)
        // x: room 1 − 0.25 = 0.75, ⌈1.5 / 0.25⌉ + 1 = 7 centres; y: room 0.3125, ⌈0.625 / 0.25⌉ + 1 = 4.
        let xs = [-0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75]
        let ys = [-0.3125, -0.3125 / 3, 0.3125 / 3, 0.3125]
        XCTAssertEqual(windows.count, 28)
        for (k, w) in windows.enumerated() {
            XCTAssertEqual(w.s, 0.25)
            XCTAssertEqual(w.tx, xs[k % 7], accuracy: 1e-12)
            XCTAssertEqual(w.ty, ys[k / 7], accuracy: 1e-12)
        }
    }

    func testAWindowTallerThanThePictureIsCentredAndTheCountIsCapped() {
        let tall = WindowGrid.windows(scale: 0.6, width: 640, height: 360, step: 1)
        XCTAssertEqual(tall.map(\.ty), Array(repeating: 0, count: 3))
        XCTAssertEqual(tall.count, 3, "x: room 0.4, ⌈0.8 / 0.6⌉ + 1 = 3")
        for (w, x) in zip(tall, [-0.4, 0, 0.4]) { XCTAssertEqual(w.tx, x, accuracy: 1e-12) }
        let tiny = WindowGrid.windows(scale: 0.001, width: 360, height: 640, step: 1, maxPerSide: 5)
        XCTAssertEqual(tiny.count, 25)
        XCTAssertEqual(tiny.first!.tx, -0.5625 + 0.001, accuracy: 1e-12)
        XCTAssertEqual(tiny.last!.ty, 1 - 0.001, accuracy: 1e-12)
    }

    func testTheSearchFollowsTheMostItemLikeWindowUnlessItAgreesWithTheNetwork() {
        let search = WindowSearch(step: 1, agreement: 1)
        let candidates: [Float] = [0.2, 0, 0, 0.2, 0.15, 0.1, 0.2, 0.6, 0.3]
        // The second window's centre is 0.18 from θ's, within one half-side (0.2): θ is kept.
        XCTAssertEqual(search.choose(candidates: candidates, presence: [0.4, 0.9, 0.5]), 0)
        XCTAssertEqual(search.choose(candidates: candidates, presence: [0.4, 0.5, 0.9]), 2)
        XCTAssertEqual(search.choose(candidates: candidates, presence: [0.9, 0.5, 0.9]), 0, "a tie keeps θ")
        XCTAssertEqual(WindowSearch(agreement: 0).choose(candidates: candidates, presence: [0.4, 0.9, 0.5]), 1)
        XCTAssertTrue(search.searches(presence: 0.89))
        XCTAssertFalse(search.searches(presence: 0.9), "from presence 0.9 on, θ is kept unsearched")
        let all = search.candidates(theta: (0.25, 0.1, 0.2), width: 640, height: 360)
        XCTAssertEqual(Array(all.prefix(3)), [0.25, 0.1, 0.2])
        XCTAssertEqual(all.count, 3 * 29, "θ and the 7 × 4 grid")
        XCTAssertEqual(Array(all[3..<6]), [0.25, -0.75, -0.3125])
    }
}
