import ArgumentParser
import CommandSupport
import Foundation
import STNData

/// Writes a mosaic of distorted samples, to look at what the networks are trained on.
struct PreviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Write a PGM mosaic of distorted training samples (one row per distortion).",
        discussion: """
            Examples:
              stn-train preview --output distortions.pgm && \\
                  ffmpeg -i distortions.pgm distortions.png
            """)

    @Option(help: "Directory of the IDX files.")
    var data: String = FashionMNIST.defaultDirectory.path

    @Option(help: "Output PGM file.")
    var output: String

    @Option(help: "Samples per row.")
    var count: Int = 10

    @Option(help: "Seed.")
    var seed: UInt64 = 1

    func validate() throws {
        guard (1...1000).contains(count) else { throw ValidationError("--count must be in 1…1000") }
    }

    func run() throws {
        try OutputGuard.refuse(output, overwriting: OutputGuard.datasetFiles(in: data), what: "data file")
        let set: IDXDataset
        do { set = try FashionMNIST.load(.test, from: URL(fileURLWithPath: data)) } catch {
            throw ToolError(error.description)
        }
        let cell = 62, rows = Distortion.allCases.count, width = cell * count, height = cell * rows
        var pixels = [UInt8](repeating: 128, count: width * height)
        for (row, distortion) in Distortion.allCases.enumerated() {
            let view = DistortedDataset(set, distortion: distortion, seed: seed)
            var buffer = [Float](repeating: 0, count: view.sampleSize)
            for column in 0..<min(count, set.count) {
                buffer.withUnsafeMutableBufferPointer { view.render(index: column, pass: 0, into: $0.baseAddress!) }
                for i in 0..<view.side {
                    for j in 0..<view.side {
                        pixels[(row * cell + 1 + i) * width + column * cell + 1 + j] = UInt8(
                            max(0, min(255, (buffer[i * view.side + j] * 255).rounded())))
                    }
                }
            }
        }
        var file = Data("P5\n\(width) \(height)\n255\n".utf8)
        file.append(contentsOf: pixels)
        try naming(output) { try file.write(to: URL(fileURLWithPath: output)) }
    }
}
