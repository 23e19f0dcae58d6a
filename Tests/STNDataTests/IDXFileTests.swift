import Foundation
import XCTest
@testable import STNData

final class IDXFileTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("stn-idx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func write(_ bytes: [UInt8], _ name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    private func gzip(_ url: URL) throws -> URL {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-kf", url.path]
        try process.run()
        process.waitUntilExit()
        return URL(fileURLWithPath: url.path + ".gz")
    }

    private func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return String(describing: error) }
        return "no error"
    }

    /// Two 2×3 images and their labels, by hand.
    private let imageBytes: [UInt8] = [
        0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255
    ]
    private let labelBytes: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 2, 7, 3]

    func testParsesPlainAndGzippedFiles() throws {
        let images = try write(imageBytes, "images-idx3-ubyte"), labels = try write(labelBytes, "labels-idx1-ubyte")
        for (i, l) in [(images, labels), (try gzip(images), try gzip(labels))] {
            let set = try IDXDataset(images: i, labels: l)
            XCTAssertEqual([set.count, set.height, set.width], [2, 2, 3])
            XCTAssertEqual(Array(set.image(1)), [7, 8, 9, 10, 11, 255])
            XCTAssertEqual(set.labels, [7, 3])
            XCTAssertEqual(set.classCount, 8)
        }
        XCTAssertEqual([UInt8](try IDXFile(contentsOf: images).encoded), imageBytes)
    }

    func testRefusesBadFilesNamingThem() throws {
        var bad = imageBytes; bad[0] = 0x50
        let badMagic = try write(bad, "magic")
        XCTAssertTrue(
            message { _ = try IDXFile(contentsOf: badMagic) }.hasPrefix("\(badMagic.path): bad magic 50 00 08 03"))
        var float = imageBytes; float[2] = 0x0D
        let floatType = try write(float, "float")
        XCTAssertTrue(
            message { _ = try IDXFile(contentsOf: floatType) }.contains("0x0d (float32 data) is not supported"))
        let truncated = try write(Array(imageBytes.dropLast(2)), "truncated")
        XCTAssertEqual(
            message { _ = try IDXFile(contentsOf: truncated) },
            "\(truncated.path): truncated: dimensions 2×2×3 need 12 data bytes, the file has 10")
        let shortHeader = try write(Array(imageBytes.prefix(9)), "header")
        XCTAssertTrue(message { _ = try IDXFile(contentsOf: shortHeader) }.contains("truncated: 9 bytes"))
        let trailing = try write(imageBytes + [0], "trailing")
        XCTAssertTrue(message { _ = try IDXFile(contentsOf: trailing) }.contains("trailing data"))
        let damaged = try write([0x1F, 0x8B, 8, 0, 1, 2, 3], "damaged.gz")
        XCTAssertTrue(
            message { _ = try IDXFile(contentsOf: damaged) }.hasPrefix("\(damaged.path): gzip data is damaged"))
        let missing = directory.appendingPathComponent("missing")
        XCTAssertTrue(message { _ = try IDXFile(contentsOf: missing) }.hasPrefix(missing.path + ": "))

        let images = try write(imageBytes, "i"), labels = try write(labelBytes, "l")
        let threeLabels = try write([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3], "l3")
        XCTAssertEqual(
            message { _ = try IDXDataset(images: images, labels: threeLabels) },
            "\(threeLabels.path): 3 labels for 2 images in \(images.path)")
        XCTAssertTrue(
            message { _ = try IDXDataset(images: labels, labels: labels) }.contains("expected images [N, H, W] (idx3)"))
        XCTAssertTrue(message { _ = try FashionMNIST.load(.train, from: directory) }.contains("no such file"))
    }

    func testRealFashionMNISTShapes() throws {
        let (images, _) = FashionMNIST.files(.test)
        try XCTSkipUnless(FileManager.default.fileExists(atPath: images.path), "dataset-fashion-mnist is not installed")
        let test = try FashionMNIST.load(.test)
        XCTAssertEqual([test.count, test.height, test.width, test.classCount], [10000, 28, 28, 10])
        XCTAssertEqual(test.labels.prefix(3), [9, 2, 1])  // ankle boot, pullover, trouser (the published order)
        XCTAssertEqual(test.prefix(5).count, 5)
    }
}
