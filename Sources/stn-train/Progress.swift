#if canImport(Glibc)
    import Glibc
#endif
import Foundation

/// Training progress on standard error: one rewritten line on a terminal, plain lines every
/// `every` steps otherwise (logs of background runs).
final class Progress {
    let total: Int
    let quiet: Bool
    let every: Int
    let terminal = isatty(STDERR_FILENO) != 0
    private var smoothedLoss: Float?
    private var windowCorrect = 0, windowSeen = 0
    private var lastDraw = 0.0
    private var drewLine = false

    init(total: Int, quiet: Bool, every: Int) { self.total = total; self.quiet = quiet; self.every = every }

    func update(step: Int, epoch: Int, loss: Float, correct: Int, batch: Int, imagesPerSecond: Double, seconds: Double)
    {
        smoothedLoss = smoothedLoss.map { 0.98 * $0 + 0.02 * loss } ?? loss
        windowCorrect += correct; windowSeen += batch
        guard !quiet else { return }
        let due = terminal ? (seconds - lastDraw >= 0.25 || step == total) : (step % every == 0 || step == total)
        guard due else { return }
        lastDraw = seconds
        let accuracy = 100 * Double(windowCorrect) / Double(max(windowSeen, 1))
        let eta = imagesPerSecond > 0 ? Double(total - step) * Double(batch) / imagesPerSecond : 0
        let line = String(
            format: "step %d/%d (%.0f%%) epoch %d  loss %.4f  train acc %.1f%%  %.0f img/s  %@ elapsed, ETA %@",
            step, total, 100 * Double(step) / Double(total), epoch + 1, smoothedLoss ?? 0, accuracy, imagesPerSecond,
            Self.clock(seconds), Self.clock(eta))
        if terminal {
            write("\r\u{1B}[K" + line)
            drewLine = true
        } else {
            write(line + "\n")
            windowCorrect = 0; windowSeen = 0
        }
    }

    func finish() {
        if drewLine { write("\n"); drewLine = false }
    }

    func note(_ message: String) {
        guard !quiet else { return }
        finish()
        write("stn-train: \(message)\n")
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return String(format: "%d:%02d", s / 60, s % 60)
    }
}
