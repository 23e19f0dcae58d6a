import Foundation
import XCTest

/// stn-video inside shell pipelines with ffmpeg and ffprobe.
final class PipingTests: ClipTestCase {
    override var clipArguments: String {
        "-f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine -frames:v 50 -t 2 -c:v libx264 -preset ultrafast -c:a aac"
    }

    func testNutFromStandardInputToMP4File() throws {
        let output = directory.path("out.mp4")
        let r = try Tools.shell(
            "ffmpeg -nostdin -v error -i '\(clip!)' -c copy -f nut - | '\(Tools.stnVideo)' --theta 0.5,0,0 --size 64x64 - '\(output)'"
        )
        XCTAssertEqual(r.status, 0, r.stderr)
        let streams = try Tools.probeStreams(output)
        XCTAssertEqual(streams.first?.frames, 50)
        XCTAssertTrue(streams.contains { $0.codec == "aac" })
    }

    func testStandardInputToStandardOutput() throws {
        for (inFormat, outFormat) in [("nut", ""), ("matroska", "--format matroska"), ("mpegts", "--format mp4")] {
            let r = try Tools.shell(
                "ffmpeg -nostdin -v error -i '\(clip!)' -c copy -f \(inFormat) - | '\(Tools.stnVideo)' --theta 0.5,0,0 --size 64x64 \(outFormat) - - | ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 -"
            )
            XCTAssertEqual(
                r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), "50",
                "\(inFormat) → \(outFormat): \(r.stderr)")
        }
    }

    /// ADTS audio from MPEG-TS into MP4 and Matroska files: both decode without an error.
    func testMPEGTSAudioIntoMP4AndMatroska() throws {
        for name in ["ts.mp4", "ts.mkv"] {
            let output = directory.path(name)
            let r = try Tools.shell(
                "ffmpeg -nostdin -v error -i '\(clip!)' -c copy -f mpegts - | '\(Tools.stnVideo)' --theta 0.5,0,0 --size 64x64 - '\(output)'"
            )
            XCTAssertEqual(r.status, 0, r.stderr)
            let check = try Tools.shell("ffmpeg -nostdin -v error -i '\(output)' -f null - 2>&1")
            XCTAssertEqual(check.stdoutText, "", name)
            XCTAssertEqual(try Tools.probeStreams(output).map(\.codec), ["h264", "aac"], name)
        }
    }

    func testRawY4MBothWays() throws {
        let r = try Tools.shell(
            "ffmpeg -nostdin -v error -i '\(clip!)' -f yuv4mpegpipe - | '\(Tools.stnVideo)' --theta 1,0,0 --size 320x240 --codec rawvideo --format yuv4mpegpipe --input-format yuv4mpegpipe - - | ffprobe -v error -count_frames -show_entries stream=codec_name,nb_read_frames -of csv=p=0 -"
        )
        XCTAssertEqual(r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), "rawvideo,50", r.stderr)
    }

    func testClosedOutputPipeEndsWithAMessageNotACrash() throws {
        let r = try Tools.shell(
            "'\(Tools.stnVideo)' --theta 0.5,0,0 --size 256x256 --codec rawvideo '\(clip!)' - | head -c 1000 > /dev/null; echo \"status=${PIPESTATUS[0]}\""
        )
        XCTAssertTrue(r.stdoutText.contains("status=1"), r.stdoutText + r.stderr)
        XCTAssertTrue(
            r.stderr.contains("stn-video: error: standard output: output pipe closed by the reader"), r.stderr)
    }
}
