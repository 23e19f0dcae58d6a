import FrameSampling
import XCTest

/// The sampler against `ReferenceSampler`: exact 8-bit equality, except where the reference value
/// is within 1e-3 of a rounding boundary (x.5), where ±1 is allowed; those cases must be rare.
final class ReferenceComparisonTests: XCTestCase {
    struct Case {
        var name: String
        var transform: SourceTransform
    }

    static let rotation: SourceTransform = {
        let angle = 0.3, scale = 0.8
        return SourceTransform(affine: [
            scale * cos(angle), -scale * sin(angle), 0.1,
            scale * sin(angle), scale * cos(angle), -0.05
        ])
    }()

    static let transforms: [Case] = [
        Case(name: "identity", transform: .identity),
        Case(name: "attention zoom-in", transform: SourceTransform(attention: 0.45, tx: 0.2, ty: -0.13)),
        Case(name: "attention zoom-out s=1.7", transform: SourceTransform(attention: 1.7, tx: 0.11, ty: 0.07)),
        Case(name: "attention off the frame", transform: SourceTransform(attention: 0.5, tx: 0.9, ty: -0.8)),
        Case(name: "affine mirror", transform: SourceTransform(affine: [-0.9, 0, 0.05, 0, 1.1, 0.02])),
        Case(name: "affine rotation", transform: rotation),
        Case(name: "affine shear zoom-out", transform: SourceTransform(affine: [1.3, 0.4, -0.1, -0.2, 1.5, 0.1])),
        // Source coordinates beyond ±2³⁰ px: the per-pixel kernel's Double walk.
        Case(name: "affine extreme zoom-out", transform: SourceTransform(affine: [3e7, 1e-3, 0.2, 0.01, 2e7, -0.1])),
        Case(
            name: "projective", transform: SourceTransform(projective: [0.9, 0.1, 0.05, -0.05, 1.0, 0.02, 0.15, -0.1])),
        Case(
            name: "projective past infinity",
            transform: SourceTransform(projective: [1, 0, 0, 0, 1, 0, 0.9, 0.6]))
    ]

    /// (input, output) luma sizes: odd, even, portrait, and a strong downscale (which takes the
    /// per-pixel kernel even for axis-aligned transforms).
    static let sizes: [(Int, Int, Int, Int)] = [
        (321, 241, 129, 97),
        (320, 180, 96, 96),
        (241, 321, 99, 131),
        (321, 241, 21, 15),
        (33, 17, 64, 48)
    ]

    func testAgainstDoublePrecisionReference() {
        var compared = 0, nearBoundary = 0, roundedOtherWay = 0, mismatches = 0, horizon = 0
        for (inputWidth, inputHeight, outputWidth, outputHeight) in Self.sizes {
            let input = TestFrame(width: inputWidth, height: inputHeight)
            input.fillRandom(seed: UInt64(inputWidth * 1000 + inputHeight))
            for testCase in Self.transforms {
                for canvas in Canvas.allCases {
                    for padding in PaddingMode.allCases {
                        for range in [ColorRange.limited, .full] {
                            let output = sampled(
                                input, testCase.transform, outputWidth: outputWidth,
                                outputHeight: outputHeight, canvas: canvas, padding: padding, range: range)
                            XCTAssertTrue(output.paddingIntact, "wrote past a row's width")
                            let reference = ReferenceSampler(
                                inputWidth: inputWidth, inputHeight: inputHeight, outputWidth: outputWidth,
                                outputHeight: outputHeight, canvas: canvas, padding: padding, range: range)
                            let theta = testCase.transform.elements
                            for plane in 0..<3 {
                                let planeWidth = plane == 0 ? outputWidth : (outputWidth + 1) / 2
                                let planeHeight = plane == 0 ? outputHeight : (outputHeight + 1) / 2
                                var planeMismatches = 0
                                for j in 0..<planeHeight {
                                    for i in 0..<planeWidth {
                                        let (real, onHorizon) = reference.value(
                                            theta, input: input, plane: plane, i: i, j: j)
                                        if onHorizon {
                                            horizon += 1
                                            continue
                                        }
                                        let expected = min(max((real + 0.5).rounded(.down), 0), 255)
                                        let actual = Double(output[plane, i, j])
                                        compared += 1
                                        let fraction = real - real.rounded(.down)
                                        if abs(fraction - 0.5) < 1e-3 {
                                            nearBoundary += 1
                                            if abs(actual - real) > 0.5 + 1e-3 { planeMismatches += 1 }
                                            if actual != expected { roundedOtherWay += 1 }
                                        } else if actual != expected {
                                            planeMismatches += 1
                                            if planeMismatches <= 3 {
                                                XCTFail(
                                                    """
                                                    \(testCase.name) \(inputWidth)×\(inputHeight)→\(outputWidth)×\(outputHeight) \
                                                    \(canvas) \(padding) \(range) plane \(plane) (\(i), \(j)): \
                                                    got \(actual), reference \(real)
                                                    """)
                                            }
                                        }
                                    }
                                }
                                mismatches += planeMismatches
                            }
                        }
                    }
                }
            }
        }
        XCTAssertEqual(mismatches, 0)
        XCTAssertGreaterThan(compared, 1_000_000)
        // Random 8-bit content puts about 1 in 500 real values this close to x.5.
        // Exact halves are common (half-pixel positions); rounding the other way must stay rare.
        XCTAssertLessThan(Double(nearBoundary) / Double(compared), 0.01, "\(nearBoundary) of \(compared) near x.5")
        XCTAssertLessThan(Double(roundedOtherWay) / Double(compared), 0.001, "\(roundedOtherWay) rounded the other way")
        XCTAssertLessThan(horizon, 100, "points on a projective horizon are skipped")
        print(
            """
            reference comparison: \(compared) samples, \(nearBoundary) within 1e-3 of x.5 \
            (\(roundedOtherWay) rounded the other way), \(horizon) on a horizon skipped, \(mismatches) mismatches
            """)
    }
}
