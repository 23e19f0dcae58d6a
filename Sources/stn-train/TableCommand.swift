import ArgumentParser
import CommandSupport
import Foundation

/// Assembles the paper's Table 1 from results files.
struct TableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "table",
        abstract: "Write the paper's Table 1 (test error, models × distortions) from results JSON files.",
        discussion: """
            Examples:
              stn-train table samples/results/*.json --output samples/results/table1.md
            """)

    @Argument(help: "results.json files of classify runs.")
    var files: [String]

    @Option(help: "Markdown file to write (standard output when absent).")
    var output: String?

    @Option(help: "Column order (distortions).")
    var distortions: String = "R,RTS,P,E"

    @Option(help: "The script that runs every cell, named in the protocol paragraph.")
    var script: String = "samples/results/run-table1.sh"

    func run() throws {
        if let output { try OutputGuard.refuse(output, overwriting: files, what: "results file") }
        var results: [RunResult] = []
        for file in files {
            let url = URL(fileURLWithPath: file)
            results.append(try naming(file) { try JSONDecoder().decode(RunResult.self, from: Data(contentsOf: url)) })
        }
        let columns = distortions.split(separator: ",").map(String.init)
        let rows = ModelKind.allCases.filter { kind in
            kind != .attention || results.contains { $0.model == kind.rawValue }
        }
        func cell(_ model: ModelKind, _ distortion: String) -> RunResult? {
            results.last { $0.model == model.rawValue && $0.distortion == distortion }
        }
        var text = "# Table 1 on Fashion-MNIST: test error (%)\n\n"
        text += "Jaderberg et al. 2015, Table 1 (left), rerun on Fashion-MNIST with `stn-train`. Lower is better; "
        text +=
            "**bold** = lowest error of its column. The paper's claim: every ST-CNN beats the CNN on every distortion.\n\n"
        let budgets = Set(results.map { "\($0.plannedSteps) steps of \($0.batchSize) images" })
        /// "60 000", or "600, 60 000" when the runs differ.
        func counts(_ values: [Int]) -> String {
            Set(values).sorted().map { n in
                String(n).reversed().enumerated().reduce(into: "") { text, pair in
                    if pair.offset > 0 && pair.offset % 3 == 0 { text.append(" ") }
                    text.append(pair.element)
                }.reversed()
            }.map { String($0) }.joined(separator: ", ")
        }
        let oneThread = results.allSatisfy { $0.command.contains(/--threads[ =]1(\s|$)/) }
        text +=
            "Protocol: each cell trains from scratch (seed \(Set(results.map(\.seed)).map(String.init).sorted().joined(separator: ", "))) on the \(counts(results.map(\.trainImages))) "
        text +=
            "Fashion-MNIST training images, re-distorted every epoch, and is tested on the \(counts(results.map(\.testImages))) t10k images distorted once with "
        text +=
            "test seed \(Set(results.map(\.testSeed)).map(String.init).sorted().joined(separator: ", ")) (the same test images for every model of a column). "
        text +=
            "Budget per cell: \(budgets.sorted().joined(separator: "; "))\(oneThread ? ", on one CPU (`--threads 1`) of a shared 2-core machine" : ""); "
        text +=
            "the wall-clock time of each cell is in the last table. Networks: PyTorch's STN-tutorial ST-CNN (`ModelConfig.tutorial`) "
        text +=
            "and, for the CNN, the same classifier without the transformer (`CNNClassifier`). Distortion parameters: "
        text += "`Sources/STNData/Distortion.swift`. The whole table: `\(script)`.\n\n"
        text +=
            "| model | " + columns.joined(separator: " | ") + " |\n|---|"
            + String(repeating: "---|", count: columns.count) + "\n"
        for model in rows {
            text += "| \(model.title) |"
            for column in columns {
                guard let result = cell(model, column) else { text += " — |"; continue }
                let best = rows.compactMap { cell($0, column)?.testErrorPercent }.min()
                let value = String(format: "%.2f", result.testErrorPercent)
                text += result.testErrorPercent == best ? " **\(value)** |" : " \(value) |"
            }
            text += "\n"
        }
        if let typical = results.map(\.testErrorPercent).sorted().dropFirst(results.count / 2).first,
            let n = results.map(\.testImages).min()
        {
            let p = typical / 100, standardError = 100 * (p * (1 - p) / Double(n)).squareRoot()
            text += String(
                format:
                    "\nSampling noise: at %.0f %% error on %d test images one cell's standard error is %.2f points, so a difference "
                    + "of two cells below about %.1f points (two standard errors of a difference) is not evidence either way.\n",
                typical, n, standardError, 2 * standardError * 2.0.squareRoot())
        }
        text += "\n## Does the ST-CNN beat the CNN?\n\n"
        for column in columns {
            guard let cnn = cell(.cnn, column) else { text += "- \(column): CNN cell missing\n"; continue }
            let verdicts = ModelKind.allCases.filter { $0 != .cnn }.compactMap { model -> String? in
                guard let result = cell(model, column) else { return nil }
                let delta = result.testErrorPercent - cnn.testErrorPercent
                return String(format: "%@ %@ (%+.2f points)", model.title, delta < 0 ? "yes" : "**no**", delta)
            }
            text +=
                "- \(column): " + (verdicts.isEmpty ? "no ST-CNN cell yet" : verdicts.joined(separator: "; ")) + "\n"
        }
        text += "\n## Cells: budget and exact commands\n\n"
        text +=
            "| model | distortion | error % | steps (epochs) | training time | stopped by | parameters | command |\n|---|---|---|---|---|---|---|---|\n"
        for column in columns {
            for model in rows {
                guard let r = cell(model, column) else { continue }
                text += String(
                    format: "| %@ | %@ | %.2f | %d (%.1f) | %.1f min | %@ | %d | `%@` |\n", r.modelTitle, r.distortion,
                    r.testErrorPercent,
                    r.steps, r.epochs, r.trainSeconds / 60, r.stoppedBy, r.parameterCount, r.command)
            }
        }
        let missing = columns.flatMap { column in
            rows.filter { cell($0, column) == nil }.map { "\($0.title) on \(column)" }
        }
        if !missing.isEmpty { text += "\nMissing cells: " + missing.joined(separator: ", ") + ".\n" }
        if let output {
            try naming(output) { try text.write(toFile: output, atomically: true, encoding: .utf8) }
        } else {
            print(text, terminator: "")
        }
    }
}
