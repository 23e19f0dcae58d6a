import Foundation

/// The top-level boxes of an ISO base media file (MP4, MOV), read to say why FFmpeg refused
/// one: its mov demuxer logs "moov atom not found" but returns only "invalid data".
enum MP4Boxes {
    /// True for a file that starts as an MP4 (an `ftyp` box) but whose top level holds no
    /// `moov` box (the index): a recording cut short, or one still being written.
    static func lacksIndex(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        var offset: UInt64 = 0
        var types: [String] = []
        // A few hundred boxes at most: an MP4's top level is ftyp, moov, mdat, free and a few others.
        while types.count < 1000 {
            guard (try? handle.seek(toOffset: offset)) != nil,
                let header = try? handle.read(upToCount: 16), header.count >= 8
            else { break }
            let bytes = [UInt8](header)
            var size = bytes[0..<4].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let type = String(decoding: bytes[4..<8], as: UTF8.self)
            types.append(type)
            if size == 1 {
                guard bytes.count >= 16 else { break }
                size = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            }
            if size == 0 || size < 8 { break }  // to the end of the file, or not a box
            offset += size
        }
        return types.first == "ftyp" && !types.contains("moov")
    }
}
