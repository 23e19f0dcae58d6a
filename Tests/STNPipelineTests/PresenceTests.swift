import Foundation
import XCTest
import STNCore
@testable import STNPipeline

/// The window while the model sees nothing, and the log's presence,label,confidence columns.
final class PresenceTests: XCTestCase {
    private let identity: ThetaValues = [1, 0, 0]

    func testTheGateHoldsTheLastConfidentWindowThenEasesToTheWholePicture() {
        var gate = PresenceGate(settings: PresenceSettings(minPresence: 0.5, releaseAfter: 2), identity: identity)
        let seen: ThetaValues = [0.3, 0.2, -0.1], clutter: ThetaValues = [0.1, -0.8, 0.9]
        XCTAssertEqual(gate.target(raw: seen, presence: 0.9, time: 0, sceneCut: false), seen)
        // Nothing there: the last confident window, not the clutter θ, for 2 s.
        XCTAssertEqual(gate.target(raw: clutter, presence: 0.2, time: 0.04, sceneCut: false), seen)
        XCTAssertEqual(gate.target(raw: clutter, presence: 0.2, time: 2.04, sceneCut: false), seen)
        // Then a 1 s linear ease: halfway at 2.5 s after it went, whole picture from 3 s.
        let half = gate.target(raw: clutter, presence: 0.2, time: 2.54, sceneCut: false)
        XCTAssertEqual(half[0], 0.65, accuracy: 1e-9); XCTAssertEqual(half[1], 0.1, accuracy: 1e-9);
        XCTAssertEqual(half[2], -0.05, accuracy: 1e-9)
        XCTAssertEqual(gate.target(raw: clutter, presence: 0.2, time: 5, sceneCut: false), identity)
        // The item back: followed at once.
        XCTAssertEqual(gate.target(raw: clutter, presence: 0.7, time: 5.04, sceneCut: false), clutter)
    }

    func testAFirstFrameWithNothingAndACutShowTheWholePicture() {
        var gate = PresenceGate(settings: PresenceSettings(), identity: identity)
        XCTAssertEqual(gate.target(raw: [0.2, 0.5, 0.5], presence: 0.1, time: 0, sceneCut: false), identity)
        XCTAssertEqual(gate.target(raw: [0.2, 0.5, 0.5], presence: 0.9, time: 1, sceneCut: false), [0.2, 0.5, 0.5])
        // After a cut the old scene's window is not held.
        XCTAssertEqual(gate.target(raw: [0.4, 0, 0], presence: 0.1, time: 1.04, sceneCut: true), identity)
    }

    func testObservationColumnsAreWrittenAndReadersSkipThem() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stn-presence-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["log.csv", "log.jsonl"] {
            let path = directory.appendingPathComponent(name).path
            let writer = try ParameterLogWriter(path: path, kind: .attention, parameterCount: 3, observations: true)
            try writer.append(
                ParameterLogRow(
                    frame: 0, ptsTime: 0, raw: [0.5, 0.1, -0.1], smoothed: [0.5, 0.1, -0.1], sceneCut: false,
                    observation: GlimpseObservation(presence: 0.93456, label: "Ankle boot", confidence: 0.8)))
            try writer.append(
                ParameterLogRow(
                    frame: 1, ptsTime: 0.04, raw: [0.5, 0.1, -0.1], smoothed: [0.5, 0.1, -0.1], sceneCut: true,
                    observation: GlimpseObservation(presence: 0.1, label: "odd, \"name\"", confidence: 0.25)))
            let text = try String(contentsOfFile: path, encoding: .utf8)
            if name.hasSuffix(".csv") {
                XCTAssertEqual(
                    text,
                    """
                    frame,pts_time,raw_s,raw_tx,raw_ty,s,tx,ty,scene_cut,presence,label,confidence
                    0,0.000000,0.5,0.1,-0.1,0.5,0.1,-0.1,0,0.9346,Ankle boot,0.8000
                    1,0.040000,0.5,0.1,-0.1,0.5,0.1,-0.1,1,0.1000,"odd, ""name\"\"",0.2500

                    """)
            } else {
                XCTAssertTrue(
                    text.hasPrefix(
                        #"{"frame":0,"pts_time":0.000000,"raw_s":0.5,"raw_tx":0.1,"raw_ty":-0.1,"s":0.5,"tx":0.1,"ty":-0.1,"scene_cut":0,"presence":0.9346,"label":"Ankle boot","confidence":0.8000}"#
                    ), text)
            }
            let log = try ParameterLog(contentsOf: path)
            XCTAssertEqual(log.rows.count, 2)
            XCTAssertEqual(log.rows[1].smoothed, [0.5, 0.1, -0.1])
            XCTAssertTrue(log.rows[1].sceneCut)
        }
    }
}
