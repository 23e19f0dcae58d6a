import Foundation
import XCTest

/// The window path of a model run through the whole product, on clips made by ffmpeg's lavfi
/// sources: cuts where the clip's sources change, one still window on a still picture, and
/// windows inside the picture unless `--allow-outside`.
final class CameraTests: XCTestCase {
    /// Three 2 s shots of different sources (the first moves): cuts at frames 50 and 100.
    static let cutsClip =
        "-f lavfi -i testsrc2=size=320x240:rate=25:d=2 -f lavfi -i smptebars=size=320x240:rate=25:d=2 "
        + "-f lavfi -i mandelbrot=size=320x240:rate=25,trim=duration=2 "
        + "-filter_complex '[0][1][2]concat=n=3:v=1:a=0,format=yuv420p' -c:v libx264 -preset ultrafast"
    /// One picture with fresh noise in every frame, 4 s.
    static let stillClip =
        "-f lavfi -i testsrc2=size=320x240:rate=25:d=0.04,loop=loop=99:size=1:start=0,noise=alls=8:allf=t,format=yuv420p "
        + "-c:v libx264 -preset ultrafast -t 4"

    /// Runs stn-video with `options` on `clip`; returns the log's rows as (raw s, tx, ty, used s, tx, ty, cut).
    private func windows(_ clip: String, _ options: [String], in directory: TemporaryDirectory, name: String) throws
        -> [(raw: [Double], used: [Double], cut: Bool)]
    {
        let output = directory.path("\(name).mp4")
        let r = try Tools.run(Tools.stnVideo, ["--quiet", "--preset", "ultrafast"] + options + [clip, output])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try String(contentsOfFile: directory.path("\(name).params.csv"), encoding: .utf8).split(
            separator: "\n")
        XCTAssertEqual(lines.first, "frame,pts_time,raw_s,raw_tx,raw_ty,s,tx,ty,scene_cut,presence,label,confidence")
        return lines.dropFirst().map { line in
            let f = line.split(separator: ",").map(String.init)
            return (f[2...4].map { Double($0)! }, f[5...7].map { Double($0)! }, f[8] == "1")
        }
    }

    func testCutsAreFoundWhereTheShotsChange() throws {
        let directory = try TemporaryDirectory()
        let clip = directory.path("cuts.mp4")
        try Tools.ffmpeg("\(Self.cutsClip) '\(clip)'")
        let rows = try windows(clip, [], in: directory, name: "default")
        XCTAssertEqual(rows.count, 150)
        XCTAssertEqual(rows.indices.filter { rows[$0].cut }, [50, 100])
        // The camera jumps at a cut: the used window of a cut frame is its smoothed target, which
        // at a cut is the network's θ kept inside the picture (here already inside or shifted).
        let disabled = try windows(clip, ["--cut-threshold", "0"], in: directory, name: "no-cuts")
        XCTAssertEqual(disabled.filter(\.cut).count, 0)
    }

    func testWindowsStayInsideThePictureUnlessAllowedOutside() throws {
        let directory = try TemporaryDirectory()
        let clip = directory.path("cuts.mp4")
        try Tools.ffmpeg("\(Self.cutsClip) '\(clip)'")
        // 320×240 on the square canvas: x ∈ [−1, 1], y ∈ [−0.75, 0.75]; the log rounds to float precision.
        func outside(_ w: [Double]) -> Bool { abs(w[1]) + abs(w[0]) > 1 + 1e-6 || abs(w[2]) + abs(w[0]) > 0.75 + 1e-6 }
        for camera in ["hold", "follow"] {
            let rows = try windows(clip, ["--camera", camera], in: directory, name: camera)
            XCTAssertEqual(rows.filter { outside($0.used) }.count, 0, camera)
        }
        // Allowed outside, unsmoothed and following θ even where the model sees no item in these
        // test patterns: the used window is the network's own wherever its scale is not collapsed
        // (the collapse guard's business), inside the picture or not.
        let free = try windows(
            clip, ["--camera", "follow", "--allow-outside", "--min-presence", "0", "--smoothing", "none"],
            in: directory, name: "free")
        let unguarded = free.filter { $0.raw[0] >= 0.05 }
        XCTAssertGreaterThan(unguarded.count, 100)
        for row in unguarded { XCTAssertEqual(row.used, row.raw) }
    }

    func testAStillPictureGetsOneStillWindow() throws {
        let directory = try TemporaryDirectory()
        let clip = directory.path("still.mp4")
        try Tools.ffmpeg("\(Self.stillClip) '\(clip)'")
        let hold = try windows(clip, [], in: directory, name: "hold")
        XCTAssertEqual(hold.count, 100)
        XCTAssertGreaterThan(Set(hold.map(\.raw)).count, 10, "the noise moves the network's window")
        XCTAssertEqual(Set(hold.map(\.used)).count, 1, "the camera holds one window")
        let follow = try windows(clip, ["--camera", "follow"], in: directory, name: "follow")
        XCTAssertGreaterThan(Set(follow.map(\.used)).count, 10)
    }
}
