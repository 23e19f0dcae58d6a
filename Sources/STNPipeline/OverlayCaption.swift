import STNMedia

/// A one-line caption on the overlay video ("ANKLE BOOT 97%  PRESENT 99%"), in a 5×7 pixel
/// font scaled to the frame, white on a black box, at the top-left corner of the picture.
/// FFmpeg's drawtext lives in libavfilter with FreeType, neither of which the project links;
/// the caption needs only capitals, digits and a few signs.
enum OverlayCaption {
    /// Rows of each glyph, top to bottom, 5 bits each (bit 4 = leftmost column).
    static let glyphs: [Character: [UInt8]] = [
        "A": [14, 17, 17, 31, 17, 17, 17], "B": [30, 17, 17, 30, 17, 17, 30], "C": [14, 17, 16, 16, 16, 17, 14],
        "D": [30, 17, 17, 17, 17, 17, 30], "E": [31, 16, 16, 30, 16, 16, 31], "F": [31, 16, 16, 30, 16, 16, 16],
        "G": [14, 17, 16, 23, 17, 17, 15], "H": [17, 17, 17, 31, 17, 17, 17], "I": [14, 4, 4, 4, 4, 4, 14],
        "J": [7, 2, 2, 2, 2, 18, 12], "K": [17, 18, 20, 24, 20, 18, 17], "L": [16, 16, 16, 16, 16, 16, 31],
        "M": [17, 27, 21, 21, 17, 17, 17], "N": [17, 17, 25, 21, 19, 17, 17], "O": [14, 17, 17, 17, 17, 17, 14],
        "P": [30, 17, 17, 30, 16, 16, 16], "Q": [14, 17, 17, 17, 21, 18, 13], "R": [30, 17, 17, 30, 20, 18, 17],
        "S": [15, 16, 16, 14, 1, 1, 30], "T": [31, 4, 4, 4, 4, 4, 4], "U": [17, 17, 17, 17, 17, 17, 14],
        "V": [17, 17, 17, 17, 17, 10, 4], "W": [17, 17, 17, 21, 21, 21, 10], "X": [17, 17, 10, 4, 10, 17, 17],
        "Y": [17, 17, 10, 4, 4, 4, 4], "Z": [31, 1, 2, 4, 8, 16, 31],
        "0": [14, 17, 19, 21, 25, 17, 14], "1": [4, 12, 4, 4, 4, 4, 14], "2": [14, 17, 1, 2, 4, 8, 31],
        "3": [31, 2, 4, 2, 1, 17, 14], "4": [2, 6, 10, 18, 31, 2, 2], "5": [31, 16, 30, 1, 1, 17, 14],
        "6": [6, 8, 16, 30, 17, 17, 14], "7": [31, 1, 2, 4, 8, 8, 8], "8": [14, 17, 17, 14, 17, 17, 14],
        "9": [14, 17, 17, 15, 1, 2, 12],
        "%": [24, 25, 2, 4, 8, 19, 3], "/": [1, 1, 2, 4, 8, 16, 16], "-": [0, 0, 0, 31, 0, 0, 0],
        ".": [0, 0, 0, 0, 0, 12, 12], ":": [0, 12, 12, 0, 12, 12, 0], " ": [0, 0, 0, 0, 0, 0, 0]
    ]

    /// The caption of an observation.
    static func text(_ seen: GlimpseObservation) -> String {
        "\(seen.label) \(Int((100 * seen.confidence).rounded()))%  PRESENT \(Int((100 * seen.presence).rounded()))%"
            .uppercased()
    }

    /// Draws `text` on the luma plane of a 4:2:0 frame and greys the chroma behind it; characters
    /// without a glyph are drawn as spaces.
    static func draw(_ text: String, on frame: VideoFrame) {
        let scale = max(1, frame.height / 180)
        let margin = 2 * scale, advance = 6 * scale
        let width = min(frame.width, margin * 2 + advance * text.count),
            height = min(frame.height, margin * 2 + 7 * scale)
        let luma = frame.mutableBaseAddress(0), stride = frame.stride(0)
        for y in 0..<height { (luma + y * stride).update(repeating: 16, count: width) }
        let u = frame.mutableBaseAddress(1), v = frame.mutableBaseAddress(2), chromaStride = frame.stride(1)
        for y in 0..<((height + 1) / 2) {
            (u + y * chromaStride).update(repeating: 128, count: (width + 1) / 2)
            (v + y * chromaStride).update(repeating: 128, count: (width + 1) / 2)
        }
        for (i, character) in text.enumerated() {
            guard let rows = glyphs[character] else { continue }
            for (row, bits) in rows.enumerated() {
                for column in 0..<5 where bits & (16 >> column) != 0 {
                    let x0 = margin + i * advance + column * scale, y0 = margin + row * scale
                    for y in y0..<min(y0 + scale, height) where x0 < width {
                        (luma + y * stride + x0).update(repeating: 235, count: min(scale, width - x0))
                    }
                }
            }
        }
    }
}
