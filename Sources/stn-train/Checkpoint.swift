#if canImport(Glibc)
    import Glibc
#endif
import CommandSupport
import Foundation
import STNCore

/// `checkpoint.safetensors` (the weights, as a model file) and `checkpoint.json` (where the
/// run was), both replaced atomically so an interrupted run leaves the previous pair.
/// Optimiser state (momentum) is not saved: a resumed run restarts it, which costs a few
/// steps of warm-up and nothing else.
struct Checkpoint {
    struct State: Codable {
        var step: Int
        var trainSeconds: Double
        var signature: String
        var mean: Float
        var std: Float
    }

    let directory: URL
    var weightsURL: URL { directory.appendingPathComponent("checkpoint.safetensors") }
    var stateURL: URL { directory.appendingPathComponent("checkpoint.json") }

    func readState() throws(ToolError) -> State? {
        guard FileManager.default.fileExists(atPath: stateURL.path) else { return nil }
        return try naming(stateURL.path) { try JSONDecoder().decode(State.self, from: Data(contentsOf: stateURL)) }
    }

    func write(_ network: any TrainableClassifier, state: State) throws(ToolError) {
        let temporary = directory.appendingPathComponent("checkpoint.tmp.safetensors")
        try naming(temporary.path) { try network.save(to: temporary) }
        guard rename(temporary.path, weightsURL.path) == 0 else {
            throw ToolError(weightsURL.path, "cannot replace the checkpoint: \(String(cString: strerror(errno)))")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try naming(stateURL.path) { try encoder.encode(state).write(to: stateURL, options: .atomic) }
    }
}
