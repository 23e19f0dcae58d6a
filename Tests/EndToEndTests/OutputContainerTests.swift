import Foundation
import XCTest

/// Containers and encoders beyond mp4/mkv/nut: every frame arrives, H.264 is the default where
/// the container takes it, and what FFmpeg refuses is a clear one-line error or a dropped-audio
/// warning, never a bare "Invalid argument" or a short file.
final class OutputContainerTests: ClipTestCase {
    /// 25 frames whose centre changes every frame (Theora codes an unchanged frame as no frame).
    /// Its time base, 1/12800, is one that Theora and MPEG-1/2 cannot take as a frame rate.
    override var clipArguments: String {
        "-f lavfi -i testsrc2=size=128x96:rate=25 -frames:v 25 -c:v libx264 -preset ultrafast"
    }

    private func requireEncoder(_ name: String) throws {
        let r = try Tools.shell("ffmpeg -hide_banner -encoders 2>/dev/null")
        let names = r.stdoutText.split(separator: "\n").compactMap { $0.split(separator: " ").dropFirst().first }
        guard names.contains(Substring(name)) else { throw XCTSkip("this FFmpeg has no '\(name)' encoder") }
    }

    /// Runs stn-video on the clip into `name` (in the test directory); returns the output path.
    private func rectify(into name: String, _ extra: [String] = [], input: String? = nil) throws -> (
        path: String, result: RunResult
    ) {
        let output = directory.path(name)
        let r = try Tools.run(
            Tools.stnVideo, ["--theta", "0.5,0,0", "--size", "64x48"] + extra + [input ?? clip, output])
        return (output, r)
    }

    private func assertWrites(
        _ name: String, _ extra: [String] = [], codec: String, frames: Int = 25,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let (output, r) = try rectify(into: name, extra)
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        let video = try Tools.probeStreams(output).first
        XCTAssertEqual(video?.codec, codec, name, file: file, line: line)
        XCTAssertEqual(video?.frames, frames, "\(name): every frame", file: file, line: line)
    }

    private func assertError(
        _ name: String, _ extra: [String] = [], _ fragments: [String],
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let (output, r) = try rectify(into: name, extra)
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("stn-video: error: \(output): "), r.stderr, file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)", file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(r.stderr.contains(fragment), "\(fragment) not in: \(r.stderr)", file: file, line: line)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output), "no output is left", file: file, line: line)
    }

    /// Theora took the input's time base as its frame rate and wrote a few frames of 25.
    func testTheoraKeepsEveryFrame() throws {
        try requireEncoder("libtheora")
        try assertWrites("out.ogv", codec: "theora")
        try assertWrites("theora.mkv", ["--codec", "libtheora"], codec: "theora")
    }

    /// MPEG-1/2 take only standard frame rates as their time base ("does not support 12800/1 fps").
    func testMPEG1And2Open() throws {
        try requireEncoder("mpeg2video")
        try assertWrites("out.mpg", codec: "mpeg1video")
        try assertWrites("out.mxf", codec: "mpeg2video")
        try assertWrites("mpeg2.mkv", ["--codec", "mpeg2video"], codec: "mpeg2video")
    }

    /// MPEG-TS does not answer whether it takes H.264 (it does): H.264 is the default there too.
    func testTransportStreamIsH264() throws {
        try assertWrites("out.ts", ["--preset", "ultrafast"], codec: "h264")
        let r = try Tools.shell(
            "'\(Tools.stnVideo)' --theta 0.5,0,0 --size 64x48 --preset ultrafast --format mpegts '\(clip!)' - | ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=codec_name,nb_read_frames -of csv=p=0 -"
        )
        // ffprobe lists a transport stream's streams once more under its program: read the first line.
        XCTAssertEqual(r.stdoutText.split(separator: "\n").first, "h264,25", r.stderr)
    }

    /// gif and apng take RGB or palettes, prores 4:2:2 at 10 bits; mjpeg full range only.
    func testEncodersThatDoNotTake420FramesAreNamed() throws {
        try assertError(
            "out.gif", [],
            [
                "encoder 'gif' does not take 8-bit 4:2:0 frames (it takes rgb8, bgr8",
                "choose another container or --codec"
            ])
        try assertError("out.apng", [], ["encoder 'apng' does not take 8-bit 4:2:0 frames (it takes rgb24"])
        try requireEncoder("prores")
        try assertError(
            "prores.mov", ["--codec", "prores"],
            ["encoder 'prores' does not take 8-bit 4:2:0 frames (it takes yuv422p10"])
        try requireEncoder("mjpeg")
        try assertError(
            "mjpeg.avi", ["--codec", "mjpeg"], ["encoder 'mjpeg' takes only full-range (JPEG) 4:2:0 frames"])
    }

    func testUnknownPresetIsNamed() throws {
        let presets = "ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, veryslow, placebo"
        try assertError(
            "out.mp4", ["--preset", "nonsense"], ["unknown --preset 'nonsense' for libx264 (it takes \(presets))"])
        try requireEncoder("libx265")
        try assertError(
            "hevc.mp4", ["--preset", "nonsense", "--codec", "libx265"], ["unknown --preset 'nonsense' for libx265"])
    }

    func testOversizedOutputFailsBeforeEncoding() throws {
        try assertError("out.mp4", ["--size", "16384x16384"], ["output size 16384x16384 is too large for FFmpeg"])
    }

    /// FLAC in MP4 needs FFmpeg's experimental flag and MPEG-PS takes no AAC: the audio is dropped
    /// with a warning, as for any audio the container cannot hold, rather than failing the run.
    func testAudioTheContainerRefusesAtItsHeaderIsDropped() throws {
        try requireEncoder("flac")
        let flac = directory.path("flac.mkv"), aac = directory.path("aac.mp4")
        try Tools.ffmpeg("-i '\(clip!)' -f lavfi -i sine -t 1 -c:v copy -c:a flac '\(flac)'")
        try Tools.ffmpeg("-i '\(clip!)' -f lavfi -i sine -t 1 -c:v copy -c:a aac '\(aac)'")
        for (input, name, codec, video) in [(flac, "flac.mp4", "flac", "h264"), (aac, "aac.mpg", "aac", "mpeg1video")] {
            let (output, r) = try rectify(into: name, ["--preset", "ultrafast"], input: input)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(
                r.stderr.contains("stn-video: warning: container '")
                    && r.stderr.contains("cannot hold audio codec '\(codec)'")
                    && r.stderr.contains("audio dropped"), r.stderr)
            let streams = try Tools.probeStreams(output)
            XCTAssertEqual(streams.map(\.codec), [video], name)
            XCTAssertEqual(streams.first?.frames, 25, name)
        }
        // Audio the container takes is still copied.
        let (output, r) = try rectify(into: "aac.ts", ["--preset", "ultrafast"], input: aac)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Tools.probeStreams(output).prefix(2).map(\.codec), ["h264", "aac"])
    }

    /// Like ffmpeg without -map, one audio stream is copied; the others are named in a warning.
    func testExtraAudioStreamsAreReportedNotSilentlyDropped() throws {
        let input = directory.path("two-audio.mkv")
        try Tools.ffmpeg(
            "-f lavfi -i testsrc2=size=128x96:rate=25 -f lavfi -i sine -f lavfi -i sine=f=880 -map 0 -map 1 -map 2 -t 1 -c:v libx264 -preset ultrafast -c:a aac '\(input)'"
        )
        let (output, r) = try rectify(into: "out.mkv", input: input)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(
            r.stderr.split(separator: "\n").first,
            "stn-video: warning: \(input): 1 more audio stream not copied (only the main one is)")
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 2, "the warning, then the summary line: \(r.stderr)")
        XCTAssertEqual(try Tools.probeStreams(output).filter { $0.codec == "aac" }.count, 1)
    }
}
