import Foundation
import XCTest

/// Transport streams joined with `cat` (or spliced in broadcast) jump in time; the output keeps
/// one continuous timeline with every frame and the audio beside it, as the ffmpeg tool does.
final class TimestampTests: XCTestCase {
    func testJoinedTransportStreamsKeepEveryFrameOnOneTimeline() throws {
        let directory = try TemporaryDirectory()
        let part = directory.path("part.ts"), later = directory.path("later.ts")
        let source =
            "-f lavfi -i testsrc2=size=160x120:rate=25:duration=2 -f lavfi -i sine=r=48000:d=2 -c:v libx264 -preset ultrafast -c:a aac"
        try Tools.ffmpeg("\(source) '\(part)'")
        try Tools.ffmpeg("\(source) -output_ts_offset 90000 '\(later)'")
        // Back in time (the same file twice) and 25 hours forward.
        for (name, second) in [("backward", part), ("forward", later)] {
            let joined = directory.path("\(name).ts"), output = directory.path("\(name).mp4")
            XCTAssertEqual(try Tools.shell("cat '\(part)' '\(second)' > '\(joined)'").status, 0)
            let r = try Tools.run(
                Tools.stnVideo, ["--quiet", "--theta", "0.5,0,0", "--preset", "ultrafast", joined, output])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            let streams = try Tools.probeStreams(output)
            XCTAssertEqual(streams.first { $0.codec == "h264" }?.frames, 100, name)
            XCTAssertTrue(streams.contains { $0.codec == "aac" }, name)
            let times = try Tools.frameTimes(output)
            XCTAssertEqual(times.count, 100, name)
            let steps = zip(times.dropFirst(), times).map { $0 - $1 }
            XCTAssertEqual(steps.min() ?? 0, 0.04, accuracy: 0.002, "\(name): frames 1/25 s apart throughout")
            XCTAssertEqual(steps.max() ?? 0, 0.04, accuracy: 0.002, "\(name): no gap or squeeze at the join")
            XCTAssertEqual(try Tools.formatDuration(output), 4.0, accuracy: 0.1, name)
        }
    }

    /// A gap in one stream of an unbroken recording (a video pause, cut silence) is not a splice:
    /// the other stream runs on through it, and the gap is kept, in sync.
    func testAGapInOneStreamIsKept() throws {
        let directory = try TemporaryDirectory()
        let source = "-f lavfi -i testsrc2=size=160x120:rate=25:duration=30 -f lavfi -i sine=duration=30"
        let videoGap = directory.path("video-gap.ts"), audioGap = directory.path("audio-gap.ts")
        try Tools.ffmpeg(
            "\(source) -filter:v \"select='not(between(t,8,20))'\" -vsync passthrough -c:v libx264 -preset ultrafast -bf 3 -c:a aac '\(videoGap)'"
        )
        try Tools.ffmpeg(
            "\(source) -filter:a \"aselect='not(between(t,5,20))'\" -c:v libx264 -preset ultrafast -c:a aac '\(audioGap)'"
        )
        for input in [videoGap, audioGap] {
            let output = input + ".mkv"
            let r = try Tools.run(
                Tools.stnVideo, ["--quiet", "--theta", "0.5,0,0", "--preset", "ultrafast", input, output])
            XCTAssertEqual(r.status, 0, r.stderr)
            let times = try Tools.frameTimes(output)
            XCTAssertEqual(times.last ?? 0, 29.98, accuracy: 0.05, "\(input): the video ends where the input's does")
            let audio = try Tools.shell(
                "ffprobe -v error -select_streams a:0 -show_entries packet=pts_time -of csv=p=0 '\(output)' | tail -n 1"
            )
            XCTAssertEqual(
                Double(audio.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",")[0]) ?? 0,
                30, accuracy: 0.1,
                "\(input): the audio ends where the input's does")
        }
        let gapTimes = try Tools.frameTimes(videoGap + ".mkv")
        XCTAssertEqual(gapTimes.count, 449)
        XCTAssertEqual(
            zip(gapTimes.dropFirst(), gapTimes).map { $0 - $1 }.max() ?? 0, 12.08, accuracy: 0.05,
            "the 12 s pause is kept")
    }

    /// opencv-doc's box.mp4: its first packet (an IDR NAL holding a non-intra slice) gives no
    /// frame, and FFmpeg's guessed times step back at the end. The lost packet is named in the
    /// damaged-packet warning, and the log's times are the output's, frame for frame.
    func testAnUndecodableFirstFrameIsReportedAndLogTimesMatchTheOutput() throws {
        let packed = "/usr/share/doc/opencv-doc/opencv4/html/box.mp4.gz"
        guard FileManager.default.fileExists(atPath: packed) else {
            throw XCTSkip("\(packed) not installed (Debian's opencv-doc)")
        }
        let directory = try TemporaryDirectory()
        let input = directory.path("box.mp4"), output = directory.path("out.mp4")
        XCTAssertEqual(try Tools.shell("gunzip -c '\(packed)' > '\(input)'").status, 0)
        let r = try Tools.run(Tools.stnVideo, ["--theta", "1,0,0", "--size", "64x48", "--no-audio", input, output])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(
            r.stderr.hasPrefix("stn-video: warning: \(input): 1 damaged packet(s) skipped or concealed\n"), r.stderr)
        let logTimes = try String(contentsOfFile: directory.path("out.params.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { Double($0.split(separator: ",")[1])! }
        let outputTimes = try Tools.frameTimes(output)
        XCTAssertEqual(logTimes.count, 455)
        XCTAssertEqual(outputTimes.count, logTimes.count)
        for (index, (logged, shown)) in zip(logTimes, outputTimes).enumerated() {
            XCTAssertEqual(logged, shown, accuracy: 1e-5, "frame \(index)")
        }
        XCTAssertEqual(zip(logTimes.dropFirst(), logTimes).filter { $0 <= $1 }.count, 0, "the log's times increase")
    }
}
