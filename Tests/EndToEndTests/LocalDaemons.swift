import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Real engines for the batch scripts' tests, started by the test and stopped by pid: a
/// one-node Slurm cluster and an ssh server, each listening on the loopback address only, with
/// every file (configuration, keys, sockets, spool, logs) in a fresh folder. Nothing under
/// /etc or ~/.ssh is read or changed. Both skip the test, naming the missing package, where
/// they cannot run.
enum LocalDaemons {
    /// Throws XCTSkip unless the tests run as root (slurmd and sshd switch users).
    static func requireRoot(_ what: String) throws {
        guard getuid() == 0 else { throw XCTSkip("\(what) needs root (CI runs the tests as root)") }
    }

    /// Throws XCTSkip naming `package` unless every one of `paths` is an executable file.
    static func require(_ paths: [String], package: String) throws {
        for path in paths where !FileManager.default.isExecutableFile(atPath: path) {
            throw XCTSkip("\(path) is missing: install Debian's \(package) (scripts/setup.sh installs it)")
        }
    }

    /// `count` distinct TCP ports that are free on 127.0.0.1 now (bound together, then released).
    static func freeLoopbackPorts(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw NSError(domain: "socket", code: Int(errno)) }
            sockets.append(fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
                }
            }
            guard bound else { throw NSError(domain: "bind", code: Int(errno)) }
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }

    /// Runs a bash script that starts daemons, with no descriptor of ours left open in them:
    /// its output goes to `log`, not to a pipe, and every other inherited descriptor is closed
    /// first (Foundation's Process learns that a child ended when a socket it inherited closes,
    /// so a daemon keeping it would make waiting for the script hang). Returns the script's
    /// exit status and its output.
    static func launch(_ script: String, log: String) throws -> (status: Int32, output: String) {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        let closeInherited =
            "for fd in $(ls /proc/$$/fd); do [ \"$fd\" -gt 2 ] && eval \"exec $fd>&-\"; done 2> /dev/null\n"
        process.arguments = ["-c", closeInherited + script]
        process.standardInput = FileHandle.nullDevice
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        try output.close()
        return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// The pid in a daemon's pid file, waiting up to `seconds` for the file to appear.
    static func pid(inFile path: String, seconds: Double = 10) -> pid_t? {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
            {
                return pid
            }
            usleep(50_000)
        } while Date() < deadline
        return nil
    }

    /// Stops a daemon this test started: SIGTERM, then SIGKILL if it is still there after 5 s.
    static func stop(_ pid: pid_t) {
        guard kill(pid, SIGTERM) == 0 else { return }
        let deadline = Date().addingTimeInterval(5)
        while kill(pid, 0) == 0 && Date() < deadline { usleep(50_000) }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
    }

    /// The last lines of a daemon's log, for a skip or failure message.
    static func tail(_ path: String) -> String {
        (try? Tools.shell("tail -n 5 '\(path)' 2>&1").stdoutText) ?? ""
    }
}

/// A one-node Slurm cluster on 127.0.0.1: munged, slurmctld and slurmd, as Debian's slurm-wlm
/// and munge install them, with a private configuration (`SLURM_CONF`), munge socket and ports.
/// Client commands reach it with `environment` in front of them.
final class LocalSlurmCluster {
    let directory: TemporaryDirectory
    private var pids: [pid_t] = []

    /// `SLURM_CONF=…`: put it in front of sbatch, squeue, scontrol (and the scripts that call them).
    var environment: String { "SLURM_CONF='\(directory.path("slurm.conf"))'" }

    init() throws {
        try LocalDaemons.require(["/usr/sbin/munged", "/usr/bin/munge"], package: "munge")
        try LocalDaemons.require(
            ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch", "/usr/bin/squeue"], package: "slurm-wlm")
        try LocalDaemons.requireRoot("A test Slurm cluster")
        directory = try TemporaryDirectory()
        do { try start() } catch { stop(); throw error }
    }

    private func start() throws {
        let d = directory.path("")
        let ports = try LocalDaemons.freeLoopbackPorts(2)
        let host = try Tools.shell("hostname -s").stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        // munged insists on a key readable by its user only and a socket folder others may enter.
        let started = try LocalDaemons.launch(
            """
            set -e; cd '\(d)'; mkdir -p munge state spool log; chmod 755 . munge
            head -c 1024 /dev/urandom > munge/key; chmod 400 munge/key
            /usr/sbin/munged --socket='\(d)/munge/socket' --key-file='\(d)/munge/key' --log-file='\(d)/munge/log' \
              --pid-file='\(d)/munge/pid' --seed-file='\(d)/munge/seed'
            """, log: d + "/munged.out")
        guard started.status == 0, let munged = LocalDaemons.pid(inFile: d + "/munge/pid") else {
            throw XCTSkip("munged cannot run here: \(started.output)\(LocalDaemons.tail(d + "/munge/log"))")
        }
        pids.append(munged)
        // The node's CPUs and memory as configured whatever the machine has (config_overrides),
        // so slurm-array.sh's --cpus-per-task=2 --mem=2G fit and two tasks run at once.
        try """
        ClusterName=stntest
        SlurmctldHost=\(host)(127.0.0.1)
        SlurmctldPort=\(ports[0])
        SlurmdPort=\(ports[1])
        SlurmUser=root
        SlurmdUser=root
        AuthType=auth/munge
        CredType=cred/munge
        AuthInfo=socket=\(d)/munge/socket
        MpiDefault=none
        ProctrackType=proctrack/linuxproc
        TaskPlugin=task/none
        ReturnToService=2
        SlurmdParameters=config_overrides
        SchedulerType=sched/backfill
        SelectType=select/cons_tres
        SelectTypeParameters=CR_Core
        StateSaveLocation=\(d)/state
        SlurmdSpoolDir=\(d)/spool
        SlurmctldPidFile=\(d)/slurmctld.pid
        SlurmdPidFile=\(d)/slurmd.pid
        SlurmctldLogFile=\(d)/log/slurmctld.log
        SlurmdLogFile=\(d)/log/slurmd.log
        NodeName=stntest NodeHostname=\(host) NodeAddr=127.0.0.1 CPUs=4 RealMemory=4096 State=UNKNOWN
        PartitionName=test Nodes=stntest Default=YES MaxTime=INFINITE State=UP

        """.write(toFile: d + "/slurm.conf", atomically: true, encoding: .utf8)
        var r = try LocalDaemons.launch("\(environment) /usr/sbin/slurmctld", log: d + "/log/slurmctld.out")
        guard r.status == 0, let controller = LocalDaemons.pid(inFile: d + "/slurmctld.pid") else {
            throw XCTSkip("slurmctld cannot run here: \(r.output)\(LocalDaemons.tail(d + "/log/slurmctld.log"))")
        }
        pids.append(controller)
        r = try LocalDaemons.launch("\(environment) /usr/sbin/slurmd -N stntest", log: d + "/log/slurmd.out")
        guard r.status == 0, let node = LocalDaemons.pid(inFile: d + "/slurmd.pid") else {
            throw XCTSkip("slurmd cannot run here: \(r.output)\(LocalDaemons.tail(d + "/log/slurmd.log"))")
        }
        pids.append(node)
        // Ready when the node is idle (about a second).
        let ready = try Tools.shell(
            "for i in $(seq 200); do \(environment) sinfo -h -o %T 2> /dev/null | grep -qx idle && exit 0; sleep 0.1; done; exit 1"
        )
        guard ready.status == 0 else {
            throw XCTSkip(
                "the test Slurm node did not become idle in 20 s: \(LocalDaemons.tail(d + "/log/slurmd.log"))")
        }
    }

    /// Waits until `job` has left the queue (every array task ended).
    func waitForJob(_ job: String, seconds: Int = 120) throws {
        let r = try Tools.shell(
            "for i in $(seq \(seconds * 5)); do [ -z \"$(\(environment) squeue -h -j \(job) -o %i 2> /dev/null)\" ] && exit 0; sleep 0.2; done; exit 1"
        )
        XCTAssertEqual(r.status, 0, "job \(job) still queued after \(seconds) s")
    }

    /// slurmd, slurmctld and munged, in that order.
    func stop() {
        for pid in pids.reversed() { LocalDaemons.stop(pid) }
        pids = []
    }

    deinit { stop() }
}

/// An ssh server on a free loopback port for the current user, with a throwaway host key and
/// client key (its own authorized-keys file). `addresses` are the loopback addresses it listens
/// on: each is one "host" for GNU parallel. One shared ssh connection per address (ssh's
/// ControlMaster) carries every login, as GNU parallel makes several per job.
final class LoopbackSSHServer {
    let directory: TemporaryDirectory
    let port: Int
    let addresses: [String]
    private var pids: [pid_t] = []

    init(addresses: [String] = ["127.0.0.1"]) throws {
        try LocalDaemons.require(["/usr/sbin/sshd"], package: "openssh-server")
        try LocalDaemons.require(["/usr/bin/ssh", "/usr/bin/ssh-keygen"], package: "openssh-client")
        try LocalDaemons.requireRoot("A test ssh server")
        directory = try TemporaryDirectory()
        self.addresses = addresses
        port = try LocalDaemons.freeLoopbackPorts(1)[0]
        let d = directory.path("")
        let listen = addresses.map { "-o ListenAddress=\($0)" }.joined(separator: " ")
        let r = try LocalDaemons.launch(
            """
            set -e; cd '\(d)'; mkdir -p /run/sshd
            ssh-keygen -q -t ed25519 -N '' -f host_key; ssh-keygen -q -t ed25519 -N '' -f client_key
            cp client_key.pub authorized_keys; chmod 600 authorized_keys
            /usr/sbin/sshd -p \(port) \(listen) -h '\(d)/host_key' -o PidFile='\(d)/pid' \
              -o AuthorizedKeysFile='\(d)/authorized_keys' -o PermitRootLogin=prohibit-password \
              -o PasswordAuthentication=no -o StrictModes=no -E '\(d)/log'
            """, log: d + "/sshd.out")
        guard r.status == 0, let pid = LocalDaemons.pid(inFile: d + "/pid") else {
            throw XCTSkip("sshd cannot run here: \(r.output)\(LocalDaemons.tail(d + "/log"))")
        }
        pids.append(pid)
        for address in addresses {
            let master = try LocalDaemons.launch(
                "\(sshOptions) -o ControlMaster=yes -o ControlPersist=yes -f -N \(user)@\(address)",
                log: d + "/master.out")
            let check = try Tools.shell("\(sshCommand) -O check \(user)@\(address) 2>&1")
            guard master.status == 0, let match = check.stdoutText.firstMatch(of: /pid=(\d+)/),
                let masterPid = pid_t(match.1)
            else {
                stop()
                throw XCTSkip(
                    "cannot log in to the test sshd: \(master.output)\(check.stdoutText)\(LocalDaemons.tail(d + "/log"))"
                )
            }
            pids.append(masterPid)
        }
    }

    var user: String {
        (try? Tools.shell("id -un").stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? "root"
    }

    /// ssh with this server's port and key, no host-key prompt and no password prompt.
    private var sshOptions: String {
        "ssh -p \(port) -i \(directory.path("client_key")) -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -o ControlPath=\(directory.path("cm-%h"))"
    }

    /// ssh through the shared connection to an address.
    var sshCommand: String { sshOptions + " -o ControlMaster=no" }

    /// A GNU parallel --sshloginfile with one line per address, `jobs` jobs on each.
    func writeLoginFile(_ path: String, jobs: Int = 1) throws {
        let name = user
        try addresses.map { "\(jobs)/\(sshCommand) \(name)@\($0)\n" }.joined().write(
            toFile: path, atomically: true, encoding: .utf8)
    }

    /// The shared connections, then sshd.
    func stop() {
        for pid in pids.reversed() { LocalDaemons.stop(pid) }
        pids = []
    }

    deinit { stop() }
}
