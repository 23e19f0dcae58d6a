import Foundation
import XCTest

/// Phones store portrait video as landscape frames with a display rotation. stn-video works on
/// the upright picture, as ffmpeg's autorotation shows it: the identity window over the frame
/// canvas reproduces ffmpeg's own upright decode byte for byte.
final class RotationTests: XCTestCase {
    func testRotatedInputsAreWorkedOnUpright() throws {
        let directory = try TemporaryDirectory()
        let stored = directory.path("stored.mp4")
        // Lossless 4:2:0, so that both decodes start from the same samples.
        try Tools.ffmpeg("-f lavfi -i testsrc2=size=96x64:rate=25 -frames:v 5 -c:v libx264 -qp 0 -pix_fmt yuv420p '\(stored)'")
        for (degrees, size) in [(90, "64x96"), (180, "96x64"), (270, "64x96")] {
            let rotated = directory.path("rotated\(degrees).mp4"), output = directory.path("out\(degrees).y4m")
            try Tools.ffmpeg("-i '\(stored)' -c copy -metadata:s:v rotate=\(degrees) '\(rotated)'")
            let r = try Tools.run(Tools.stnVideo, ["--theta", "1,0,0", "--canvas", "frame", "--size", size, "--codec", "rawvideo", rotated, output])
            XCTAssertEqual(r.status, 0, r.stderr)
            let reference = try Tools.shell("ffmpeg -v error -i '\(rotated)' -f rawvideo -pix_fmt yuv420p -")
            let ours = try Tools.shell("ffmpeg -v error -i '\(output)' -f rawvideo -pix_fmt yuv420p -")
            XCTAssertEqual(reference.stdout.count, 5 * 96 * 64 * 3 / 2, reference.stderr)
            XCTAssertTrue(ours.stdout == reference.stdout, "rotate=\(degrees): the output is not ffmpeg's upright picture")
        }
    }
}
