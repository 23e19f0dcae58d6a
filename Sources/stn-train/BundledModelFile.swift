import CBundledModel
import CommandSupport
import Foundation

/// The model stn-video runs by default (samples/model/attention-fashion.safetensors at build
/// time), compiled into stn-train too, so that video-eval finds it from any working directory.
enum BundledModelFile {
    static let name = "bundled model (samples/model/attention-fashion.safetensors)"

    /// A temporary file holding the model's bytes, for code that reads model files by path;
    /// the caller removes it.
    static func temporaryCopy() throws -> URL {
        let size = stn_bundled_model_size()
        guard size > 0, let bytes = stn_bundled_model_bytes() else {
            throw ToolError(name, "this build has no bundled model; give --model")
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stn-train-bundled-\(UUID().uuidString).safetensors")
        try naming(url.path) { try Data(bytes: bytes, count: size).write(to: url) }
        return url
    }
}
