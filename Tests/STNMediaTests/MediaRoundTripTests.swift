import Foundation
import XCTest
@testable import STNMedia

/// Frames written through MediaWriter come back bit-exact through MediaReader (lossless codecs),
/// with their timestamps, and FFmpeg objects are released (run under valgrind to check leaks).
final class MediaRoundTripTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("stn-media-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A frame whose every sample is a known function of (plane, x, y, frame index).
    private func patternFrame(width: Int, height: Int, index: Int) -> VideoFrame {
        let frame = VideoFrame(width: width, height: height)
        for plane in 0..<3 {
            let (w, h) = frame.planeSize(plane)
            let base = frame.mutableBaseAddress(plane), stride = frame.stride(plane)
            for y in 0..<h {
                for x in 0..<w {
                    base[y * stride + x] = UInt8(truncatingIfNeeded: x * 3 + y * 7 + index * 11 + plane * 50)
                }
            }
        }
        frame.setTimestamp(pts: Int64(index), seconds: Double(index) / 25)
        return frame
    }

    private func assertSamePixels(_ a: VideoFrame, _ b: VideoFrame, file: StaticString = #filePath, line: UInt = #line)
    {
        XCTAssertEqual(a.width, b.width, file: file, line: line)
        XCTAssertEqual(a.height, b.height, file: file, line: line)
        for plane in 0..<3 {
            let (w, h) = a.planeSize(plane)
            for y in 0..<h {
                let ra = UnsafeBufferPointer(start: a.baseAddress(plane) + y * a.stride(plane), count: w)
                let rb = UnsafeBufferPointer(start: b.baseAddress(plane) + y * b.stride(plane), count: w)
                if !ra.elementsEqual(rb) { return XCTFail("plane \(plane) row \(y) differs", file: file, line: line) }
            }
        }
    }

    func testLosslessRoundTrip() throws {
        for (name, codec) in [("rt.nut", "rawvideo"), ("rt.mkv", "ffv1"), ("rt.y4m", "rawvideo")] {
            let path = directory.appendingPathComponent(name).path
            let format = OutputVideoFormat(width: 33, height: 17, frameRate: Rational(25, 1), timeBase: Rational(1, 25))
            let writer = try MediaWriter(
                path: path, format: nil, video: format, settings: EncoderSettings(codec: codec), audioSource: nil)
            for i in 0..<7 { try writer.write(patternFrame(width: 33, height: 17, index: i)) }
            try writer.finish()
            XCTAssertEqual(writer.framesWritten, 7)

            let reader = try MediaReader(path: path)
            XCTAssertEqual(reader.info.width, 33)
            XCTAssertEqual(reader.info.height, 17)
            XCTAssertEqual(reader.info.frameRate, Rational(25, 1))
            var index = 0
            while let item = try reader.next() {
                guard case .video(let frame) = item else { continue }
                assertSamePixels(frame, patternFrame(width: 33, height: 17, index: index))
                XCTAssertEqual(frame.ptsSeconds, Double(index) / 25, accuracy: 1e-9, name)
                index += 1
            }
            XCTAssertEqual(index, 7, name)
            XCTAssertEqual(reader.damagedPackets, 0)
        }
    }

    func testOpenErrorsNameTheFile() {
        let missing = directory.appendingPathComponent("missing.mkv").path
        XCTAssertThrowsError(try MediaReader(path: missing)) { error in
            XCTAssertEqual("\(error)", "\(missing): no such file")
        }
        XCTAssertThrowsError(try MediaReader(path: "-", format: "no-such-demuxer")) { error in
            XCTAssertEqual("\(error)", "standard input: unknown input format 'no-such-demuxer'")
        }
        let format = OutputVideoFormat(width: 16, height: 16, frameRate: Rational(25, 1), timeBase: Rational(1, 25))
        XCTAssertThrowsError(
            try MediaWriter(
                path: "-", format: "no-such-muxer", video: format, settings: EncoderSettings(), audioSource: nil)
        ) { error in
            XCTAssertEqual("\(error)", "standard output: unknown output format 'no-such-muxer'")
        }
    }

    func testFailedHeaderLeavesNoFile() throws {
        // mpeg4 cannot go into y4m: the writer refuses before creating anything.
        let path = directory.appendingPathComponent("x.y4m").path
        let format = OutputVideoFormat(width: 16, height: 16, frameRate: Rational(25, 1), timeBase: Rational(1, 25))
        XCTAssertThrowsError(
            try MediaWriter(
                path: path, format: nil, video: format, settings: EncoderSettings(codec: "mpeg4"), audioSource: nil))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}
