import Glibc
import TrunkIPsec
import XFRM

struct EndToEnd {
    let edgeNS: String
    let peerNS: String
    let labNS: String
    let directory = "/tmp/outpost-e2e-\(getpid())"

    static let edge4 = XFRMAddress("10.77.0.1")!
    static let peer4 = XFRMAddress("10.77.0.2")!
    static let edge6 = XFRMAddress("fd77::1")!
    static let peer6 = XFRMAddress("fd77::2")!

    var passes = 0
    var failures: [String] = []

    init() {
        let tag = "\(getpid())"
        edgeNS = "oe2e-edge-\(tag)"
        peerNS = "oe2e-peer-\(tag)"
        labNS = "oe2e-lab-\(tag)"
    }

    // MARK: - Reporting

    mutating func check(_ name: String, _ condition: Bool, _ detail: @autoclosure () -> String = "") {
        if condition {
            passes += 1
            print("E2E PASS \(name)")
            fflush(nil)
        } else {
            failures.append(name)
            print("E2E FAIL \(name): \(detail())")
            fflush(nil)
        }
    }

    func info(_ text: String) {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) { print("E2E INFO \(line)") }
        fflush(nil)
    }

    // MARK: - Keys

    /// Deterministic, distinct key material per (generation, seed).
    static func key(_ bytes: Int, _ seed: Int) -> [UInt8] {
        var state = UInt32(truncatingIfNeeded: seed &* 2_654_435_761 &+ 12345)
        return (0..<bytes).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        "0x" + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// One SA of the key file, with the values the peer needs too.
    struct KeyLine {
        var peer: XFRMAddress
        var local: XFRMAddress
        var direction: String
        var spi: UInt32
        var suite: TrunkCipherSuite
        var seed: Int
        var cipherKey: [UInt8] { EndToEnd.key(suite.cipherKeyBytes, seed) }
        var authKey: [UInt8] { EndToEnd.key(32, seed + 1000) }

        var transform: [String] {
            suite.isAEAD
                ? ["aead", suite.cipherName, EndToEnd.hex(cipherKey), "128"]
                : ["enc", suite.cipherName, EndToEnd.hex(cipherKey), "auth-trunc", suite.authenticationName!, EndToEnd.hex(authKey), "128"]
        }

        var keyFileLine: String {
            "sa \(peer) \(direction) spi 0x\(String(spi, radix: 16)) " + transform.joined(separator: " ")
        }

        /// The SA's source and destination.
        var endpoints: (XFRMAddress, XFRMAddress) { direction == "out" ? (local, peer) : (peer, local) }

        /// The same SA on the peer, as `ip xfrm state add` arguments.
        func peerState(reqid: Int = 1, wrongKey: Bool = false) -> [String] {
            var line = self
            if wrongKey { line.seed += 77 }
            let (source, destination) = endpoints
            return ["xfrm", "state", "add", "src", "\(source)", "dst", "\(destination)", "proto", "esp", "spi", "0x\(String(spi, radix: 16))",
                    "reqid", "\(reqid)", "mode", "transport"] + line.transform
        }
    }

    func keyLines(suite: TrunkCipherSuite, generation: Int) -> [KeyLine] {
        var lines: [KeyLine] = []
        for (index, (peer, local)) in [(Self.peer4, Self.edge4), (Self.peer6, Self.edge6)].enumerated() {
            let base = UInt32(generation) * 0x1000 + UInt32(index) * 2
            lines.append(KeyLine(peer: peer, local: local, direction: "out", spi: base, suite: suite, seed: generation * 100 + index * 10 + 1))
            lines.append(KeyLine(peer: peer, local: local, direction: "in", spi: base + 1, suite: suite, seed: generation * 100 + index * 10 + 2))
        }
        return lines
    }

    func writeKeyFile(_ lines: [KeyLine], name: String) throws -> String {
        let path = "\(directory)/\(name)"
        let text = "# written by xfrm-e2e\n\(TrunkKeyFile.header)\n" + lines.map(\.keyFileLine).joined(separator: "\n") + "\n"
        try System.write(text, to: path, mode: 0o600)
        return path
    }

    /// The peer's policies mirroring the edge's SIP-ports coverage (peer = the call manager).
    func peerSIPPolicies(reqid: Int = 1) -> [[String]] {
        var commands: [[String]] = []
        for (peer, edge) in [(Self.peer4, Self.edge4), (Self.peer6, Self.edge6)] {
            for proto in ["udp", "tcp"] {
                for (direction, src, dst, portKey) in [("out", peer, edge, "sport"), ("out", peer, edge, "dport"), ("in", edge, peer, "dport"), ("in", edge, peer, "sport")] {
                    commands.append(["xfrm", "policy", "add", "src", "\(src)", "dst", "\(dst)", "proto", proto, portKey, "5060", "dir", direction,
                                     "tmpl", "src", "\(src)", "dst", "\(dst)", "proto", "esp", "reqid", "\(reqid)", "mode", "transport"])
                }
            }
        }
        return commands
    }

    // MARK: - Namespaces

    func createNetwork() throws {
        _ = try? System.ip(nil, ["netns", "del", edgeNS])
        _ = try? System.ip(nil, ["netns", "del", peerNS])
        try System.ip(nil, ["netns", "add", edgeNS])
        try System.ip(nil, ["netns", "add", peerNS])
        // No duplicate-address detection: the link-local addresses are usable at once, so the
        // first IPv6 datagram does not wait a second for neighbour discovery.
        for ns in [edgeNS, peerNS] {
            try System.sysctl(ns, "net.ipv6.conf.all.accept_dad", "0")
            try System.sysctl(ns, "net.ipv6.conf.default.accept_dad", "0")
        }
        try System.ip(nil, ["link", "add", "oe2e\(getpid() % 10000)", "netns", edgeNS, "type", "veth", "peer", "name", "p0", "netns", peerNS])
        try System.ip(edgeNS, ["link", "set", "oe2e\(getpid() % 10000)", "name", "e0"])
        for (ns, address4, address6, device) in [(edgeNS, Self.edge4, Self.edge6, "e0"), (peerNS, Self.peer4, Self.peer6, "p0")] {
            try System.ip(ns, ["link", "set", "lo", "up"])
            try System.ip(ns, ["addr", "add", "\(address4)/24", "dev", device])
            try System.ip(ns, ["addr", "add", "\(address6)/64", "dev", device, "nodad"])
            try System.ip(ns, ["link", "set", device, "up"])
        }
    }

    func removeNetwork() {
        for ns in [edgeNS, peerNS, labNS] { _ = try? System.ip(nil, ["netns", "del", ns]) }
    }

    // MARK: - ip output

    /// The block of `ip xfrm state` output describing the SA with `spi`.
    static func stateBlock(_ output: String, spi: UInt32) -> String? {
        let spiText = "spi 0x" + String(repeating: "0", count: 8 - String(spi, radix: 16).count) + String(spi, radix: 16)
        var blocks: [String] = []
        var current = ""
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("src ") && !current.isEmpty {
                blocks.append(current)
                current = ""
            }
            current += line + "\n"
        }
        blocks.append(current)
        return blocks.first { $0.contains(spiText) }
    }

    /// "N(bytes), M(packets)" of an `ip -s xfrm state` block.
    static func counters(_ block: String) -> (bytes: UInt64, packets: UInt64, failed: UInt64)? {
        var bytes: UInt64?
        var packets: UInt64?
        var failed: UInt64 = 0
        for line in block.split(separator: "\n") {
            let text = line.trimmingSpaces()
            if text.hasSuffix("(packets)") && text.contains("(bytes),") && !text.contains("limit") {
                let parts = text.split(separator: ",")
                bytes = UInt64(parts[0].prefix { $0.isNumber })
                packets = UInt64(parts[1].trimmingSpaces().prefix { $0.isNumber })
            }
            if text.hasPrefix("replay-window") && text.contains("failed") {
                failed = UInt64(text.split(separator: " ").last.map(String.init) ?? "") ?? 0
            }
        }
        guard let bytes, let packets else { return nil }
        return (bytes, packets, failed)
    }

    func peerCounters(spi: UInt32) -> (bytes: UInt64, packets: UInt64, failed: UInt64)? {
        guard let output = try? System.ip(peerNS, ["-s", "xfrm", "state", "list"]), let block = Self.stateBlock(output, spi: spi) else { return nil }
        return Self.counters(block)
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}
