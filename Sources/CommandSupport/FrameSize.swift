import ArgumentParser

/// `--size WxH`: positive even numbers (4:2:0 chroma needs whole 2×2 blocks), at most 16384.
/// Declared with `@Option(transform: FrameSize.init(parsing:))`, so that a bad value's message
/// says what is expected; each tool gives its own default, named in its help with `helpText`
/// (ArgumentParser shows defaults only for `ExpressibleByArgument` values).
public struct FrameSize: Sendable, Equatable, CustomStringConvertible {
    public let width: Int
    public let height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public init(parsing argument: String) throws {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]) else {
            throw ValidationError("expected WxH, e.g. 256x256")
        }
        guard w > 0, h > 0, w % 2 == 0, h % 2 == 0, w <= 16384, h <= 16384 else {
            throw ValidationError("width and height must be even, from 2 to 16384 (4:2:0 chroma)")
        }
        width = w
        height = h
    }

    public var description: String { "\(width)x\(height)" }

    /// `--size`'s help for a tool whose default is `self`.
    public func helpText(_ what: String) -> ArgumentHelp {
        ArgumentHelp("\(what), even numbers (default: \(self)).", valueName: "WxH")
    }
}
