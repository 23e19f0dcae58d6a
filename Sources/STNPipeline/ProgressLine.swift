import Foundation

/// The `frames, fps, ETA` line on standard error, redrawn in place twice a second.
final class ProgressLine: @unchecked Sendable {
    private let counter: FrameCounter
    private let expectedFrames: Int?
    private let start = DispatchTime.now()
    private let timer: DispatchSourceTimer
    private var lastLength = 0

    init(counter: FrameCounter, expectedFrames: Int?) {
        self.counter = counter
        self.expectedFrames = expectedFrames
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "stn.progress"))
        timer.schedule(deadline: .now() + .milliseconds(500), repeating: .milliseconds(500))
        timer.setEventHandler { [weak self] in self?.draw(final: false) }
        timer.resume()
    }

    func finish() {
        timer.cancel()
        draw(final: true)
    }

    private func draw(final: Bool) {
        let frames = counter.count
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let fps = elapsed > 0 ? Double(frames) / elapsed : 0
        var text = "frame \(frames)"
        if let total = expectedFrames, total > 0 { text += "/\(total)" }
        text += String(format: "  %.1f fps", fps)
        if let total = expectedFrames, total > frames, fps > 0, !final {
            let remaining = Double(total - frames) / fps
            text += String(format: "  ETA %d:%02d", Int(remaining) / 60, Int(remaining) % 60)
        }
        let padded = text.padding(toLength: max(text.count, lastLength), withPad: " ", startingAt: 0)
        lastLength = text.count
        FileHandle.standardError.write(Data(("\r" + padded + (final ? "\n" : "")).utf8))
    }
}
