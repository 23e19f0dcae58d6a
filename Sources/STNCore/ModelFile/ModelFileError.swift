/// Why a model or safetensors file was refused. `description` is
/// "<path>: <key>: <what is wrong>" (or "<path>: <what is wrong>" when no key is at fault).
public struct ModelFileError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        case unreadable  // cannot open or map the file
        case truncated  // shorter than its header says
        case headerTooLarge  // header length > 100 MB or > the file
        case malformedHeader  // not JSON, not an object, an entry without dtype/shape/offsets
        case unsupportedDType  // anything but F32
        case badOffsets  // offsets outside the data, or not matching the shape
        case overlapping  // two tensors share bytes
        case gap  // bytes not covered by any tensor
        case unknownKey  // a tensor the architecture does not have
        case missingKey  // a tensor the architecture needs
        case shapeMismatch  // shape differs from the architecture
        case badMetadata  // __metadata__ missing, malformed or inconsistent
        case nonFinite  // a weight is NaN or infinite
        case writeFailed
    }

    public let path: String
    public let key: String?
    public let kind: Kind
    public let message: String

    public init(path: String, key: String? = nil, kind: Kind, _ message: String) {
        self.path = path; self.key = key; self.kind = kind; self.message = message
    }

    public var description: String {
        if let key { return "\(path): \(key): \(message)" }
        return "\(path): \(message)"
    }
}
