import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps the process on `count` CPUs (`sched_setaffinity`): STNCore's grid generators and
/// sampler fan out with `DispatchQueue.concurrentPerform` and OpenBLAS is single-threaded, so
/// pinning is what makes `--threads 1` leave the other cores free. Threads started later
/// (Dispatch's workers) inherit the mask. The CPUs kept are the least busy over a fifth of a
/// second, so that two `--threads 1` runs started side by side land on different cores.
enum ThreadLimit {
    /// Returns the CPUs kept, or nil when the limit could not be applied (not Linux, or an error).
    @discardableResult
    static func apply(_ count: Int) -> [Int]? {
        #if os(Linux)
            // glibc declares these only under _GNU_SOURCE, which Swift's Glibc module does not set.
            typealias Affinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
            guard let get = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_getaffinity"),
                let set = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_setaffinity")
            else { return nil }
            let getAffinity = unsafeBitCast(get, to: Affinity.self), setAffinity = unsafeBitCast(set, to: Affinity.self)
            var mask = [UInt8](repeating: 0, count: 128)  // cpu_set_t: 1024 CPUs
            guard mask.withUnsafeMutableBytes({ getAffinity(0, 128, $0.baseAddress!) }) == 0 else { return nil }
            let allowed = (0..<1024).filter { mask[$0 / 8] & (1 << ($0 % 8)) != 0 }
            let kept = Array(idlestFirst(allowed).prefix(max(count, 1))).sorted()
            mask = [UInt8](repeating: 0, count: 128)
            for cpu in kept { mask[cpu / 8] |= UInt8(1 << (cpu % 8)) }
            guard mask.withUnsafeMutableBytes({ setAffinity(0, 128, $0.baseAddress!) }) == 0 else { return nil }
            return kept
        #else
            return nil
        #endif
    }

    /// `cpus` ordered by their busy time over 0.2 s (`/proc/stat`), idlest first; as given when
    /// `/proc/stat` cannot be read.
    static func idlestFirst(_ cpus: [Int]) -> [Int] {
        func busy() -> [Int: Int]? {
            guard let file = fopen("/proc/stat", "r") else { return nil }
            defer { fclose(file) }
            var result: [Int: Int] = [:]
            var line: UnsafeMutablePointer<CChar>?
            var capacity = 0
            defer { free(line) }
            while getline(&line, &capacity, file) > 0, let line {
                let fields = String(cString: line).split(separator: " ")
                guard let name = fields.first, name.hasPrefix("cpu"), let cpu = Int(name.dropFirst(3)) else { continue }
                // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
                let ticks = fields.dropFirst().prefix(8).compactMap {
                    Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
                }
                guard ticks.count == 8 else { continue }
                result[cpu] = ticks.reduce(0, +) - ticks[3] - ticks[4]
            }
            return result
        }
        guard cpus.count > 1, let before = busy() else { return cpus }
        usleep(200_000)
        guard let after = busy() else { return cpus }
        let load = Dictionary(uniqueKeysWithValues: cpus.map { ($0, (after[$0] ?? 0) - (before[$0] ?? 0)) })
        return cpus.sorted { (load[$0]!, $0) < (load[$1]!, $1) }
    }
}
