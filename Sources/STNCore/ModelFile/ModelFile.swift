import COpenBLAS
import Foundation

/// Model files: safetensors with the `__metadata__` of `ModelConfig` (see its table) and
/// the tensors `loc.*`, `fc_loc.*` and, for an ST-CNN, `classifier.*` in PyTorch layouts.
///
/// Loading is strict and checks everything before it allocates tensor storage:
/// 1. the safetensors structure (`Safetensors.readHeader`: header length ≤ 100 MB and ≤ the
///    file, JSON, F32 only, offsets inside the data, contiguous and non-overlapping);
/// 2. the metadata (format name and version, transform kind, architecture within bounds);
/// 3. the tensor set against the architecture: no unknown key, no missing key, every shape equal.
/// Every error is a `ModelFileError` naming the file and the key.
public enum ModelFile {
    public static func read(contentsOf url: URL) throws -> (config: ModelConfig, tensors: [String: Tensor]) {
        try read(Safetensors.readHeader(contentsOf: url))
    }

    /// The same for bytes already in memory; `path` names them in errors.
    public static func read(bytes: Data, path: String) throws -> (config: ModelConfig, tensors: [String: Tensor]) {
        try read(Safetensors.readHeader(bytes: bytes, path: path))
    }

    private static func read(_ file: Safetensors.File) throws -> (config: ModelConfig, tensors: [String: Tensor]) {
        let path = file.path
        let config: ModelConfig
        do {
            config = try ModelConfig(metadata: file.metadata)
        } catch {
            throw ModelFileError(path: path, key: "__metadata__.\(error.key)", kind: .badMetadata, error.message)
        }
        let expected: [(name: String, shape: [Int])]
        do { expected = try config.expectedTensors() } catch {
            throw ModelFileError(path: path, key: "__metadata__", kind: .badMetadata, String(describing: error))
        }
        let expectedShapes = Dictionary(expected.map { ($0.name, $0.shape) }, uniquingKeysWith: { first, _ in first })
        for entry in file.entries.sorted(by: { $0.name < $1.name }) {
            guard let shape = expectedShapes[entry.name] else {
                throw ModelFileError(
                    path: path, key: entry.name, kind: .unknownKey,
                    "unexpected tensor: not part of the \(config.transformer.transform.rawValue) architecture in __metadata__"
                )
            }
            guard shape == entry.shape else {
                throw ModelFileError(
                    path: path, key: entry.name, kind: .shapeMismatch,
                    "shape \(entry.shape) in the file, the architecture needs \(shape)")
            }
        }
        let present = file.entryNames
        if let missing = expected.first(where: { !present.contains($0.name) }) {
            throw ModelFileError(
                path: path, key: missing.name, kind: .missingKey, "missing tensor (shape \(missing.shape))")
        }
        let tensors = file.tensors()
        // A diverged training run saves NaNs; such a model would predict no window at all.
        for (name, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            if let index = (0..<tensor.count).first(where: { !tensor.data[$0].isFinite }) {
                throw ModelFileError(
                    path: path, key: name, kind: .nonFinite,
                    "value \(index) is \(tensor.data[index]), not a finite number")
            }
        }
        return (config, tensors)
    }

    public static func write(config: ModelConfig, parameters: [(name: String, parameter: Parameter)], to url: URL)
        throws
    {
        try Safetensors.write(
            tensors: parameters.map { ($0.name, $0.parameter.value) }, metadata: config.metadata, to: url)
    }

    /// Copies `tensors` into the parameters of the same names (shapes already validated).
    static func assign(_ tensors: [String: Tensor], to parameters: [(name: String, parameter: Parameter)]) {
        for (name, parameter) in parameters {
            guard let tensor = tensors[name] else { preconditionFailure("no tensor \(name)") }
            parameter.value.copy(from: tensor)
        }
    }
}

/// OpenBLAS runs single-threaded (COpenBLAS loads it so, before its worker threads could
/// start): on this project's machines a second BLAS thread gives no speedup, and callers
/// parallelise over frames or batch items themselves.
enum BLASConfiguration {
    /// OpenBLAS's thread count: 1, or 0 if the library could not be loaded.
    static var threads: Int { Int(stn_openblas_threads()) }
    /// The kernel set OpenBLAS runs ("Haswell", "SkylakeX", …).
    static var core: String { String(cString: stn_openblas_core()) }
    /// Whether the CPU runs AVX2 and FMA.
    static var cpuRunsAVX2: Bool { stn_cpu_runs_avx2() != 0 }
}
