import Foundation

/// One IDX file (LeCun's MNIST format, also Fashion-MNIST's): a 4-byte magic
/// `0x00 0x00 <type> <rank>`, `rank` big-endian UInt32 dimensions, then the elements.
/// Files ending in `.gz` (or starting with the gzip magic `1f 8b`) are decompressed first.
///
/// Only unsigned-byte data (type `0x08`) is read: every MNIST-style data set uses it, and
/// the other types (`0x09` int8 … `0x0E` float64) are refused with a message, not misread.
public struct IDXFile: Sendable {
    /// Dimensions, outermost first (`[10000, 28, 28]` for t10k images).
    public let dimensions: [Int]
    /// The elements, row-major, `dimensions.reduce(1, *)` of them.
    public let bytes: [UInt8]

    public init(dimensions: [Int], bytes: [UInt8]) {
        precondition(dimensions.reduce(1, *) == bytes.count, "\(bytes.count) bytes for dimensions \(dimensions)")
        self.dimensions = dimensions
        self.bytes = bytes
    }

    /// Reads and validates `url` (plain or gzipped).
    public init(contentsOf url: URL) throws(IDXError) {
        let raw: Data
        do { raw = try Data(contentsOf: url) } catch {
            throw IDXError(path: url.path, (error as NSError).localizedDescription)
        }
        let data = raw.starts(with: [0x1F, 0x8B]) ? try Gzip.decompress(contentsOf: url) : raw
        try self.init(data: data, path: url.path)
    }

    /// Parses IDX bytes already in memory; `path` names them in errors.
    public init(data: Data, path: String) throws(IDXError) {
        let bytes = [UInt8](data)
        guard bytes.count >= 4 else {
            throw IDXError(path: path, "truncated: \(bytes.count) bytes, an IDX header needs at least 4")
        }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw IDXError(
                path: path,
                String(
                    format: "bad magic %02x %02x %02x %02x: not an IDX file (expected 00 00 08 <rank>)",
                    bytes[0], bytes[1], bytes[2], bytes[3]))
        }
        guard bytes[2] == 0x08 else {
            let names: [UInt8: String] = [0x09: "int8", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32", 0x0E: "float64"]
            let name = names[bytes[2]].map { "\($0) data" } ?? "an unknown data type"
            throw IDXError(
                path: path,
                String(format: "data type 0x%02x (%@) is not supported; only unsigned bytes (0x08)", bytes[2], name))
        }
        let rank = Int(bytes[3])
        guard (1...4).contains(rank) else { throw IDXError(path: path, "rank \(rank) is outside 1…4") }
        let headerLength = 4 + 4 * rank
        guard bytes.count >= headerLength else {
            throw IDXError(
                path: path, "truncated: \(bytes.count) bytes, the header of a rank-\(rank) file needs \(headerLength)")
        }
        var dimensions: [Int] = []
        for axis in 0..<rank {
            let offset = 4 + 4 * axis
            let value =
                Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8
                | Int(bytes[offset + 3])
            dimensions.append(value)
        }
        // Dimensions are < 2³², so the product of four fits in Int only when checked step by step.
        var expected = 1
        for dimension in dimensions {
            let (product, overflow) = expected.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= Int(Int32.max) else {
                throw IDXError(path: path, "dimensions \(dimensions) are too large")
            }
            expected = product
        }
        let available = bytes.count - headerLength
        guard available == expected else {
            let what = available < expected ? "truncated" : "trailing data"
            throw IDXError(
                path: path,
                "\(what): dimensions \(dimensions.map(String.init).joined(separator: "×")) need \(expected) data bytes, the file has \(available)"
            )
        }
        self.dimensions = dimensions
        self.bytes = Array(bytes[headerLength...])
    }

    /// The IDX encoding of this file (uncompressed).
    public var encoded: Data {
        var data = Data([0, 0, 0x08, UInt8(dimensions.count)])
        for dimension in dimensions {
            data.append(contentsOf: [
                UInt8(truncatingIfNeeded: dimension >> 24), UInt8(truncatingIfNeeded: dimension >> 16),
                UInt8(truncatingIfNeeded: dimension >> 8), UInt8(truncatingIfNeeded: dimension)
            ])
        }
        data.append(contentsOf: bytes)
        return data
    }
}

/// A data-set file that cannot be used; `description` is `<path>: <why>`.
public struct IDXError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String
    public init(path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}

/// gzip decompression by `gzip -dc FILE`: Foundation on Linux has no inflate and the package
/// links no zlib, while gzip is on every Debian system (Essential: yes).
enum Gzip {
    static func decompress(contentsOf url: URL) throws(IDXError) -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc", "--", url.path]
        let output = Pipe(), errors = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch {
            throw IDXError(
                path: url.path, "cannot run /bin/gzip to decompress: \((error as NSError).localizedDescription)")
        }
        // stdout is drained before stderr is read: gzip's few lines of stderr fit in the pipe.
        let result = output.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let line =
                message.split(separator: "\n").first.map(String.init) ?? "exit status \(process.terminationStatus)"
            let why = line.replacingOccurrences(of: "gzip: \(url.path): ", with: "")
            throw IDXError(path: url.path, "gzip data is damaged: \(why)")
        }
        return result
    }
}
