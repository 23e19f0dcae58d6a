import CBundledModel
import Foundation
import STNCore

/// The attention model compiled into the binary (samples/model/attention-fashion.safetensors),
/// used when no `--model` is given.
public enum BundledModel {
    public static let name = "bundled model (samples/model/attention-fashion.safetensors)"

    public static func load() throws -> STNModel {
        guard stn_bundled_model_size > 0 else {
            throw PipelineError(path: name, "this build has no bundled model; give --model, --theta or --transforms")
        }
        let bytes = Data(bytes: stn_bundled_model_bytes_pointer(), count: Int(stn_bundled_model_size))
        return try STNModel.load(bytes: bytes, path: name)
    }
}
