import ArgumentParser
import CommandSupport

/// `stn-train`: trains the paper's classifiers (CNN baseline and ST-CNNs) on distorted IDX data.
struct STNTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stn-train",
        abstract: "Train CNN and ST-CNN classifiers on distorted Fashion-MNIST (Jaderberg et al. 2015, §4.1).",
        discussion: """
            Examples:
              stn-train classify --model affine --distortion RTS --steps 4000 \\
                  --output runs/RTS-affine
              stn-train table runs/*/results.json --output table.md
              stn-train preview --output distortions.pgm
              stn-train video --output mine.safetensors --steps 14000 \\
                  --curriculum-steps 8000
              stn-train video-eval --model samples/model/attention-fashion.safetensors \\
                  --frames 2000

            Data: Fashion-MNIST's gzipped IDX files from /usr/share/datasets/fashion-mnist (Debian's
            dataset-fashion-mnist) unless --data names another directory; nothing is downloaded.

            Exit status: 0 done, 2 usage error, 1 runtime error (one line "stn-train: error: <file>: <why>"),
            130/143 after SIGINT/SIGTERM once the run's checkpoint (classify) or model file (video) is saved.
            Outputs never replace the data or results files a run reads.
            """,
        version: stnVersion,
        subcommands: [ClassifyCommand.self, TableCommand.self, PreviewCommand.self, TrainVideo.self, VideoEval.self],
        defaultSubcommand: nil
    )
}

runTool(STNTrain.self)
