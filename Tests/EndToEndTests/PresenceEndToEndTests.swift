import Foundation
import XCTest

/// What the bundled model's classifier saw, in the log and the overlay, and the window while
/// it sees nothing (`--min-presence`).
final class PresenceEndToEndTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var clip: String { repository.appendingPathComponent("samples/fashion-640x360.mp4").path }
    static let itemClasses = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
    ]

    private func run(
        _ options: [String], in directory: TemporaryDirectory, name: String = "out", clip: String = clip
    ) throws -> [[String: String]] {
        let r = try Tools.run(
            Tools.stnVideo, ["--quiet", "--codec", "ffv1"] + options + [clip, directory.path("\(name).mkv")])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try BundledModelTests.rows(directory.path("\(name).params.csv"))
    }

    func testTheLogSaysWhatTheClassifierSawInEveryFrame() throws {
        let directory = try TemporaryDirectory()
        let rows = try run(["--smoothing", "none"], in: directory)
        let header = try String(contentsOfFile: directory.path("out.params.csv"), encoding: .utf8).split(
            separator: "\n")[0]
        XCTAssertEqual(header, "frame,pts_time,raw_s,raw_tx,raw_ty,s,tx,ty,scene_cut,presence,label,confidence")
        XCTAssertEqual(rows.count, 250)
        for row in rows {
            let presence = try XCTUnwrap(Double(row["presence"]!)),
                confidence = try XCTUnwrap(Double(row["confidence"]!))
            XCTAssertTrue((0...1).contains(presence) && (0...1).contains(confidence), "\(row)")
            XCTAssertTrue(Self.itemClasses.contains(row["label"]!), "label \(row["label"]!) is not an item class")
        }
        // The clip shows an item in every frame; the bundled model calls it present in 94.8 % of them.
        let present = rows.filter { Double($0["presence"]!)! >= 0.5 }.count
        XCTAssertGreaterThanOrEqual(Double(present) / 250, 0.9)
    }

    /// `--search 1`: a frame whose network glimpse is at least 0.5 confident keeps the network's
    /// window and what the classifier saw there; any other frame follows a window the classifier
    /// is at least as sure of, far from the network's or a refinement of it.
    func testTheSearchMovesTheWindowOnlyToWhereTheClassifierIsSurer() throws {
        let directory = try TemporaryDirectory()
        // The clip's last 80 frames (small items among clutter), losslessly.
        let clip = directory.path("last80.mkv")
        try Tools.ffmpeg("-i '\(Self.clip)' -vf trim=start_frame=170,setpts=PTS-STARTPTS -c:v ffv1 '\(clip)'")
        let plain = try run(["--smoothing", "none"], in: directory, name: "plain", clip: clip)
        let searched = try run(["--smoothing", "none", "--search", "1"], in: directory, name: "search", clip: clip)
        XCTAssertEqual(searched.count, 80)
        var refined = 0, moved = 0
        for (a, b) in zip(plain, searched) {
            func value(_ row: [String: String], _ key: String) -> Double { Double(row[key]!)! }
            let frame = a["frame"]!
            if value(a, "confidence") >= 0.5 {
                let keys = ["raw_s", "raw_tx", "raw_ty", "presence", "label", "confidence"]
                XCTAssertEqual(keys.map { a[$0] }, keys.map { b[$0] }, "a confident frame is not searched: \(frame)")
                continue
            }
            XCTAssertGreaterThanOrEqual(value(b, "confidence"), value(a, "confidence"), "frame \(frame)")
            // Grid windows have θ's scale or 0.625 times it; two rounds of refinement scale by 1.25
            // and 1.125 at most.
            let s = abs(value(a, "raw_s"))
            XCTAssertLessThanOrEqual(value(b, "raw_s"), s * 1.25 * 1.125 + 1e-6, "frame \(frame)")
            XCTAssertGreaterThanOrEqual(value(b, "raw_s"), s * 0.625 / (1.25 * 1.125) - 1e-6, "frame \(frame)")
            let distance = hypot(value(b, "raw_tx") - value(a, "raw_tx"), value(b, "raw_ty") - value(a, "raw_ty"))
            if distance > s {
                moved += 1
            } else if a["raw_tx"] != b["raw_tx"] || a["raw_ty"] != b["raw_ty"] || a["raw_s"] != b["raw_s"] {
                refined += 1
            }
        }
        // Measured: of the 26 frames searched, 10 follow a window farther than a half-side, 15 θ's
        // refinement, 1 keeps θ (54 are confident).
        XCTAssertGreaterThan(moved, 5)
        XCTAssertGreaterThan(refined, 5)
    }

    func testTheWindowFollowsThetaOnlyWhileSomethingIsThere() throws {
        let directory = try TemporaryDirectory()
        // Presence 0 needed: every frame is followed; with no smoothing and no camera the used window
        // is the raw one, except where the collapse guard replaces a scale near zero (14 of 250 frames
        // of this clip have s < 0.05).
        let followed = try run(
            ["--smoothing", "none", "--camera", "follow", "--allow-outside", "--min-presence", "0"], in: directory,
            name: "follow")
        let unguarded = followed.filter { Double($0["raw_s"]!)! >= 0.05 }
        XCTAssertGreaterThan(unguarded.count, 200)
        for row in unguarded {
            XCTAssertEqual([row["s"], row["tx"], row["ty"]], [row["raw_s"], row["raw_tx"], row["raw_ty"]])
        }
        // Presence 1 needed: nothing is ever confident, so the window is the whole picture
        // from the first frame, while the raw columns keep the model's θ.
        let rows = try run(
            ["--smoothing", "none", "--camera", "follow", "--allow-outside", "--min-presence", "1"], in: directory,
            name: "hold")
        for row in rows { XCTAssertEqual([row["s"], row["tx"], row["ty"]], ["1.0", "0.0", "0.0"]) }
        XCTAssertTrue(rows.contains { $0["raw_s"] != "1.0" })
    }

    func testTheOverlayCarriesACaption() throws {
        let directory = try TemporaryDirectory()
        _ = try run(["--overlay", directory.path("overlay.mkv")], in: directory)
        try Tools.ffmpeg(
            "-i \(directory.path("overlay.mkv")) -frames:v 1 -f rawvideo -pix_fmt yuv420p \(directory.path("first.yuv"))"
        )
        let yuv = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory.path("first.yuv"))))
        XCTAssertEqual(yuv.count, 640 * 360 * 3 / 2)
        // A 360-row frame draws the 5×7 font at 2×: a 22-row black box with white ink, its
        // top-left 40 columns at least (the caption is longer than three characters).
        var values = Set<UInt8>()
        for y in 0..<22 { for x in 0..<40 { values.insert(yuv[y * 640 + x]) } }
        XCTAssertEqual(values, [16, 235])
        for y in 0..<11 { for x in 0..<20 { XCTAssertEqual(yuv[640 * 360 + y * 320 + x], 128) } }
    }
}
