import Foundation
import XCTest
import STNCore
@testable import STNData

final class DistortionTests: XCTestCase {
    /// A 28×28 set of 3 items: an off-centre bright block, an L shape, a diagonal (asymmetric, so
    /// wrong rotations show).
    static let set: IDXDataset = {
        var pixels = [UInt8](repeating: 0, count: 3 * 784)
        for i in 6..<14 { for j in 9..<20 { pixels[i * 28 + j] = 200 } }
        for i in 4..<24 { pixels[784 + i * 28 + 8] = 255 }
        for j in 8..<20 { pixels[784 + 23 * 28 + j] = 255 }
        for k in 3..<25 { pixels[2 * 784 + k * 28 + k] = UInt8(100 + 5 * k) }
        return IDXDataset(count: 3, height: 28, width: 28, pixels: pixels, labels: [0, 1, 2])
    }()

    func render(_ parameters: DistortionParameters, index: Int = 0, side: Int = 28) -> [Float] {
        var output = [Float](repeating: -1, count: side * side)
        output.withUnsafeMutableBufferPointer {
            DistortionRenderer.render(parameters, index: index, of: Self.set, into: $0.baseAddress!, side: side)
        }
        return output
    }

    func original(_ index: Int) -> [Float] { Self.set.image(index).map { Float($0) / 255 } }

    func assertClose(
        _ a: [Float], _ b: [Float], _ tolerance: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, file: file, line: line)
    }

    func testIdentities() {
        for index in 0..<3 {
            assertClose(render(.none, index: index), original(index), 0)
            assertClose(render(.rotation(degrees: 0), index: index), original(index), 0)
            assertClose(
                render(.rotationTranslationScale(degrees: 0, scale: 1, dx: 0, dy: 0), index: index), original(index), 0)
            assertClose(
                render(.projective(scale: 1, cornerOffsets: Array(repeating: 0, count: 8)), index: index),
                original(index), 1e-6)
            // A thin-plate spline reproduces the identity (an affine map) up to rounding.
            assertClose(
                render(.elastic(scale: 1, controlOffsets: Array(repeating: 0, count: 32)), index: index),
                original(index), 1e-6)
        }
    }

    func testRotationBy90IsCounterClockwiseOnScreen() {
        // Output (i, j) reads source (row j, column 27 − i): the right edge comes to the top.
        let rotated = render(.rotation(degrees: 90), index: 1), source = original(1)
        var expected = [Float](repeating: 0, count: 784)
        for i in 0..<28 { for j in 0..<28 { expected[i * 28 + j] = source[j * 28 + 27 - i] } }
        assertClose(rotated, expected, 1e-5)
    }

    func testRTSKeepsTheItemInsideTheCanvas() {
        // The same draw rendered on a canvas twice as large loses nothing; the 42×42 canvas must hold as much.
        for index in 0..<3 {
            for seed in 0..<40 as Range<UInt64> {
                let view = DistortedDataset(Self.set, distortion: .rotationTranslationScale, seed: seed)
                let parameters = view.parameters(index: index, pass: 0)
                guard case let .rotationTranslationScale(degrees, scale, _, _) = parameters else { return XCTFail() }
                XCTAssert(abs(degrees) <= 45 && Distortion.rtsScaleRange.contains(scale))
                var output = [Float](repeating: 0, count: 42 * 42)
                output.withUnsafeMutableBufferPointer { view.render(index: index, pass: 0, into: $0.baseAddress!) }
                XCTAssertEqual(view.side, 42)
                let inside = output.reduce(0, +), whole = render(parameters, index: index, side: 84).reduce(0, +)
                XCTAssertEqual(inside, whole, accuracy: 1e-3 * whole, "item \(index) seed \(seed)")
            }
        }
    }

    func testTranslatedClutteredPlacesTheItemAndEightByEightPatches() {
        let view = DistortedDataset(Self.set, distortion: .translatedCluttered, seed: 3)
        guard case let .translatedCluttered(x, y, patches) = view.parameters(index: 0, pass: 0) else {
            return XCTFail()
        }
        XCTAssertEqual(patches.count, 6)
        XCTAssert(patches.allSatisfy { $0.item != 0 && $0.x <= 52 && $0.y <= 52 && $0.sourceX <= 20 })
        var output = [Float](repeating: 0, count: 3600)
        output.withUnsafeMutableBufferPointer { view.render(index: 0, pass: 0, into: $0.baseAddress!) }
        let source = original(0)
        for i in 0..<28 {
            for j in 0..<28 { XCTAssertGreaterThanOrEqual(output[(y + i) * 60 + x + j], source[i * 28 + j]) }
        }
    }

    func testSamplesAreDeterministicBySeedAndVaryByPass() {
        for distortion in Distortion.allCases where distortion != .none {
            let a = DistortedDataset(Self.set, distortion: distortion, seed: 7),
                b = DistortedDataset(Self.set, distortion: distortion, seed: 7)
            let c = DistortedDataset(Self.set, distortion: distortion, seed: 8)
            XCTAssertEqual(a.parameters(index: 1, pass: 2), b.parameters(index: 1, pass: 2))
            XCTAssertNotEqual(a.parameters(index: 1, pass: 2), c.parameters(index: 1, pass: 2))
            XCTAssertNotEqual(a.parameters(index: 1, pass: 2), a.parameters(index: 1, pass: 3))
            var first = [Float](repeating: 0, count: a.sampleSize), second = first
            var labels: [Int32] = [0]
            first.withUnsafeMutableBufferPointer { p in
                labels.withUnsafeMutableBufferPointer {
                    a.fill(indices: [2], pass: 0, images: p.baseAddress!, labels: $0.baseAddress!)
                }
            }
            second.withUnsafeMutableBufferPointer { b.render(index: 2, pass: 0, into: $0.baseAddress!) }
            XCTAssertEqual(first, second)
            XCTAssertEqual(labels, [2])
        }
    }

    func testParameterRanges() {
        var random = RandomSource(seed: 11)
        var cornerSquares = 0.0, controlSquares = 0.0
        for _ in 0..<500 {
            guard
                case let .rotation(degrees) = DistortionParameters.draw(
                    .rotation, index: 0, in: Self.set, random: &random),
                case let .projective(s1, corners) = DistortionParameters.draw(
                    .projective, index: 0, in: Self.set, random: &random),
                case let .elastic(s2, controls) = DistortionParameters.draw(
                    .elastic, index: 0, in: Self.set, random: &random)
            else { return XCTFail() }
            XCTAssert(
                abs(degrees) <= 90 && Distortion.warpScaleRange.contains(s1) && Distortion.warpScaleRange.contains(s2))
            XCTAssertEqual(corners.count, 8); XCTAssertEqual(controls.count, 32)
            cornerSquares += corners.map { $0 * $0 }.reduce(0, +) / 8
            controlSquares += controls.map { $0 * $0 }.reduce(0, +) / 32
        }
        XCTAssertEqual((cornerSquares / 500).squareRoot(), 5, accuracy: 0.3)
        XCTAssertEqual((controlSquares / 500).squareRoot(), 1.5, accuracy: 0.05)
    }

    func testHomographyAndSplineInterpolateTheirPoints() throws {
        let from = [(-14.0, -14.0), (12.0, -15.0), (16.0, 13.0), (-13.0, 11.0)],
            to = [(-14.0, -14.0), (14.0, -14.0), (14.0, 14.0), (-14.0, 14.0)]
        let h = try XCTUnwrap(DistortionRenderer.homography(from: from, to: to))
        for ((x, y), (u, v)) in zip(from, to) {
            let w: Double = h[6] * x + h[7] * y + 1
            let mappedX: Double = (h[0] * x + h[1] * y + h[2]) / w
            let mappedY: Double = (h[3] * x + h[4] * y + h[5]) / w
            XCTAssertEqual(mappedX, u, accuracy: 1e-9)
            XCTAssertEqual(mappedY, v, accuracy: 1e-9)
        }
        var points: [(Double, Double)] = [], values: [(Double, Double)] = []
        for k in 0..<16 {
            let x: Double = Double(k % 4) * 9 - 13 + Double(k % 3)
            let y: Double = Double(k / 4) * 9 - 14 + Double(k % 2)
            points.append((x, y))
            values.append((x * 0.9 + 1, y + 0.3 * sin(x)))
        }
        let spline = try XCTUnwrap(ThinPlateSpline(from: points, to: values))
        for (p, value) in zip(points, values) {
            let mapped = spline.map(p.0, p.1)
            XCTAssertEqual(mapped.0, value.0, accuracy: 1e-8); XCTAssertEqual(mapped.1, value.1, accuracy: 1e-8)
        }
    }
}
