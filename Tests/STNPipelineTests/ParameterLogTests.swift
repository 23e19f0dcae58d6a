import Foundation
import XCTest
import STNRuntime
import STNCore
@testable import STNPipeline

final class ParameterLogTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("stn-log-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testDefaultPathReplacesTheExtension() {
        XCTAssertEqual(ParameterLogWriter.defaultPath(forOutput: "/a/b/out.mp4"), "/a/b/out.params.csv")
        XCTAssertEqual(ParameterLogWriter.defaultPath(forOutput: "/a/b/out"), "/a/b/out.params.csv")
        XCTAssertNil(ParameterLogWriter.defaultPath(forOutput: "-"))
        // Streams and devices: no log beside them, whatever they lead to.
        XCTAssertNil(ParameterLogWriter.defaultPath(forOutput: "/dev/stdout"))
        XCTAssertNil(ParameterLogWriter.defaultPath(forOutput: "/dev/null"))
        XCTAssertNil(ParameterLogWriter.defaultPath(forOutput: "/proc/self/fd/1"))
        XCTAssertEqual(ParameterLogWriter.defaultPath(forOutput: "file:/a/b/out.mp4"), "/a/b/out.params.csv")
    }

    func testCSVColumnsForEveryKind() throws {
        let expected: [(TransformKind, Int, String)] = [
            (.attention, 3, "frame,pts_time,raw_s,raw_tx,raw_ty,s,tx,ty,scene_cut"),
            (
                .affine, 6,
                "frame,pts_time,raw_a00,raw_a01,raw_a02,raw_a10,raw_a11,raw_a12,a00,a01,a02,a10,a11,a12,scene_cut"
            ),
            (
                .projective, 8,
                "frame,pts_time,raw_h00,raw_h01,raw_h02,raw_h10,raw_h11,raw_h12,raw_h20,raw_h21,h00,h01,h02,h10,h11,h12,h20,h21,scene_cut"
            ),
            (.tps, 4, "frame,pts_time,raw_dx0,raw_dy0,raw_dx1,raw_dy1,dx0,dy0,dx1,dy1,scene_cut")
        ]
        for (kind, count, header) in expected {
            let path = directory.appendingPathComponent("\(kind).csv").path
            _ = try ParameterLogWriter(path: path, kind: kind, parameterCount: count)
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), header + "\n")
        }
    }

    func testRoundTripCSVAndJSONLines() throws {
        let rows = (0..<5).map { i in
            ParameterLogRow(
                frame: i, ptsTime: Double(i) / 30, raw: [0.5 + 0.01 * Double(i), -0.25, 0.125],
                smoothed: [Double(Float(0.5 + 0.005 * Double(i))), -0.25, 0.1], sceneCut: i == 3)
        }
        for name in ["log.csv", "log.jsonl"] {
            let path = directory.appendingPathComponent(name).path
            let writer = try ParameterLogWriter(path: path, kind: .attention, parameterCount: 3)
            for row in rows { try writer.append(row) }
            let log = try ParameterLog(contentsOf: path)
            XCTAssertEqual(log.kind, .attention)
            XCTAssertEqual(log.rows.count, 5)
            for (a, b) in zip(log.rows, rows) {
                XCTAssertEqual(a.frame, b.frame)
                XCTAssertEqual(a.ptsTime, b.ptsTime, accuracy: 1e-6)
                XCTAssertEqual(a.sceneCut, b.sceneCut)
                // Values are written as the Float32 θ they are computed in, exactly.
                XCTAssertEqual(a.smoothed.map(Float.init), b.smoothed.map(Float.init), name)
                XCTAssertEqual(a.raw.map(Float.init), b.raw.map(Float.init), name)
            }
        }
    }

    func testMalformedLogsNameTheLine() throws {
        let cases = [
            ("frame,pts_time,raw_s,raw_tx,raw_ty,s,tx,ty,scene_cut\n0,0,1,0,0,1,0\n", "line 2: malformed row"),
            ("frame,pts_time,raw_s,raw_tx,raw_ty,s,tx,ty,scene_cut\n0,0,1,0,0,x,0,0,0\n", "line 2: not a number"),
            ("frame,pts_time,raw_q,q,scene_cut\n", "unknown parameter columns: raw_q,q"),
            ("frame,pts_time,raw_s,raw_tx,raw_ty,s,tx,ty,scene_cut\n", "the log has no rows"),
            ("", "the log is empty")
        ]
        for (text, message) in cases {
            let path = directory.appendingPathComponent("bad.csv").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try ParameterLog(contentsOf: path)) { error in
                XCTAssertEqual("\(error)", "\(path): \(message)")
            }
        }
    }

    func testSameFileDetection() throws {
        let a = directory.appendingPathComponent("a.mp4").path
        XCTAssertTrue(FileManager.default.createFile(atPath: a, contents: Data([1])))
        let hardLink = directory.appendingPathComponent("b.mp4").path
        try FileManager.default.linkItem(atPath: a, toPath: hardLink)
        XCTAssertTrue(FilePaths.isSameFile(a, hardLink))
        XCTAssertTrue(FilePaths.isSameFile(a, directory.appendingPathComponent("x/../a.mp4").path))
        XCTAssertFalse(FilePaths.isSameFile(a, directory.appendingPathComponent("c.mp4").path))
        XCTAssertFalse(FilePaths.isSameFile("-", "-"))
    }

    /// The exact text of a row, in both formats (DESIGN.md §4's column order; θ as Float32).
    func testRowTextIsExact() throws {
        let row = ParameterLogRow(
            frame: 12, ptsTime: 0.4, raw: [0.5, 0.1, -0.1], smoothed: [0.25, -0.0625, .nan], sceneCut: true)
        let expected = [
            "log.csv":
                "frame,pts_time,raw_s,raw_tx,raw_ty,s,tx,ty,scene_cut\n12,0.400000,0.5,0.1,-0.1,0.25,-0.0625,nan,1\n",
            "log.jsonl": "{\"frame\":12,\"pts_time\":0.400000,\"raw_s\":0.5,\"raw_tx\":0.1,\"raw_ty\":-0.1,"
                + "\"s\":0.25,\"tx\":-0.0625,\"ty\":nan,\"scene_cut\":1}\n"
        ]
        for (name, text) in expected {
            let path = directory.appendingPathComponent(name).path
            let writer = try ParameterLogWriter(path: path, kind: .attention, parameterCount: 3)
            try writer.append(row)
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), text)
        }
    }

    /// pts_time is printed as C's "%.6f" would: checked against Foundation's printf-style
    /// formatter on timestamps of common time bases (with exact half-way cases such as
    /// 4/12800 = 0.0003125), negative and huge values, subnormals, and random doubles.
    func testFixedSixDecimalsMatchesPrintf() {
        var values: [Double] = [
            0, -0.0, 0.5, 1e-7, 5e-7, 1.5e-6, 2.5e-6, -0.0000005, 123456.7890125, 8.9e12, 1e13, .infinity,
            Double.leastNonzeroMagnitude, Double.leastNormalMagnitude, .greatestFiniteMagnitude
        ]
        for base in [25.0, 30.0, 30000.0 / 1001, 1000, 12800, 15360, 48000, 44100, 90000] {
            for n in 0..<3000 { values.append(Double(n) / base) }
        }
        var random = SystemRandomNumberGenerator()
        for _ in 0..<20000 {
            values.append(Double.random(in: -1e4...1e4, using: &random))
            // Any positive finite magnitude below 2.
            values.append(Double(bitPattern: random.next() & 0x3FFF_FFFF_FFFF_FFFF))
        }
        var mismatches: [String] = []
        for value in values {
            var bytes: [UInt8] = []
            ParameterLogWriter.appendFixed6(value, to: &bytes)
            let ours = String(decoding: bytes, as: UTF8.self), printf = String(format: "%.6f", value)
            if ours != printf { mismatches.append("\(value): \(ours) vs \(printf)") }
        }
        XCTAssertEqual(mismatches.prefix(5), [], "\(mismatches.count) of \(values.count) differ")
    }
}
