import Foundation
import XCTest

/// Phones store portrait video as landscape frames with a display rotation. stn-video works on
/// the upright picture, as ffmpeg's autorotation shows it: the identity window over the frame
/// canvas reproduces ffmpeg's own upright decode byte for byte.
final class RotationTests: XCTestCase {
    func testRotatedInputsAreWorkedOnUpright() throws {
        // Sizes whose planes are and are not whole 8×8 blocks (100×62: chroma 50×31).
        for (width, height) in [(96, 64), (100, 62)] {
            try checkTurns(width: width, height: height)
        }
    }

    private func checkTurns(width: Int, height: Int) throws {
        let directory = try TemporaryDirectory()
        let stored = directory.path("stored.mp4")
        // Lossless 4:2:0, so that both decodes start from the same samples.
        try Tools.ffmpeg(
            "-f lavfi -i testsrc2=size=\(width)x\(height):rate=25 -frames:v 5 -c:v libx264 -qp 0 -pix_fmt yuv420p '\(stored)'"
        )
        for (degrees, size) in [(90, "\(height)x\(width)"), (180, "\(width)x\(height)"), (270, "\(height)x\(width)")] {
            let rotated = directory.path("rotated\(degrees).mp4"), output = directory.path("out\(degrees).y4m")
            try Tools.ffmpeg("-i '\(stored)' -c copy -metadata:s:v rotate=\(degrees) '\(rotated)'")
            let r = try Tools.run(
                Tools.stnVideo,
                ["--theta", "1,0,0", "--canvas", "frame", "--size", size, "--codec", "rawvideo", rotated, output])
            XCTAssertEqual(r.status, 0, r.stderr)
            let reference = try Tools.shell("ffmpeg -v error -i '\(rotated)' -f rawvideo -pix_fmt yuv420p -")
            let ours = try Tools.shell("ffmpeg -v error -i '\(output)' -f rawvideo -pix_fmt yuv420p -")
            XCTAssertEqual(
                reference.stdout.count, 5 * (width * height + 2 * ((width + 1) / 2) * ((height + 1) / 2)),
                reference.stderr)
            XCTAssertTrue(
                ours.stdout == reference.stdout,
                "\(width)x\(height), rotate=\(degrees): the output is not ffmpeg's upright picture")
        }
    }
}
