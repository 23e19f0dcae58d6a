import FrameSampling
import XCTest

/// Hand-checkable behaviour of the sampler: identity, half-pixel shifts, zooms, canvas bars, threads.
final class SamplerPropertyTests: XCTestCase {
    func testIdentityWithEqualSizesReproducesTheInput() {
        let sizes = [
            (1, 1), (2, 2), (3, 5), (5, 3), (17, 64), (64, 17), (320, 240), (321, 241), (241, 321), (1920, 1080)
        ]
        for (width, height) in sizes {
            let input = TestFrame(width: width, height: height)
            input.fillRandom(seed: UInt64(width * 7919 + height))
            for canvas in Canvas.allCases {
                for padding in PaddingMode.allCases {
                    let output = sampled(
                        input, .identity, outputWidth: width, outputHeight: height,
                        canvas: canvas, padding: padding, threads: 2)
                    for plane in 0..<3 {
                        XCTAssertEqual(
                            output.samples(plane), input.samples(plane),
                            "\(width)×\(height) \(canvas) \(padding) plane \(plane)")
                    }
                    XCTAssertTrue(output.paddingIntact)
                }
            }
        }
    }

    /// θ shifted by half a luma pixel (tx = 1/W on the frame canvas): each luma output is the mean of
    /// two neighbours, each chroma output ¾ of one and ¼ of the next (a quarter chroma pixel).
    func testHalfPixelShiftAveragesNeighbours() {
        let luma: [UInt8] = [0, 100, 50, 200, 255, 1, 10, 30]
        let chroma: [UInt8] = [0, 40, 200, 100]
        let input = TestFrame(width: 8, height: 4)
        for y in 0..<4 { for x in 0..<8 { input[0, x, y] = luma[x] } }
        for y in 0..<2 { for x in 0..<4 { input[1, x, y] = chroma[x]; input[2, x, y] = 255 - chroma[x] } }
        let shift = SourceTransform(attention: 1, tx: 1.0 / 8, ty: 0)

        // (0+100)/2, (100+50)/2, (50+200)/2, (200+255)/2 = 227.5 ↑, 128, 5.5 ↑, 20, then the edge.
        let lumaInterior: [UInt8] = [50, 75, 125, 228, 128, 6, 20]
        let border = sampled(input, shift, outputWidth: 8, outputHeight: 4, canvas: .frame, padding: .border)
        let black = sampled(input, shift, outputWidth: 8, outputHeight: 4, canvas: .frame, padding: .black)
        for y in 0..<4 {
            XCTAssertEqual((0..<8).map { border[0, $0, y] }, lumaInterior + [30])
            XCTAssertEqual((0..<8).map { black[0, $0, y] }, lumaInterior + [23])  // (30 + 16) / 2
        }
        // 0.75·c[i] + 0.25·c[i+1]: 10, 80, 175; last: 100 (border) or 0.75·100 + 0.25·128 = 107.
        for y in 0..<2 {
            XCTAssertEqual((0..<4).map { border[1, $0, y] }, [10, 80, 175, 100])
            XCTAssertEqual((0..<4).map { black[1, $0, y] }, [10, 80, 175, 107])
            XCTAssertEqual((0..<4).map { border[2, $0, y] }, [245, 175, 80, 155])
        }
    }

    /// s = 0.5 on the frame canvas: output pixel i reads input position 0.5·i + 1.75 (luma) and
    /// 0.5·i + 0.75 (chroma), so ramps give known values.
    func testTwoTimesZoomOnARamp() {
        let input = TestFrame(width: 8, height: 8)
        for y in 0..<8 { for x in 0..<8 { input[0, x, y] = UInt8(16 * x) } }
        for y in 0..<4 { for x in 0..<4 { input[1, x, y] = UInt8(40 * x); input[2, x, y] = UInt8(40 * y) } }
        for padding in PaddingMode.allCases {
            let output = sampled(
                input, SourceTransform(attention: 0.5, tx: 0, ty: 0),
                outputWidth: 8, outputHeight: 8, canvas: .frame, padding: padding)
            for y in 0..<8 { XCTAssertEqual((0..<8).map { output[0, $0, y] }, (0..<8).map { UInt8(28 + 8 * $0) }) }
            for y in 0..<4 { XCTAssertEqual((0..<4).map { output[1, $0, y] }, [30, 50, 70, 90]) }
            for x in 0..<4 { XCTAssertEqual((0..<4).map { output[2, x, $0] }, [30, 50, 70, 90]) }
        }
    }

    /// A 16×8 frame on the square canvas sits in a 16×16 square: the identity into a 16×16 output
    /// puts it in rows 4…11 with black bars (or replicated edges) above and below; portrait likewise.
    func testSquareCanvasPutsBarsWhereTheFrameDoesNotReach() {
        for range in [ColorRange.limited, .full] {
            let wide = TestFrame(width: 16, height: 8)
            wide.fillRandom(seed: 42)
            let black = sampled(
                wide, .identity, outputWidth: 16, outputHeight: 16, canvas: .square, padding: .black, range: range)
            let border = sampled(
                wide, .identity, outputWidth: 16, outputHeight: 16, canvas: .square, padding: .border, range: range)
            for plane in 0..<3 {
                let scale = plane == 0 ? 1 : 2
                let blackValue = plane == 0 ? range.blackLuma : 128
                let (width, bar) = (16 / scale, 4 / scale)
                for y in 0..<(16 / scale) {
                    let inside = y >= bar && y < bar + 8 / scale
                    let sourceRow = min(max(y - bar, 0), 8 / scale - 1)
                    for x in 0..<width {
                        XCTAssertEqual(
                            black[plane, x, y], inside ? wide[plane, x, y - bar] : blackValue,
                            "plane \(plane) (\(x), \(y))")
                        XCTAssertEqual(border[plane, x, y], wide[plane, x, sourceRow], "plane \(plane) (\(x), \(y))")
                    }
                }
            }
        }
        let tall = TestFrame(width: 8, height: 16)
        tall.fillRandom(seed: 43)
        let output = sampled(tall, .identity, outputWidth: 16, outputHeight: 16, canvas: .square, padding: .black)
        for y in 0..<16 {
            XCTAssertEqual(
                (0..<16).map { output[0, $0, y] },
                (0..<4).map { _ in 16 } + (0..<8).map { tall[0, $0, y] } + (0..<4).map { _ in 16 })
        }
        for y in 0..<8 {
            XCTAssertEqual((0..<8).map { output[1, $0, y] }, [128, 128] + (0..<4).map { tall[1, $0, y] } + [128, 128])
        }
    }

    /// On the frame canvas an output of another aspect ratio stretches; on the square canvas a
    /// zoom-out shows the whole frame with bars all round.
    func testZoomOutOnTheSquareCanvasLeavesAMargin() {
        let input = TestFrame(width: 16, height: 8, fill: 200)
        let output = sampled(
            input, SourceTransform(attention: 2, tx: 0, ty: 0), outputWidth: 16, outputHeight: 8,
            canvas: .square, padding: .black)
        // Output canvas 16×16 (the output frame is its rows 4…11) shows input canvas [−2, 2]²:
        // output column x reads input column 2x − 7.5, output row y input row 2y − 3.5, so the
        // input frame fills output columns 4…11 of rows 2…5 and everything else is black.
        for y in 0..<8 {
            let row = (0..<16).map { output[0, $0, y] }
            let expected: [UInt8] = (0..<16).map { x in (2...5).contains(y) && (4...11).contains(x) ? 200 : 16 }
            XCTAssertEqual(row, expected, "row \(y)")
        }
    }

    func testThreadsGiveTheSameBytesAsSerial() {
        let input = TestFrame(width: 640, height: 480)
        input.fillSmooth(seed: 7)
        let transforms = [
            SourceTransform.identity,
            SourceTransform(attention: 0.6, tx: 0.1, ty: -0.2),
            SourceTransform(affine: [0.8, -0.3, 0.05, 0.3, 0.8, 0.1]),
            SourceTransform(projective: [0.9, 0.1, 0.05, -0.05, 1.0, 0.02, 0.15, -0.1])
        ]
        for transform in transforms {
            for (width, height) in [(640, 480), (321, 241)] {
                let serial = sampled(
                    input, transform, outputWidth: width, outputHeight: height, canvas: .square, padding: .black)
                for threads in [2, 3] {
                    let parallel = sampled(
                        input, transform, outputWidth: width, outputHeight: height,
                        canvas: .square, padding: .black, threads: threads)
                    for plane in 0..<3 { XCTAssertEqual(parallel.samples(plane), serial.samples(plane)) }
                }
            }
        }
    }

    func testNonFiniteTransformGivesBlack() {
        let input = TestFrame(width: 32, height: 18)
        input.fillRandom(seed: 1)
        let output = sampled(
            input, SourceTransform(attention: .nan, tx: 0, ty: 0), outputWidth: 16, outputHeight: 9,
            canvas: .frame, padding: .border, range: .full)
        XCTAssertEqual(Set(output.samples(0)), [0])
        XCTAssertEqual(Set(output.samples(1)), [128])
        XCTAssertEqual(Set(output.samples(2)), [128])
        XCTAssertTrue(output.paddingIntact)
    }

    func testReusingASamplerAcrossFramesAndTransforms() {
        let input = TestFrame(width: 96, height: 64)
        input.fillSmooth(seed: 3)
        let sampler = FrameSampler(
            inputWidth: 96, inputHeight: 64, outputWidth: 48, outputHeight: 48,
            canvas: .square, padding: .border, range: .limited, threads: 1)
        let transforms = [
            SourceTransform(attention: 0.5, tx: 0.2, ty: 0.1), SourceTransform(affine: [0.5, 0.1, 0, -0.1, 0.5, 0]),
            SourceTransform(attention: 0.5, tx: 0.2, ty: 0.1)
        ]
        var results: [[UInt8]] = []
        for transform in transforms {
            let output = TestFrame(width: 48, height: 48)
            sampler.sample(transform, from: input.frame, into: output.mutableFrame)
            let fresh = sampled(input, transform, outputWidth: 48, outputHeight: 48, canvas: .square, padding: .border)
            XCTAssertEqual(
                output.samples(0) + output.samples(1) + output.samples(2),
                fresh.samples(0) + fresh.samples(1) + fresh.samples(2))
            results.append(output.samples(0))
        }
        XCTAssertEqual(results[0], results[2])
        XCTAssertNotEqual(results[0], results[1])
    }
}

final class SourceTransformTests: XCTestCase {
    func testConstructorsAndProperties() {
        let attention = SourceTransform(attention: 0.5, tx: 0.1, ty: -0.2)
        XCTAssertEqual(attention.elements, [0.5, 0, 0.1, 0, 0.5, -0.2, 0, 0, 1])
        XCTAssertTrue(attention.isAffine)
        XCTAssertEqual(SourceTransform(affine: [0.5, 0, 0.1, 0, 0.5, -0.2]), attention)
        let projective = SourceTransform(projective: [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertFalse(projective.isAffine)
        XCTAssertEqual(projective[2, 1], 8)
        XCTAssertEqual(projective[2, 2], 1)
        XCTAssertEqual(projective[1, 0], 4)
        XCTAssertEqual(SourceTransform(matrix: projective.elements), projective)
        XCTAssertEqual(SourceTransform.identity.elements, [1, 0, 0, 0, 1, 0, 0, 0, 1])
        XCTAssertNotEqual(SourceTransform.identity, attention)
        XCTAssertEqual(ColorRange.limited.blackLuma, 16)
        XCTAssertEqual(ColorRange.full.blackLuma, 0)
    }
}
