import ArgumentParser
import CommandSupport

/// `stn-bench`: micro-benchmarks of the STN core and the frame sampler, each against a
/// reference measured in the same run (libswscale; PyTorch is timed by pipelines/bench-train.sh).
struct STNBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stn-bench",
        abstract: "Time the frame sampler against libswscale, and the STN core's localisation nets and training step.",
        discussion: """
            Numbers depend on the machine and its load; build with -c release before timing.

            Examples:
              swift run -c release stn-bench sampler --frames 1000 --runs 5
              swift run -c release stn-bench train --steps 30
              swift run -c release stn-bench model samples/model/attention-fashion.safetensors
            """,
        version: stnVersion,
        subcommands: [SamplerBench.self, TrainBench.self, ModelBench.self])
}
