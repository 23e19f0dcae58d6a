import ArgumentParser
import Foundation

/// `stn-train`: trains the paper's classifiers (CNN baseline and ST-CNNs) on distorted IDX data.
struct STNTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stn-train",
        abstract: "Train CNN and ST-CNN classifiers on distorted Fashion-MNIST (Jaderberg et al. 2015, §4.1).",
        discussion: """
        Examples:
          stn-train classify --model affine --distortion RTS --steps 4000 --output runs/RTS-affine
          stn-train table runs/*/results.json --output table.md
          stn-train preview --output distortions.pgm
          stn-train video --output mine.safetensors --steps 14000 --curriculum-steps 8000
          stn-train video-eval --model samples/model/attention-fashion.safetensors --frames 2000

        Data: Fashion-MNIST's gzipped IDX files from /usr/share/datasets/fashion-mnist (Debian's
        dataset-fashion-mnist) unless --data names another directory; nothing is downloaded.

        Exit status: 0 done, 2 usage error, 1 runtime error (one line "stn-train: error: <file>: <why>"),
        130/143 after SIGINT/SIGTERM once the run's checkpoint (classify) or model file (video) is saved.
        Outputs never replace the data or results files a run reads.
        """,
        subcommands: [ClassifyCommand.self, TableCommand.self, PreviewCommand.self, TrainVideo.self, VideoEval.self],
        defaultSubcommand: nil
    )
}

/// Our own entry point: ArgumentParser exits 64 on a usage error, DESIGN.md §5 says 2; and an
/// error out of `run()` is a runtime failure (1) unless it is a `ValidationError` of arguments
/// that only the run could check (a model's sizes, say).
func runMain() -> Never {
    var command: ParsableCommand
    do {
        command = try STNTrain.parseAsRoot()
    } catch {
        let message = STNTrain.fullMessage(for: error)
        if STNTrain.exitCode(for: error) == .success {
            print(message)
            exit(0)
        }
        FileHandle.standardError.write(Data("\(message)\n".utf8))
        exit(2)
    }
    do {
        try command.run()
        exit(0)
    } catch let stop as Interrupted {
        FileHandle.standardError.write(Data("stn-train: \(stop.description)\n".utf8))
        exit(128 + stop.signal)
    } catch let error as ValidationError {
        FileHandle.standardError.write(Data("stn-train: error: \(error.message)\n".utf8))
        exit(2)
    } catch where !(error is RuntimeError) && STNTrain.exitCode(for: error) == .success {
        // The root command alone (no subcommand) asks ArgumentParser for its help.
        print(STNTrain.fullMessage(for: error))
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("stn-train: error: \(RuntimeError.wrap(error, file: nil).description)\n".utf8))
        exit(1)
    }
}

runMain()
