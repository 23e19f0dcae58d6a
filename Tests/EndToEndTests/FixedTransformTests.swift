import Foundation
import XCTest

/// Runs the built `stn-video` on videos generated with the ffmpeg CLI and checks what a user relies on.
final class FixedTransformTests: XCTestCase {
    nonisolated(unsafe) static var directory: TemporaryDirectory!
    /// 64 frames of 320×240 at 25 fps, H.264 + AAC in MP4.
    nonisolated(unsafe) static var clip: String!

    override class func setUp() {
        super.setUp()
        directory = try! TemporaryDirectory()
        clip = directory.path("clip.mp4")
        try! Tools.ffmpeg(
            "-f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine=frequency=440 -frames:v 64 -t 2.56 -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac '\(clip!)'"
        )
    }

    override class func tearDown() {
        directory = nil
        super.tearDown()
    }

    private var clip: String { Self.clip }
    private func out(_ name: String) -> String { Self.directory.path(name) }

    func testMP4OutputKeepsFramesDurationAndAudioAndWritesTheLog() throws {
        let output = out("crop.mp4")
        let r = try Tools.run(Tools.stnVideo, ["--theta", "0.5,0.1,-0.1", "--size", "128x96", clip, output])
        XCTAssertEqual(r.status, 0, r.stderr)
        let streams = try Tools.probeStreams(output)
        XCTAssertEqual(streams.first?.codec, "h264")
        XCTAssertEqual(streams.first?.frames, 64)
        XCTAssertTrue(streams.contains { $0.codec == "aac" }, "audio is copied")
        XCTAssertEqual(try Tools.frameTimes(output), try Tools.frameTimes(clip), "timestamps are preserved")
        let size = try Tools.shell(
            "ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 '\(output)'")
        XCTAssertEqual(size.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), "128,96")

        let log = try String(contentsOfFile: out("crop.params.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.count, 65)
        XCTAssertEqual(log[0], "frame,pts_time,raw_s,raw_tx,raw_ty,s,tx,ty,scene_cut")
        XCTAssertEqual(log[1], "0,0.000000,0.5,0.1,-0.1,0.5,0.1,-0.1,0")
        XCTAssertEqual(log[64], "63,2.520000,0.5,0.1,-0.1,0.5,0.1,-0.1,0")
    }

    func testNoAudioDropsTheAudioStream() throws {
        let output = out("silent.mkv")
        let r = try Tools.run(Tools.stnVideo, ["--theta", "1,0,0", "--no-audio", "--size", "64x64", clip, output])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Tools.probeStreams(output).map(\.codec), ["h264"])
    }

    func testContainersAndCodecs() throws {
        let cases: [(file: String, args: [String], codec: String)] = [
            ("a.mkv", [], "h264"), ("a.nut", [], "h264"), ("a.mov", [], "h264"), ("a.avi", ["--no-audio"], "h264"),
            ("b.mkv", ["--codec", "ffv1"], "ffv1"), ("b.mp4", ["--codec", "mpeg4"], "mpeg4"),
            ("raw.y4m", ["--codec", "rawvideo"], "rawvideo"), ("raw.nut", ["--codec", "rawvideo"], "rawvideo")
        ]
        for c in cases {
            let output = out(c.file)
            let r = try Tools.run(
                Tools.stnVideo, ["--theta", "0.8,0,0", "--size", "64x48", "--quiet"] + c.args + [clip, output])
            XCTAssertEqual(r.status, 0, "\(c.file): \(r.stderr)")
            let video = try Tools.probeStreams(output).first
            XCTAssertEqual(video?.codec, c.codec, c.file)
            XCTAssertEqual(video?.frames, 64, c.file)
        }
    }

    func testJSONLinesLogAndReplayReproduceTheOutputExactly() throws {
        let first = out("first.nut"), second = out("second.nut"), log = out("first.jsonl")
        var r = try Tools.run(
            Tools.stnVideo,
            ["--theta", "0.7,-0.2,0.3", "--codec", "rawvideo", "--size", "96x96", "--log", log, clip, first])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 64)
        XCTAssertEqual(
            lines[0],
            #"{"frame":0,"pts_time":0.000000,"raw_s":0.7,"raw_tx":-0.2,"raw_ty":0.3,"s":0.7,"tx":-0.2,"ty":0.3,"scene_cut":0}"#
        )
        r = try Tools.run(Tools.stnVideo, ["--transforms", log, "--codec", "rawvideo", "--size", "96x96", clip, second])
        XCTAssertEqual(r.status, 0, r.stderr)
        let a = try Tools.shell("ffmpeg -v error -i '\(first)' -map 0:v -f framemd5 -")
        let b = try Tools.shell("ffmpeg -v error -i '\(second)' -map 0:v -f framemd5 -")
        XCTAssertFalse(a.stdoutText.isEmpty)
        XCTAssertEqual(a.stdoutText, b.stdoutText, "replaying the log gives the same frames")
    }

    /// Identity θ at the input's own size, raw in and raw out: every pixel must come through unchanged.
    func testIdentityReproducesTheInputExactly() throws {
        let input = out("odd.y4m"), output = out("odd-out.y4m")
        try Tools.ffmpeg("-f lavfi -i testsrc2=size=322x242:rate=10 -frames:v 5 -pix_fmt yuv420p '\(input)'")
        for canvas in ["square", "frame"] {
            let r = try Tools.run(
                Tools.stnVideo,
                ["--theta", "1,0,0", "--canvas", canvas, "--size", "322x242", "--codec", "rawvideo", input, output])
            XCTAssertEqual(r.status, 0, r.stderr)
            let a = try Tools.shell("ffmpeg -v error -i '\(input)' -f framemd5 -")
            let b = try Tools.shell("ffmpeg -v error -i '\(output)' -f framemd5 -")
            XCTAssertEqual(
                a.stdoutText.split(separator: "\n").filter { !$0.hasPrefix("#") }.map {
                    $0.split(separator: ",").last!
                },
                b.stdoutText.split(separator: "\n").filter { !$0.hasPrefix("#") }.map {
                    $0.split(separator: ",").last!
                }, canvas)
        }
    }

    /// The crop matches FFmpeg's own crop+scale geometry: θ = (0.5, 0, 0) on a 320×240 frame in the
    /// `frame` canvas is the centre 160×120 region; at 160×120 output it is a pixel-exact copy.
    func testHalfWindowAtNativeResolutionEqualsFFmpegCrop() throws {
        let input = out("src.y4m"), ours = out("ours.y4m"), theirs = out("theirs.y4m")
        try Tools.ffmpeg("-f lavfi -i testsrc2=size=320x240:rate=10 -frames:v 3 -pix_fmt yuv420p '\(input)'")
        try Tools.ffmpeg("-i '\(input)' -vf crop=160:120:80:60 '\(theirs)'")
        let r = try Tools.run(
            Tools.stnVideo,
            ["--theta", "0.5,0,0", "--canvas", "frame", "--size", "160x120", "--codec", "rawvideo", input, ours])
        XCTAssertEqual(r.status, 0, r.stderr)
        let psnr = try Tools.shell(
            "ffmpeg -v info -i '\(ours)' -i '\(theirs)' -lavfi psnr -f null - 2>&1 | grep -o 'y:[a-z0-9.]*'")
        XCTAssertEqual(
            psnr.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), "y:inf", "luma is a pixel-exact crop")
    }

    func testPixelFormatsOtherThan420AreConverted() throws {
        let input = out("rgb.mkv"), output = out("rgb-out.mkv")
        try Tools.ffmpeg("-f lavfi -i testsrc2=size=160x120:rate=10 -frames:v 12 -c:v ffv1 -pix_fmt bgr0 '\(input)'")
        let r = try Tools.run(Tools.stnVideo, ["--theta", "0.9,0,0", "--size", "80x60", input, output])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Tools.probeStreams(output).first?.frames, 12)
    }
}
