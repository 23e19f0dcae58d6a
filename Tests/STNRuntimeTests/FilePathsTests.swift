import Foundation
import STNRuntime
import XCTest

final class FilePathsTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("stn-paths-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testTheFilePrefixIsRemoved() {
        XCTAssertEqual(FilePaths.local("file:a/b.mp4"), "a/b.mp4")
        XCTAssertEqual(FilePaths.local("a/file:b.mp4"), "a/file:b.mp4")
    }

    func testOneFileUnderSeveralNames() throws {
        let a = directory.appendingPathComponent("a.mp4").path
        XCTAssertTrue(FileManager.default.createFile(atPath: a, contents: Data([1])))
        let hard = directory.appendingPathComponent("hard.mp4").path,
            soft = directory.appendingPathComponent("soft.mp4").path
        try FileManager.default.linkItem(atPath: a, toPath: hard)
        try FileManager.default.createSymbolicLink(atPath: soft, withDestinationPath: a)
        for name in [hard, soft, "file:" + a, directory.appendingPathComponent("x/../a.mp4").path] {
            XCTAssertTrue(FilePaths.isSameFile(a, name), name)
        }
        // Not yet existing: the same once symbolic links in the existing part are resolved.
        let linkedDirectory = directory.appendingPathComponent("linked").path
        try FileManager.default.createSymbolicLink(atPath: linkedDirectory, withDestinationPath: directory.path)
        XCTAssertTrue(
            FilePaths.isSameFile(directory.appendingPathComponent("new.csv").path, linkedDirectory + "/new.csv"))
        XCTAssertFalse(FilePaths.isSameFile(a, directory.appendingPathComponent("b.mp4").path))
        XCTAssertFalse(FilePaths.isSameFile("-", "-"))
    }

    func testOnlyPipesAndSocketsMayBlockAWriter() throws {
        let fifo = directory.appendingPathComponent("fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertTrue(FilePaths.writesMayBlock(fifo))
        let file = directory.appendingPathComponent("f.mp4").path
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: nil))
        XCTAssertFalse(FilePaths.writesMayBlock(file))
        XCTAssertFalse(FilePaths.writesMayBlock("/dev/null"))
        XCTAssertFalse(FilePaths.writesMayBlock(directory.appendingPathComponent("missing.mp4").path))
    }
}
