#if canImport(Glibc)
    import Glibc
#endif

/// Keeps the process on `count` CPUs (`sched_setaffinity`): STNCore's grid generators and
/// sampler fan out with `DispatchQueue.concurrentPerform` and OpenBLAS is single-threaded, so
/// pinning is what makes `--threads 1` leave the other cores free. Threads started later
/// (Dispatch's workers) inherit the mask.
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
            let kept = Array(allowed.prefix(max(count, 1)))
            mask = [UInt8](repeating: 0, count: 128)
            for cpu in kept { mask[cpu / 8] |= UInt8(1 << (cpu % 8)) }
            guard mask.withUnsafeMutableBytes({ setAffinity(0, 128, $0.baseAddress!) }) == 0 else { return nil }
            return kept
        #else
            return nil
        #endif
    }
}
