import Foundation

/// safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length n, n bytes of JSON `{"__metadata__": {str: str}, name: {"dtype", "shape",
/// "data_offsets": [begin, end]}, …}` (offsets relative to the end of the header), then the
/// raw little-endian tensor bytes.
///
/// Reading is split so that nothing proportional to the file's claims is allocated before
/// the claims are checked: `readHeader` maps the file (no copy), bounds the header length
/// (≤ 100 MB and ≤ the file), parses the JSON and checks every entry — dtype F32 only,
/// shape non-negative without overflow, offsets inside the data and matching the shape,
/// tensors contiguous, non-overlapping, covering the data exactly. Only then does
/// `tensors(…)` copy the data out.
public enum Safetensors {
    public static let maximumHeaderLength = 100_000_000

    public struct Entry: Equatable, Sendable {
        public let name: String
        public let shape: [Int]
        public let begin: Int  // byte offsets into the data section
        public let end: Int
        public var elementCount: Int { (end - begin) / 4 }
    }

    /// A validated header over a memory-mapped file.
    public struct File: @unchecked Sendable {
        public let path: String
        public let metadata: [String: String]
        public let entries: [Entry]  // sorted by offset
        let bytes: Data
        let dataStart: Int

        public var entryNames: Set<String> { Set(entries.map(\.name)) }

        /// Copies every tensor out of the file.
        public func tensors() -> [String: Tensor] {
            var result: [String: Tensor] = [:]
            bytes.withUnsafeBytes { raw in
                for entry in entries {
                    let tensor = Tensor(shape: entry.shape)
                    if entry.end > entry.begin {
                        UnsafeMutableRawPointer(tensor.data).copyMemory(
                            from: raw.baseAddress! + dataStart + entry.begin, byteCount: entry.end - entry.begin)
                    }
                    result[entry.name] = tensor
                }
            }
            return result
        }
    }

    /// Maps `url` and validates its header (see the type's documentation).
    public static func readHeader(contentsOf url: URL) throws -> File {
        let path = url.path
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            var isDirectory: ObjCBool = false
            let why =
                !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
                ? "no such file"
                : isDirectory.boolValue
                    ? "is a directory"
                    : (error as? CocoaError)?.underlying.flatMap {
                        ($0 as? POSIXError).map { String(cString: strerror($0.code.rawValue)) }
                    }
                    .map { "cannot read the file (\($0))" } ?? "cannot read the file"
            throw ModelFileError(path: path, kind: .unreadable, why)
        }
        return try readHeader(bytes: bytes, path: path)
    }

    public static func readHeader(bytes: Data, path: String) throws -> File {
        let fileSize = bytes.count
        guard fileSize >= 8 else {
            throw ModelFileError(
                path: path, kind: .truncated,
                "truncated: \(fileSize) bytes, shorter than the 8-byte header length (not a safetensors file?)")
        }
        let headerLength: UInt64 = bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> UInt64 in
            var value: UInt64 = 0
            for index in 0..<8 { value |= UInt64(raw[index]) << UInt64(8 * index) }
            return value
        }
        guard headerLength <= UInt64(maximumHeaderLength) else {
            throw ModelFileError(
                path: path, kind: .headerTooLarge,
                "header length \(headerLength) exceeds the 100 MB limit (not a safetensors file?)")
        }
        guard headerLength <= UInt64(fileSize - 8) else {
            throw ModelFileError(
                path: path, kind: .truncated,
                "truncated: header length \(headerLength) but only \(fileSize - 8) bytes follow")
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = fileSize - dataStart
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<dataStart), options: [])
        } catch {
            throw ModelFileError(path: path, kind: .malformedHeader, "header is not valid JSON")
        }
        guard let object = json as? [String: Any] else {
            throw ModelFileError(path: path, kind: .malformedHeader, "header is not a JSON object")
        }

        var metadata: [String: String] = [:]
        if let raw = object["__metadata__"] {
            guard let dictionary = raw as? [String: Any] else {
                throw ModelFileError(path: path, key: "__metadata__", kind: .badMetadata, "is not an object of strings")
            }
            for (key, value) in dictionary {
                guard let string = value as? String else {
                    throw ModelFileError(
                        path: path, key: "__metadata__", kind: .badMetadata, "value of \"\(key)\" is not a string")
                }
                metadata[key] = string
            }
        }

        var entries: [Entry] = []
        for (name, raw) in object where name != "__metadata__" {
            guard let info = raw as? [String: Any] else {
                throw ModelFileError(path: path, key: name, kind: .malformedHeader, "entry is not an object")
            }
            guard let dtype = info["dtype"] as? String else {
                throw ModelFileError(path: path, key: name, kind: .malformedHeader, "missing dtype")
            }
            guard dtype == "F32" else {
                throw ModelFileError(
                    path: path, key: name, kind: .unsupportedDType, "dtype \(dtype) is not supported (only F32)")
            }
            guard let shapeValues = info["shape"] as? [Any], let shape = integers(shapeValues),
                shape.allSatisfy({ $0 >= 0 })
            else {
                throw ModelFileError(
                    path: path, key: name, kind: .malformedHeader, "shape is not a list of non-negative integers")
            }
            guard let offsetValues = info["data_offsets"] as? [Any], let offsets = integers(offsetValues),
                offsets.count == 2
            else {
                throw ModelFileError(
                    path: path, key: name, kind: .malformedHeader, "data_offsets is not a pair of integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end else {
                throw ModelFileError(
                    path: path, key: name, kind: .badOffsets,
                    "data_offsets [\(begin), \(end)] are not an ascending pair")
            }
            guard end <= dataSize else {
                throw ModelFileError(
                    path: path, key: name, kind: .truncated,
                    "truncated: data_offsets [\(begin), \(end)] reach beyond the \(dataSize) data bytes")
            }
            var elements = 1
            for dimension in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= dataSize else {
                    throw ModelFileError(
                        path: path, key: name, kind: .badOffsets, "shape \(shape) is larger than the file")
                }
                elements = product
            }
            guard end - begin == elements * 4 else {
                throw ModelFileError(
                    path: path, key: name, kind: .badOffsets,
                    "data_offsets [\(begin), \(end)] hold \(end - begin) bytes, shape \(shape) needs \(elements * 4)")
            }
            entries.append(Entry(name: name, shape: shape, begin: begin, end: end))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var position = 0
        for entry in entries {
            if entry.begin < position {
                throw ModelFileError(
                    path: path, key: entry.name, kind: .overlapping,
                    "data_offsets [\(entry.begin), \(entry.end)] overlap the previous tensor (ending at \(position))")
            }
            if entry.begin > position {
                throw ModelFileError(
                    path: path, key: entry.name, kind: .gap,
                    "data_offsets [\(entry.begin), \(entry.end)] leave bytes \(position)..<\(entry.begin) unused")
            }
            position = entry.end
        }
        if position != dataSize {
            throw ModelFileError(path: path, kind: .gap, "\(dataSize - position) bytes after the last tensor")
        }
        return File(path: path, metadata: metadata, entries: entries, bytes: bytes, dataStart: dataStart)
    }

    /// Reads, validates and copies out every tensor (no architecture check).
    public static func load(contentsOf url: URL) throws -> (metadata: [String: String], tensors: [String: Tensor]) {
        let file = try readHeader(contentsOf: url)
        return (file.metadata, file.tensors())
    }

    /// The file's bytes: header (keys sorted, padded with spaces to a multiple of 8, as the
    /// Python package does) followed by the tensors in name order.
    public static func encode(tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        let ordered = tensors.sorted { $0.name < $1.name }
        var offset = 0
        for (name, tensor) in ordered {
            precondition(name != "__metadata__" && header[name] == nil, "duplicate tensor name \(name)")
            header[name] =
                ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + 4 * tensor.count]]
                as [String: Any]
            offset += 4 * tensor.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var data = Data(capacity: 8 + json.count + offset)
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(json)
        for (_, tensor) in ordered {
            data.append(UnsafeBufferPointer(start: tensor.data, count: tensor.count))
        }
        return data
    }

    public static func write(tensors: [(name: String, tensor: Tensor)], metadata: [String: String], to url: URL) throws
    {
        do {
            try encode(tensors: tensors, metadata: metadata).write(to: url, options: .atomic)
        } catch let error as ModelFileError {
            throw error
        } catch {
            throw ModelFileError(path: url.path, kind: .writeFailed, "cannot write (\(error.localizedDescription))")
        }
    }

    private static func integers(_ values: [Any]) -> [Int]? {
        var result: [Int] = []
        result.reserveCapacity(values.count)
        for value in values {
            // JSON numbers arrive as NSNumber; refuse booleans, fractions and huge values.
            // (`is Bool` is true for every NSNumber on Linux; the boolean class is __NSCFBoolean.)
            guard let number = value as? NSNumber, !String(describing: type(of: value)).contains("Boolean") else {
                return nil
            }
            let double = number.doubleValue
            guard double.rounded() == double, abs(double) < 9e15 else { return nil }
            result.append(Int(double))
        }
        return result
    }
}
