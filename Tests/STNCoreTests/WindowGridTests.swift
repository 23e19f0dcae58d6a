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

    func testTheSearchFollowsTheSurestWindowUnlessItAgreesWithTheNetwork() {
        let search = WindowSearch(step: 1, agreement: 1, scales: [1])
        let candidates: [Float] = [0.2, 0, 0, 0.2, 0.15, 0.1, 0.2, 0.6, 0.3]
        // The second window's centre is 0.18 from θ's, within one half-side (0.2): θ is kept.
        XCTAssertEqual(search.choose(candidates: candidates, scores: [0.4, 0.9, 0.5]), 0)
        XCTAssertEqual(search.choose(candidates: candidates, scores: [0.4, 0.5, 0.9]), 2)
        XCTAssertEqual(search.choose(candidates: candidates, scores: [0.9, 0.5, 0.9]), 0, "a tie keeps θ")
        XCTAssertEqual(WindowSearch(agreement: 0).choose(candidates: candidates, scores: [0.4, 0.9, 0.5]), 1)
        XCTAssertTrue(search.searches(confidence: 0.49))
        XCTAssertFalse(search.searches(confidence: 0.5), "from confidence 0.5 on, θ is kept unsearched")
        let all = search.candidates(theta: (0.25, 0.1, 0.2), width: 640, height: 360)
        XCTAssertEqual(Array(all.prefix(3)), [0.25, 0.1, 0.2])
        XCTAssertEqual(all.count, 3 * 29, "θ and the 7 × 4 grid")
        XCTAssertEqual(Array(all[3..<6]), [0.25, -0.75, -0.3125])
        // The default adds a grid at 0.625 × 0.25 = 0.15625: x room 0.84375, ⌈1.6875 / 0.15625⌉ + 1
        // = 12 centres; y room 0.40625, ⌈0.8125 / 0.15625⌉ + 1 = 7.
        let both = WindowSearch().candidates(theta: (0.25, 0.1, 0.2), width: 640, height: 360)
        XCTAssertEqual(both.count, 3 * (1 + 28 + 84))
        XCTAssertEqual(Array(both[(3 * 29)..<(3 * 30)]), [0.15625, -0.84375, -0.40625])
    }

    func testNeighboursShiftByHalfTheSpacingThenAQuarterAndStayInsideThePicture() {
        let search = WindowSearch(step: 1)
        let first = search.neighbours(of: (0.2, 0.1, -0.1), round: 0, width: 640, height: 360)
        let expected: [Float] = [
            0.2, 0.2, -0.1, 0.2, 0.0, -0.1, 0.2, 0.1, 0.0, 0.2, 0.1, -0.2, 0.25, 0.1, -0.1, 0.16, 0.1, -0.1
        ]
        XCTAssertEqual(first.count, 18)
        for (a, b) in zip(first, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        let second = search.neighbours(of: (0.2, 0.1, -0.1), round: 1, width: 640, height: 360)
        XCTAssertEqual(second[1], 0.15, accuracy: 1e-6, "a quarter of the spacing: 0.05")
        XCTAssertEqual(second[12], 0.225, accuracy: 1e-6, "12.5 % larger")
        // At the picture's lower edge (y room 0.5625 − 0.2): the downward move is held inside.
        let edge = search.neighbours(of: (0.2, 0, 0.35), round: 0, width: 640, height: 360)
        XCTAssertEqual(edge[8], 0.3625, accuracy: 1e-6)
        XCTAssertEqual(edge[11], 0.25, accuracy: 1e-6)
    }

    /// With a classifier whose confidence falls with the distance from one window, the search
    /// finds the grid window nearest it and refines towards it; a confident θ is not searched.
    func testTheSearchRefinesTheSurestWindowsTowardsTheItem() {
        let item: (s: Float, tx: Float, ty: Float) = (0.18, -0.58, 0.27)
        func confidence(_ w: ArraySlice<Float>) -> Float {
            let d =
                abs(w[w.startIndex + 1] - item.tx) + abs(w[w.startIndex + 2] - item.ty)
                + abs(w[w.startIndex] - item.s)
            return 1 / (1 + 10 * d)
        }
        var batches: [Int] = []
        let classify = { (windows: [Float]) -> [Float] in
            batches.append(windows.count / 3)
            return stride(from: 0, to: windows.count, by: 3).map { confidence(windows[$0..<($0 + 3)]) }
        }
        let theta: (s: Float, tx: Float, ty: Float) = (0.2, 0.5, -0.2)
        let plain = WindowSearch(step: 1, refinements: 0, scales: [1])
        let coarse = plain.run(
            theta: theta, atTheta: confidence([0.2, 0.5, -0.2]), width: 640, height: 360, score: { $0 },
            classify: classify)
        // The 640×360 grid at s 0.2: x from −0.8 in steps of 0.2 (9), y from −0.3625 in steps of
        // 0.18125 (5); nearest the item: (−0.6, 0.18125).
        XCTAssertEqual(coarse.window.tx, -0.6, accuracy: 1e-6)
        XCTAssertEqual(coarse.window.ty, 0.18125, accuracy: 1e-6)
        XCTAssertEqual(batches, [9 * 5])
        batches = []
        let refined = WindowSearch(step: 1, refinements: 2, keep: 6, scales: [1]).run(
            theta: theta, atTheta: confidence([0.2, 0.5, -0.2]), width: 640, height: 360, score: { $0 },
            classify: classify)
        XCTAssertEqual(batches, [45, 7 * 6, 7 * 6], "the grid, then two rounds of six neighbours of θ and six windows")
        XCTAssertGreaterThan(refined.observation, coarse.observation)
        // Round one moves the window below, (−0.6, 0.3625), up by 0.1 to 0.2625 (distance 0.0475,
        // against 0.05125 for the nearest window moved down to 0.28125); round two shrinks it by
        // 12.5 % to s 0.1778 (item 0.18).
        XCTAssertEqual(refined.window.tx, -0.6, accuracy: 1e-6)
        XCTAssertEqual(refined.window.ty, 0.2625, accuracy: 1e-6)
        XCTAssertEqual(refined.window.s, 0.2 / 1.125, accuracy: 1e-6)
        batches = []
        let kept = WindowSearch().run(
            theta: theta, atTheta: 0.95, width: 640, height: 360, score: { $0 }, classify: classify)
        XCTAssertEqual(kept.window.tx, 0.5)
        XCTAssertEqual(batches, [], "a confident θ is kept without classifying a window")
        let unsure = WindowSearch().run(
            theta: theta, atTheta: Float(0.1), width: 640, height: 360, score: { $0 },
            classify: { $0.indices.filter { $0 % 3 == 0 }.map { Float($0) * 1e-5 } })
        XCTAssertEqual(unsure.window.tx, 0.5, "no window reaches confidence 0.2: θ is kept")
        XCTAssertEqual(unsure.observation, 0.1)
    }
}
