import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The baseline of `outpost bench calls`: Kamailio as registrar and record-routing proxy with its
/// rtpengine module driving Debian's rtpengine daemon (userspace forwarding, `--table=-1`) on this
/// machine, the pair a user would run instead of the edge. Kamailio authenticates each REGISTER by
/// digest as the edge does, looks the callee up in usrloc, and anchors every call's media in
/// rtpengine: `rtpengine_offer` on the INVITE, `rtpengine_answer` on the 2xx, `rtpengine_delete`
/// on the BYE. An offer in RTP/SAVP is answered in RTP/SAVP on the other side with rtpengine's own
/// SDES key (AES_CM_128_HMAC_SHA1_80 only), so it decrypts and re-encrypts every packet, the
/// edge's work. The configuration is embedded because the bench runs outside the test tree.
public struct KamailioCallBaseline: Sendable {
    /// Kamailio's UDP receiver processes: one per core.
    public let children: Int

    public init(children: Int = 2) {
        self.children = children
    }

    /// A started Kamailio and its rtpengine; `stop()` ends both and removes their directory.
    public final class Instance: @unchecked Sendable {
        public let target: SocketAddress
        let kamailio: KamailioProcess
        public let rtpengine: RtpengineDaemon
        let directory: String
        var startupErrors = 0

        init(target: SocketAddress, kamailio: KamailioProcess, rtpengine: RtpengineDaemon, directory: String) {
            self.target = target
            self.kamailio = kamailio
            self.rtpengine = rtpengine
            self.directory = directory
        }

        /// Kamailio's log lines at ERROR or above since it came up.
        public var errorLines: [Substring] { Array(KamailioBaseline.Instance.errors(in: kamailio.log).dropFirst(startupErrors)) }

        public func stop() {
            kamailio.stop()
            rtpengine.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }

        deinit { stop() }
    }

    /// Starts rtpengine with `mediaPorts`, then Kamailio pointing at it, in `directory`.
    public func start(directory: String, mediaPorts: ClosedRange<Int>) async throws -> Instance {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let rtpengine = try RtpengineDaemon(directory: directory + "/rtpengine", mediaPorts: mediaPorts)
        do {
            try Self.configuration.write(toFile: directory + "/kamailio.cfg", atomically: true, encoding: .utf8)
            let port = try FreePort.pick()
            let kamailio = try KamailioProcess(
                configurationFile: directory + "/kamailio.cfg", listeners: ["udp:127.0.0.1:\(port)"],
                defines: [
                    "CHILDREN=\(children)", "PASSWORD=\"\(KamailioBaseline.digestPassword)\"",
                    "RTPENGINE_SOCKET=\"udp:127.0.0.1:\(rtpengine.controlPort)\"",
                    "RTP_FLAGS=\"\(Self.plainFlags)\"", "SRTP_FLAGS=\"\(Self.srtpFlags)\"",
                ],
                workDirectory: directory + "/kamailio")
            let instance = Instance(
                target: try SocketAddress(ipAddress: "127.0.0.1", port: port), kamailio: kamailio, rtpengine: rtpengine, directory: directory)
            do {
                try await Self.waitUntilAnswering(instance)
                instance.startupErrors = KamailioBaseline.Instance.errors(in: kamailio.log).count
            } catch {
                instance.stop()
                throw error
            }
            return instance
        } catch {
            rtpengine.stop()
            throw error
        }
    }

    /// Kamailio answers once all its processes are up; until then a REGISTER may vanish.
    private static func waitUntilAnswering(_ instance: Instance) async throws {
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            guard instance.kamailio.isRunning else { throw BenchmarkError(reason: "kamailio exited: \(instance.kamailio.log.suffix(2000))") }
            let probe = try await RegisterLoadGenerator.run(
                target: instance.target, transport: .udp, users: 1, requests: 1, window: 1, requestTimeout: .milliseconds(300),
                digestPassword: KamailioBaseline.digestPassword)
            if probe.succeeded == 1 { return }
        }
        throw BenchmarkError(reason: "kamailio did not answer REGISTER with 200 within 15 s: \(instance.kamailio.log.suffix(2000))")
    }

    /// rtpengine's flags for a plain call: its own address in the SDP, nothing else changed.
    static let plainFlags = "replace-origin replace-session-connection ICE=remove RTP/AVP"
    /// For an SRTP call: RTP/SAVP out, AES_CM_128_HMAC_SHA1_80 and _32 only (rtpengine 10.5 has no
    /// `only-` flag, so the other suites are excluded one by one), keys padded. rtpengine copies the
    /// caller's own AES_CM_128_HMAC_SHA1_80 line into its offer and adds _32 with a key of its own;
    /// a callee taking _32 (as the generator's do) gets SRTP decrypted and re-encrypted, not passed
    /// through, and the caller gets a fresh key of rtpengine's in the answer.
    static let srtpFlags = "replace-origin replace-session-connection ICE=remove RTP/SAVP "
        + [
            "AEAD_AES_256_GCM", "AEAD_AES_128_GCM", "AES_256_CM_HMAC_SHA1_80", "AES_256_CM_HMAC_SHA1_32", "AES_192_CM_HMAC_SHA1_80",
            "AES_192_CM_HMAC_SHA1_32", "F8_128_HMAC_SHA1_80", "F8_128_HMAC_SHA1_32", "NULL_HMAC_SHA1_80",
            "NULL_HMAC_SHA1_32",
        ].map { "SDES-no-\($0)" }.joined(separator: " ") + " SDES-pad"

    /// Registrar, proxy and media anchor; everything else refused. Listener, worker count,
    /// rtpengine's control socket and its flags come from the command line.
    static let configuration = """
        #!KAMAILIO
        debug=1
        log_stderror=yes
        children=CHILDREN
        auto_aliases=no
        dns=no
        rev_dns=no
        use_dns_cache=off

        loadmodule "kex.so"
        loadmodule "ctl.so"
        loadmodule "sl.so"
        loadmodule "tm.so"
        loadmodule "rr.so"
        loadmodule "maxfwd.so"
        loadmodule "textops.so"
        loadmodule "siputils.so"
        loadmodule "pv.so"
        loadmodule "usrloc.so"
        loadmodule "registrar.so"
        loadmodule "auth.so"
        loadmodule "rtpengine.so"
        modparam("ctl", "binrpc", CTL_SOCKET)
        modparam("auth", "qop", "auth")
        modparam("auth", "nonce_count", 1)
        modparam("usrloc", "db_mode", 0)
        modparam("registrar", "max_expires", 3600)
        modparam("rtpengine", "rtpengine_sock", RTPENGINE_SOCKET)

        request_route {
            if (!mf_process_maxfwd_header("10")) {
                sl_send_reply("483", "Too Many Hops");
                exit;
            }
            if (is_method("REGISTER")) {
                if (!pv_www_authenticate("$td", PASSWORD, "0")) {
                    if ($rc == -4) {
                        www_challenge("$td", "17");
                    } else {
                        www_challenge("$td", "1");
                    }
                    exit;
                }
                if ($au != $tU) {
                    sl_send_reply("403", "Forbidden");
                    exit;
                }
                consume_credentials();
                if (!save("location")) {
                    sl_reply_error();
                }
                exit;
            }
            if (has_totag()) {
                if (!loose_route()) {
                    if (is_method("ACK") && t_check_trans()) {
                        t_relay();
                        exit;
                    }
                    sl_send_reply("404", "Not Here");
                    exit;
                }
                if (is_method("BYE")) {
                    rtpengine_delete();
                }
                t_relay();
                exit;
            }
            if (is_method("CANCEL")) {
                if (t_check_trans()) {
                    t_relay();
                }
                exit;
            }
            if (!is_method("INVITE")) {
                sl_send_reply("405", "Method Not Allowed");
                exit;
            }
            # A retransmitted INVITE is answered by its transaction, not offered twice.
            if (t_check_trans()) {
                exit;
            }
            record_route();
            if (!lookup("location")) {
                sl_send_reply("404", "Not Found");
                exit;
            }
            if (search_body("RTP/SAVP")) {
                rtpengine_offer(SRTP_FLAGS);
            } else {
                rtpengine_offer(RTP_FLAGS);
            }
            t_on_reply("ANSWER");
            t_on_failure("FAILED");
            if (!t_relay()) {
                rtpengine_delete();
                sl_reply_error();
            }
            exit;
        }

        onreply_route[ANSWER] {
            if (status =~ "^2[0-9][0-9]$" && has_body("application/sdp")) {
                if (search_body("RTP/SAVP")) {
                    rtpengine_answer(SRTP_FLAGS);
                } else {
                    rtpengine_answer(RTP_FLAGS);
                }
            }
        }

        failure_route[FAILED] {
            rtpengine_delete();
        }

        """
}

/// Debian's rtpengine in userspace (`--table=-1`) on loopback, its ng control port on a free
/// loopback port and its log in `directory`; deleted calls free their ports at once
/// (`--delete-delay=0`), as the edge's relay is run here without quarantine. Worker threads are
/// rtpengine's default, one per core.
public final class RtpengineDaemon: @unchecked Sendable {
    public static let executable = "/usr/bin/rtpengine"

    public let controlPort: Int
    public let mediaPorts: ClosedRange<Int>
    let directory: String
    let processIdentifier: pid_t
    private var exited = false

    public var logPath: String { directory + "/rtpengine.log" }
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    init(directory: String, mediaPorts: ClosedRange<Int>) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw BenchmarkError(reason: "\(Self.executable) is missing; appliance/install-deps installs rtpengine-daemon")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.mediaPorts = mediaPorts
        controlPort = try FreePort.pick()
        processIdentifier = try KamailioProcess.spawn(
            [
                Self.executable, "--config-file=none", "--table=-1", "--interface=127.0.0.1", "--listen-ng=127.0.0.1:\(controlPort)",
                "--port-min=\(mediaPorts.lowerBound)", "--port-max=\(mediaPorts.upperBound)", "--foreground", "--log-stderr",
                "--log-level=4", "--pidfile=\(directory)/rtpengine.pid", "--delete-delay=0",
            ], output: directory + "/rtpengine.log")
        let deadline = ContinuousClock.now + .seconds(10)
        while !Self.pong(controlPort) {
            guard isRunning else { throw BenchmarkError(reason: "rtpengine exited: \(log.suffix(2000))") }
            guard ContinuousClock.now < deadline else {
                stop()
                throw BenchmarkError(reason: "rtpengine did not answer ping within 10 s: \(log.suffix(2000))")
            }
        }
    }

    deinit { stop() }

    public var isRunning: Bool {
        guard !exited else { return false }
        var status: Int32 = 0
        if waitpid(processIdentifier, &status, WNOHANG) == processIdentifier { exited = true }
        return !exited
    }

    public func stop() {
        guard isRunning else { return }
        kill(processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(3)
        while isRunning, ContinuousClock.now < deadline { usleep(10_000) }
        if isRunning { kill(processIdentifier, SIGKILL) }
        var status: Int32 = 0
        if !exited { _ = waitpid(processIdentifier, &status, 0) }
        exited = true
    }

    /// One ng `ping` (bencoded) with a 200 ms wait for its `pong`.
    static func pong(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let request = Array("outpostping d7:command4:pinge".utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(descriptor, request, request.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard sent == request.count else {
            usleep(200_000)
            return false
        }
        var reply = [UInt8](repeating: 0, count: 512)
        let received = recv(descriptor, &reply, reply.count, 0)
        return received > 0 && String(decoding: reply.prefix(received), as: UTF8.self).contains("pong")
    }
}
