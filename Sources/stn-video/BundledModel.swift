import CBundledModel
import CommandSupport
import Foundation
import STNCore

/// The attention model compiled into stn-video (samples/model/attention-fashion.safetensors at
/// build time), used when no `--model` is given.
enum BundledModel {
    static let name = "bundled model (samples/model/attention-fashion.safetensors)"

    static func load() throws -> STNModel {
        let size = stn_bundled_model_size()
        guard size > 0, let bytes = stn_bundled_model_bytes() else {
            throw ToolError(name, "this build has no bundled model; give --model, --theta or --transforms")
        }
        return try STNModel.load(bytes: Data(bytes: bytes, count: size), path: name)
    }
}
