import CommandSupport
import Foundation

/// The results file of one `classify` run (results.json), and its Markdown row.
struct RunResult: Codable {
    var model: String
    var modelTitle: String
    var distortion: String
    var canvas: Int
    var seed: UInt64
    var testSeed: UInt64
    var plannedSteps: Int
    var steps: Int
    var epochs: Double
    var batchSize: Int
    var optimiser: String
    var learningRate: Float
    var localisationScale: Float
    var schedule: String
    var stoppedBy: String
    var timeBudgetMinutes: Double?
    var trainSeconds: Double
    var trainImages: Int
    var testImages: Int
    var testLoss: Float
    var testAccuracy: Float
    var testErrorPercent: Double
    var parameterCount: Int
    var command: String
    var date: String

    static let markdownHeader =
        "| model | distortion | test error | steps (epochs) | training time | parameters |\n|---|---|---|---|---|---|\n"

    var markdownRow: String {
        String(
            format: "| %@ | %@ | %.2f %% | %d (%.1f) | %.1f min | %d |", modelTitle, distortion, testErrorPercent,
            steps, epochs,
            trainSeconds / 60, parameterCount)
    }

    func write(to url: URL) throws(ToolError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try naming(url.path) {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try encoder.encode(self).write(to: url, options: .atomic)
        }
    }
}
