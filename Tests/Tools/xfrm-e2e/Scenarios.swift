import Glibc
import Runtime
import TrunkIPsec
import XFRM

extension EndToEnd {
    mutating func runAll() -> Bool {
        mkdir(directory, 0o700)
        defer {
            removeNetwork()
            _ = System.run(["/bin/rm", "-rf", directory])
        }
        print("E2E INFO kernel \(System.run(["/bin/uname", "-r"]).output.trimmingNewline())")
        guard espAvailable() else {
            print("E2E RESULT FAIL kernel without ESP")
            return false
        }
        for (name, body) in [
            ("manual keying, SIP ports, aes256gcm16", { try $0.manualSIPPorts() }),
            ("manual keying, all traffic, aes128-sha256", { try $0.allTrafficCBC() }),
            ("external keying", { try $0.externalKeying() }),
            ("lifetimes and SA events", { try $0.lifetimesAndEvents() }),
            ("the outpost ipsec commands", { try $0.commands() }),
        ] as [(String, (inout EndToEnd) throws -> Void)] {
            print("E2E INFO === \(name)")
            do {
                removeNetwork()
                try createNetwork()
                try body(&self)
            } catch {
                check("scenario \(name)", false, "\(error)")
            }
        }
        removeNetwork()
        let leftovers = System.run([System.ipPath, "netns", "list"]).output.split(separator: "\n").filter { $0.contains("oe2e-") }
        check("no-namespaces-left", leftovers.isEmpty, "\(leftovers)")
        let total = passes + failures.count
        if failures.isEmpty {
            print("E2E RESULT PASS \(passes)/\(total)")
            return true
        }
        print("E2E RESULT FAIL \(failures.count) of \(total) failed: \(failures.joined(separator: ", "))")
        return false
    }

    /// Adds and removes one ESP SA in a scratch namespace: EPROTONOSUPPORT/ENOSYS mean no ESP.
    mutating func espAvailable() -> Bool {
        do {
            _ = try? System.ip(nil, ["netns", "del", labNS])
            try System.ip(nil, ["netns", "add", labNS])
            defer { _ = try? System.ip(nil, ["netns", "del", labNS]) }
            let socket = try System.inNamespace(labNS) { try NetlinkXFRMSocket() }
            let request = XFRMStateRequest(
                source: XFRMAddress("10.88.0.1")!, destination: XFRMAddress("10.88.0.2")!, spi: 0x4242,
                algorithms: .rfc4106AES256GCM(keyAndSalt: Self.key(36, 1)))
            do throws(XFRMError) {
                try socket.addState(request)
                try socket.deleteState(request.id)
            } catch {
                check("kernel-has-esp", false, "\(error)")
                return false
            }
            check("kernel-has-esp", true)
            return true
        } catch {
            check("kernel-has-esp", false, "\(error)")
            return false
        }
    }

    // MARK: - Scenario A

    mutating func manualSIPPorts() throws {
        let lines = keyLines(suite: .aes256gcm16, generation: 1)
        let keyPath = try writeKeyFile(lines, name: "trunk.keys")
        let configuration = try TrunkProtectionConfiguration.parse(text: """
            trunk_ipsec:
              local: [\(Self.edge4), \(Self.edge6)]
              call_managers: [\(Self.peer4), \(Self.peer6)]
              coverage: sip-ports
              sip_ports: [5060]
              sip_protocols: [udp, tcp]
              suite: aes256gcm16
              lifetime_soft_bytes: 3000
              key_file: \(keyPath)
              verify_interval: 1
              rekey_grace: 1
            """, file: "e2e.yaml")
        let keys = try TrunkKeyFile.load(path: keyPath, configuration: configuration)
        check("keyfile-loads-0600", keys.entries.count == 4)
        // The same file world-readable is refused before anything is installed.
        chmod(keyPath, 0o644)
        var refused = false
        do throws(TrunkKeyFileError) { _ = try TrunkKeyFile.load(path: keyPath, configuration: configuration) } catch { refused = error.description.contains("mode 0644") }
        chmod(keyPath, 0o600)
        check("keyfile-world-readable-refused", refused)

        var rig = try EchoRig(peerNamespace: peerNS, edgeNamespace: edgeNS, ports: [5060, 7000])
        check("baseline-clear-v4", rig.exchange(to: Self.peer4, port: 5060, timeoutMilliseconds: 3000))
        check("baseline-clear-v6", rig.exchange(to: Self.peer6, port: 5060, timeoutMilliseconds: 3000))

        let (socket, events) = try System.inNamespace(edgeNS) { (try NetlinkXFRMSocket(), try XFRMEventSocket()) }
        let engine = try TrunkProtectionEngine(configuration: configuration, keys: keys, socket: socket)
        var driver: TrunkProtectionDriver? = TrunkProtectionDriver(engine: engine, events: events)
        let started = driver!.start()
        info(started.map(\.description).joined(separator: "\n"))
        check("apply-then-trunk-up", started.contains(.trunkUp) && driver!.verdict.isUp, "\(started)")

        // Fail closed in the kernel too: the peer has no SAs yet, so nothing gets through in clear.
        check("edge-protected-peer-unconfigured-nothing-in-clear", !rig.exchange(to: Self.peer4, port: 5060, timeoutMilliseconds: 300))

        // The independent reader.
        let states = try System.ip(edgeNS, ["xfrm", "state", "list"])
        var statesOK = true
        for line in lines {
            let (source, destination) = line.endpoints
            guard let block = Self.stateBlock(states, spi: line.spi) else { statesOK = false; info("no SA 0x\(String(line.spi, radix: 16)) in:\n\(states)"); continue }
            for expected in [
                "src \(source) dst \(destination)",
                "proto esp spi 0x0000\(String(line.spi, radix: 16)) reqid 20304 mode transport",
                "aead rfc4106(gcm(aes)) \(Self.hex(line.cipherKey)) 128",
                "sel src \(source)/\(source.family.hostPrefixLength) dst \(destination)/\(destination.family.hostPrefixLength)",
            ] where !block.contains(expected) {
                statesOK = false
                info("SA 0x\(String(line.spi, radix: 16)) lacks \"\(expected)\":\n\(block)")
            }
        }
        check("ip-reads-back-sas-and-keys", statesOK)
        let policies = try System.ip(edgeNS, ["xfrm", "policy", "list"])
        let policyCount = policies.split(separator: "\n").filter { $0.hasPrefix("src ") }.count
        check("ip-reads-back-policies", policyCount == 16
            && policies.contains("src 10.77.0.1/32 dst 10.77.0.2/32 proto udp dport 5060 \n\tdir out priority 1000")
            && policies.contains("src fd77::2/128 dst fd77::1/128 proto tcp sport 5060 \n\tdir in priority 1000")
            && policies.contains("tmpl src 10.77.0.1 dst 10.77.0.2\n\t\tproto esp reqid 20304 mode transport"), policies)

        // The peer, configured with ip xfrm and the same keys.
        for line in lines { try System.ip(peerNS, line.peerState()) }
        for command in peerSIPPolicies() { try System.ip(peerNS, command) }
        var v4 = 0
        var v6 = 0
        for _ in 0..<5 {
            if rig.exchange(to: Self.peer4, port: 5060) { v4 += 1 }
            if rig.exchange(to: Self.peer6, port: 5060) { v6 += 1 }
        }
        check("trunk-traffic-v4-over-esp", v4 == 5, "\(v4)/5 echoes")
        check("trunk-traffic-v6-over-esp", v6 == 5, "\(v6)/5 echoes")
        let edgeStates = try socket.states()
        let edgeGrew = lines.allSatisfy { line in (edgeStates.first { $0.spi == line.spi }?.current.packets ?? 0) >= 5 }
        let peerGrew = lines.allSatisfy { (peerCounters(spi: $0.spi)?.packets ?? 0) >= 5 }
        check("sa-counters-grow-on-edge", edgeGrew, "\(edgeStates.map { "0x\(String($0.spi, radix: 16)): \($0.current.packets)" })")
        let peerText = try System.ip(peerNS, ["-s", "xfrm", "state", "list"])
        check("sa-counters-grow-on-peer", peerGrew, peerText)

        // Coverage: SIP ports only, so UDP 7000 is not ESP (and still works, in clear).
        let before = try socket.states().first { $0.spi == 0x1000 }?.current.packets ?? 0
        let clearWorks = rig.exchange(to: Self.peer4, port: 7000)
        let after = try socket.states().first { $0.spi == 0x1000 }?.current.packets ?? 0
        check("non-sip-port-not-covered", clearWorks && after == before, "echo \(clearWorks), packets \(before) -> \(after)")

        // Soft byte limit (3000 bytes): the kernel expires the SA softly, the edge raises an alarm.
        let streamed = rig.stream(to: Self.peer4, port: 5060, milliseconds: 600, intervalMilliseconds: 5)
        var soft: [TrunkMonitor.Action] = []
        // Generous caps: these loops stop at the first sign of success, and a software-emulated VM
        // on a loaded host can be many times slower than the kernel's own timing.
        for _ in 0..<40 {
            soft += driver!.poll(timeoutMilliseconds: 200)
            if soft.contains(where: { if case .raise(let alarm) = $0 { alarm.code == .softExpired } else { false } }) { break }
        }
        info(soft.map(\.description).joined(separator: "\n"))
        check("soft-byte-expiry-alarm", soft.contains { if case .raise(let alarm) = $0 { alarm.code == .softExpired && alarm.message.contains("rekey") } else { false } },
              "streamed \(streamed)")
        check("soft-expiry-keeps-trunk-up", driver!.verdict.isUp && rig.exchange(to: Self.peer4, port: 5060))

        // Someone flushes the SAs: trunk down with an alarm, automatic repair, trunk up again.
        try System.ip(edgeNS, ["xfrm", "state", "flush"])
        var flush: [TrunkMonitor.Action] = []
        for _ in 0..<40 {
            flush += driver!.poll(timeoutMilliseconds: 300)
            if flush.contains(.trunkUp) { break }
        }
        info(flush.map(\.description).joined(separator: "\n"))
        let downIndex = flush.firstIndex { if case .trunkDown = $0 { true } else { false } }
        let upIndex = flush.firstIndex(of: .trunkUp)
        check("flush-detected-trunk-down-with-alarm", downIndex != nil && flush.contains { if case .raise(let alarm) = $0 { alarm.code == .protectionMissing } else { false } })
        check("automatic-repair-restores-trunk", upIndex != nil && downIndex.map { $0 < upIndex! } == true && driver!.verdict.isUp)
        check("traffic-after-repair", rig.exchange(to: Self.peer4, port: 5060) && rig.exchange(to: Self.peer6, port: 5060))
        driver = nil

        // With manual repair: policies deleted by hand keep the trunk down until re-applied.
        var manualConfiguration = configuration
        manualConfiguration.repair = .manual
        let (socket2, events2) = try System.inNamespace(edgeNS) { (try NetlinkXFRMSocket(), try XFRMEventSocket()) }
        let manualEngine = try TrunkProtectionEngine(configuration: manualConfiguration, keys: keys, socket: socket2)
        let manual = TrunkProtectionDriver(engine: manualEngine, events: events2)
        _ = manual.start()
        check("manual-driver-up", manual.verdict.isUp)
        try System.ip(edgeNS, ["xfrm", "policy", "deleteall"])
        var deleted: [TrunkMonitor.Action] = []
        for _ in 0..<24 {
            deleted += manual.poll(timeoutMilliseconds: 300)
            if deleted.contains(where: { if case .trunkDown = $0 { true } else { false } }) { break }
        }
        // Then a while longer, to see that manual repair really waits for the operator.
        for _ in 0..<2 { deleted += manual.poll(timeoutMilliseconds: 300) }
        info(deleted.filter { if case .log = $0 { false } else { true } }.map(\.description).joined(separator: "\n"))
        check("policies-deleted-by-hand-trunk-down", deleted.contains { if case .trunkDown = $0 { true } else { false } } && !manual.verdict.isUp)
        let stillEmpty = try socket2.policies().isEmpty
        check("manual-repair-waits", stillEmpty && !deleted.contains(.trunkUp))
        let reapplied = try manualEngine.apply()
        info("operator apply:\n\(reapplied)")
        var restored: [TrunkMonitor.Action] = []
        for _ in 0..<20 {
            restored += manual.poll(timeoutMilliseconds: 300)
            if restored.contains(.trunkUp) { break }
        }
        check("reapply-restores-trunk", restored.contains(.trunkUp) && manual.verdict.isUp, "\(restored)")

        // The peer's keys wrong: nothing passes, the peer counts integrity failures, the edge
        // sees failures on its inbound SA and raises an alarm.
        for line in lines {
            let (source, destination) = line.endpoints
            try System.ip(peerNS, ["xfrm", "state", "delete", "src", "\(source)", "dst", "\(destination)", "proto", "esp", "spi", "0x\(String(line.spi, radix: 16))"])
            try System.ip(peerNS, line.peerState(wrongKey: true))
        }
        var got = 0
        for _ in 0..<3 where rig.exchange(to: Self.peer4, port: 5060, timeoutMilliseconds: 300) { got += 1 }
        check("wrong-peer-keys-trunk-carries-nothing", got == 0, "\(got) echoes")
        let failedText = try System.ip(peerNS, ["-s", "xfrm", "state", "list"])
        check("wrong-peer-keys-peer-integrity-failures", (peerCounters(spi: 0x1000)?.failed ?? 0) >= 3, failedText)
        for _ in 0..<3 { _ = rig.servers[0].send(Array("INVITE".utf8), to: Self.edge4, port: 5060) }
        System.sleep(milliseconds: 100)
        var integrity: [TrunkMonitor.Action] = []
        for _ in 0..<32 {
            integrity += manual.poll(timeoutMilliseconds: 300)
            if integrity.contains(where: { if case .raise(let alarm) = $0 { alarm.code == .integrityFailures } else { false } }) { break }
        }
        info(integrity.filter { if case .raise = $0 { true } else { false } }.map(\.description).joined(separator: "\n"))
        check("wrong-peer-keys-edge-alarm", integrity.contains { if case .raise(let alarm) = $0 { alarm.code == .integrityFailures && alarm.peer == Self.peer4 } else { false } })
        for line in lines {
            let (source, destination) = line.endpoints
            try System.ip(peerNS, ["xfrm", "state", "delete", "src", "\(source)", "dst", "\(destination)", "proto", "esp", "spi", "0x\(String(line.spi, radix: 16))"])
            try System.ip(peerNS, line.peerState())
        }
        check("right-peer-keys-restore-traffic", rig.exchange(to: Self.peer4, port: 5060) && rig.exchange(to: Self.peer6, port: 5060))

        // Make-before-break rekey under continuous traffic.
        let next = keyLines(suite: .aes256gcm16, generation: 2)
        let nextPath = try writeKeyFile(next, name: "trunk-2.keys")
        let nextKeys = try TrunkKeyFile.load(path: nextPath, configuration: configuration)
        var sent = 0
        var lost = 0
        func account(_ result: (sent: Int, lost: Int)) {
            sent += result.sent
            lost += result.lost
        }
        account(rig.stream(to: Self.peer4, port: 5060, milliseconds: 300))
        // 1. The peer accepts the new SPIs first (its new inbound SAs = the edge's new out).
        for line in next where line.direction == "out" { try System.ip(peerNS, line.peerState()) }
        account(rig.stream(to: Self.peer4, port: 5060, milliseconds: 200))
        // 2. The edge rekeys; during its grace period the peer switches its outbound SAs.
        let peerNS = self.peerNS
        var rekeyError: String?
        var report: TrunkProtectionEngine.RekeyReport?
        do throws(TrunkProtectionError) {
            report = try manualEngine.rekey(to: nextKeys, grace: .seconds(2), wait: { _ in
                account(rig.stream(to: Self.peer4, port: 5060, milliseconds: 300))
                for line in next where line.direction == "in" { _ = try? System.ip(peerNS, line.peerState()) }
                for line in lines where line.direction == "in" {
                    let (source, destination) = line.endpoints
                    _ = try? System.ip(peerNS, ["xfrm", "state", "delete", "src", "\(source)", "dst", "\(destination)", "proto", "esp", "spi", "0x\(String(line.spi, radix: 16))"])
                }
                account(rig.stream(to: Self.peer4, port: 5060, milliseconds: 1200))
                _ = rig.exchange(to: Self.peer6, port: 5060)
            }, progress: { self.info("rekey: \($0)") })
        } catch {
            rekeyError = error.description
        }
        account(rig.stream(to: Self.peer4, port: 5060, milliseconds: 300))
        // 3. The peer drops its old inbound SAs.
        for line in lines where line.direction == "out" {
            let (source, destination) = line.endpoints
            try System.ip(peerNS, ["xfrm", "state", "delete", "src", "\(source)", "dst", "\(destination)", "proto", "esp", "spi", "0x\(String(line.spi, radix: 16))"])
        }
        account(rig.stream(to: Self.peer4, port: 5060, milliseconds: 300))
        check("rekey-succeeds", rekeyError == nil && report?.assessment?.isProtected == true, rekeyError ?? "\(String(describing: report))")
        check("rekey-make-before-break-no-loss", lost == 0 && sent >= 20, "\(lost) of \(sent) datagrams lost")
        info("rekey: \(sent) datagrams during the rekey, \(lost) lost")
        let afterRekey = try System.ip(edgeNS, ["xfrm", "state", "list"])
        check("rekey-old-sas-removed", lines.allSatisfy { Self.stateBlock(afterRekey, spi: $0.spi) == nil }
            && next.allSatisfy { Self.stateBlock(afterRekey, spi: $0.spi) != nil }, afterRekey)
        let newStates = try socket2.states()
        check("rekey-new-sas-carry-traffic-v4", next.filter { $0.peer == Self.peer4 }.allSatisfy { line in (newStates.first { $0.spi == line.spi }?.current.packets ?? 0) > 0 }
            && next.filter { $0.peer == Self.peer4 }.allSatisfy { (peerCounters(spi: $0.spi)?.packets ?? 0) > 0 })
        check("rekey-v6-traffic", rig.exchange(to: Self.peer6, port: 5060))
        let verified = manual.verifyNow()
        check("rekey-trunk-stays-up", manual.verdict.isUp, "\(verified)")
        check("rekey-clears-soft-expiry", !manual.monitor.alarms.values.contains { $0.code == .softExpired }, "\(manual.monitor.alarms.values)")

        // outpost show ipsec.
        if let assessment = manual.lastAssessment, let snapshot = manual.lastSnapshot {
            let text = IPsecReport.render(configuration: configuration, assessment: assessment, snapshot: snapshot, verdict: manual.verdict)
            info(text)
            check("show-ipsec-report", text.contains("[edge] 10.77.0.1 -> 10.77.0.2 esp spi 0x00002000 transport reqid 20304")
                && text.contains("Trunk: up (protected)") && !text.contains(Self.hex(next[0].cipherKey).dropFirst(2)), text)
        } else {
            check("show-ipsec-report", false, "no read-back")
        }

        // Shutdown removes only what the edge installed.
        try System.ip(edgeNS, ["xfrm", "state", "add", "src", "10.77.0.1", "dst", "10.77.0.9", "proto", "esp", "spi", "0x7777", "reqid", "7",
                               "mode", "transport", "aead", "rfc4106(gcm(aes))", Self.hex(Self.key(20, 9)), "128"])
        try System.ip(edgeNS, ["xfrm", "policy", "add", "src", "10.77.0.1/32", "dst", "10.77.0.9/32", "dir", "out",
                               "tmpl", "src", "10.77.0.1", "dst", "10.77.0.9", "proto", "esp", "reqid", "7", "mode", "transport"])
        let removal = try manual.shutdown()
        info(removal.description)
        let leftStates = try System.ip(edgeNS, ["xfrm", "state", "list"])
        let leftPolicies = try System.ip(edgeNS, ["xfrm", "policy", "list"])
        check("shutdown-removes-only-own", removal.states.count == 4 && removal.policies.count == 16
            && leftStates.contains("spi 0x00007777") && leftStates.split(separator: "\n").filter({ $0.hasPrefix("src ") }).count == 1
            && leftPolicies.contains("dst 10.77.0.9/32") && !leftPolicies.contains("reqid 20304"), leftStates + leftPolicies)
    }

    // MARK: - Scenario B

    mutating func allTrafficCBC() throws {
        let lines = keyLines(suite: .aes128sha256, generation: 3)
        let keyPath = try writeKeyFile(lines, name: "trunk-cbc.keys")
        var configuration = TrunkProtectionConfiguration(
            localAddresses: [Self.edge4, Self.edge6], callManagers: [Self.peer4, Self.peer6], coverage: .all, suite: .aes128sha256, keyFile: keyPath)
        configuration.verifyIntervalSeconds = 1
        let keys = try TrunkKeyFile.load(path: keyPath, configuration: configuration)
        let (socket, events) = try System.inNamespace(edgeNS) { (try NetlinkXFRMSocket(), try XFRMEventSocket()) }
        let driver = TrunkProtectionDriver(engine: try TrunkProtectionEngine(configuration: configuration, keys: keys, socket: socket), events: events)
        let started = driver.start()
        check("cbc-all-traffic-up", driver.verdict.isUp, "\(started)")
        let states = try System.ip(edgeNS, ["xfrm", "state", "list"])
        let keysShown = lines.allSatisfy { line in
            guard let block = Self.stateBlock(states, spi: line.spi) else { return false }
            return block.contains("enc cbc(aes) \(Self.hex(line.cipherKey))") && block.contains("auth-trunc hmac(sha256) \(Self.hex(line.authKey)) 128")
        }
        check("ip-reads-back-cbc-hmac-keys", keysShown, states)
        let policies = try System.ip(edgeNS, ["xfrm", "policy", "list"])
        check("ip-reads-back-all-traffic-and-nd-bypass",
              policies.contains("src 10.77.0.1/32 dst 10.77.0.2/32 \n\tdir out priority 1000")
              && policies.contains("src fd77::1/128 dst fd77::2/128 proto ipv6-icmp type 135 \n\tdir out priority 999")
              && policies.contains("src fd77::2/128 dst fd77::1/128 proto ipv6-icmp type 136 \n\tdir in priority 999"), policies)

        for line in lines { try System.ip(peerNS, line.peerState()) }
        for (peer, edge) in [(Self.peer4, Self.edge4), (Self.peer6, Self.edge6)] {
            try System.ip(peerNS, ["xfrm", "policy", "add", "src", "\(peer)", "dst", "\(edge)", "dir", "out", "priority", "1000",
                                   "tmpl", "src", "\(peer)", "dst", "\(edge)", "proto", "esp", "reqid", "1", "mode", "transport"])
            try System.ip(peerNS, ["xfrm", "policy", "add", "src", "\(edge)", "dst", "\(peer)", "dir", "in", "priority", "1000",
                                   "tmpl", "src", "\(edge)", "dst", "\(peer)", "proto", "esp", "reqid", "1", "mode", "transport"])
        }
        for type in ["135", "136"] {
            try System.ip(peerNS, ["xfrm", "policy", "add", "src", "\(Self.peer6)", "dst", "\(Self.edge6)", "proto", "ipv6-icmp", "type", type, "dir", "out", "priority", "999"])
            try System.ip(peerNS, ["xfrm", "policy", "add", "src", "\(Self.edge6)", "dst", "\(Self.peer6)", "proto", "ipv6-icmp", "type", type, "dir", "in", "priority", "999"])
        }
        var rig = try EchoRig(peerNamespace: peerNS, edgeNamespace: edgeNS, ports: [5060, 7000])
        var ok = 0
        for _ in 0..<3 {
            if rig.exchange(to: Self.peer4, port: 7000) { ok += 1 }
            if rig.exchange(to: Self.peer6, port: 7000) { ok += 1 }
        }
        check("all-traffic-v4-v6-over-cbc-hmac", ok == 6, "\(ok)/6")
        let counted = try socket.states()
        check("all-traffic-counters-grow", lines.allSatisfy { line in (counted.first { $0.spi == line.spi }?.current.packets ?? 0) >= 3 }
            && lines.allSatisfy { (peerCounters(spi: $0.spi)?.packets ?? 0) >= 3 })
        let removal = try driver.shutdown()
        let remaining = try socket.snapshot()
        check("cbc-shutdown-removes-all-own", removal.states.count == 4 && removal.policies.count == 8
            && remaining.policies.isEmpty && remaining.states.isEmpty, removal.description)
    }

    // MARK: - Scenario C

    mutating func externalKeying() throws {
        // What an IKE daemon (strongSwan) would install: its own reqid, priority and SPIs.
        let out = Self.key(36, 501)
        let inbound = Self.key(36, 502)
        func install(_ ns: String, local: XFRMAddress, remote: XFRMAddress) throws {
            try System.ip(ns, ["xfrm", "state", "add", "src", "\(Self.edge4)", "dst", "\(Self.peer4)", "proto", "esp", "spi", "0xc0000001", "reqid", "1",
                               "mode", "transport", "aead", "rfc4106(gcm(aes))", Self.hex(out), "128"])
            try System.ip(ns, ["xfrm", "state", "add", "src", "\(Self.peer4)", "dst", "\(Self.edge4)", "proto", "esp", "spi", "0xc0000002", "reqid", "1",
                               "mode", "transport", "aead", "rfc4106(gcm(aes))", Self.hex(inbound), "128"])
            try System.ip(ns, ["xfrm", "policy", "add", "src", "\(local)/32", "dst", "\(remote)/32", "dir", "out", "priority", "367231",
                               "tmpl", "src", "\(local)", "dst", "\(remote)", "proto", "esp", "reqid", "1", "mode", "transport"])
            try System.ip(ns, ["xfrm", "policy", "add", "src", "\(remote)/32", "dst", "\(local)/32", "dir", "in", "priority", "367231",
                               "tmpl", "src", "\(remote)", "dst", "\(local)", "proto", "esp", "reqid", "1", "mode", "transport"])
        }
        try install(edgeNS, local: Self.edge4, remote: Self.peer4)
        try install(peerNS, local: Self.peer4, remote: Self.edge4)
        let configuration = TrunkProtectionConfiguration(
            keying: .external, localAddresses: [Self.edge4], callManagers: [Self.peer4], coverage: .all, verifyIntervalSeconds: 1)
        let (socket, events) = try System.inNamespace(edgeNS) { (try NetlinkXFRMSocket(), try XFRMEventSocket()) }
        let before = try socket.snapshot()
        let engine = try TrunkProtectionEngine(configuration: configuration, keys: nil, socket: socket)
        let driver = TrunkProtectionDriver(engine: engine, events: events)
        let started = driver.start()
        check("external-verifies-coverage-trunk-up", driver.verdict.isUp, "\(started)")
        let unchanged = try socket.snapshot() == before
        check("external-installs-nothing", unchanged)
        var rig = try EchoRig(peerNamespace: peerNS, edgeNamespace: edgeNS, ports: [5060])
        check("external-traffic", rig.exchange(to: Self.peer4, port: 5060))
        var applyRefused = false
        do throws(TrunkProtectionError) { try engine.apply() } catch { applyRefused = error.reason.contains("keying is external") }
        check("external-apply-refused", applyRefused)

        try System.ip(edgeNS, ["xfrm", "state", "deleteall"])
        var lost: [TrunkMonitor.Action] = []
        for _ in 0..<24 {
            lost += driver.poll(timeoutMilliseconds: 300)
            if lost.contains(where: { if case .trunkDown = $0 { true } else { false } }) { break }
        }
        info(lost.filter { if case .log = $0 { false } else { true } }.map(\.description).joined(separator: "\n"))
        check("external-sa-loss-trunk-down", lost.contains { if case .trunkDown(let reason) = $0 { reason.contains("the key manager has not established it") } else { false } })
        try System.ip(edgeNS, ["xfrm", "state", "add", "src", "\(Self.edge4)", "dst", "\(Self.peer4)", "proto", "esp", "spi", "0xc0000001", "reqid", "1",
                               "mode", "transport", "aead", "rfc4106(gcm(aes))", Self.hex(out), "128"])
        try System.ip(edgeNS, ["xfrm", "state", "add", "src", "\(Self.peer4)", "dst", "\(Self.edge4)", "proto", "esp", "spi", "0xc0000002", "reqid", "1",
                               "mode", "transport", "aead", "rfc4106(gcm(aes))", Self.hex(inbound), "128"])
        var back: [TrunkMonitor.Action] = []
        for _ in 0..<24 {
            back += driver.poll(timeoutMilliseconds: 300)
            if back.contains(.trunkUp) { break }
        }
        check("external-restored-trunk-up", back.contains(.trunkUp) && driver.verdict.isUp)
        let removal = try driver.shutdown()
        let kept = try socket.snapshot().states.count
        check("external-shutdown-removes-nothing", removal.states.isEmpty && removal.policies.isEmpty && kept == 2)
    }

    // MARK: - Scenario D

    mutating func lifetimesAndEvents() throws {
        _ = try? System.ip(nil, ["netns", "del", labNS])
        try System.ip(nil, ["netns", "add", labNS])
        defer { _ = try? System.ip(nil, ["netns", "del", labNS]) }
        let (socket, events) = try System.inNamespace(labNS) { (try NetlinkXFRMSocket(), try XFRMEventSocket()) }
        let source = XFRMAddress("10.88.0.1")!
        let destination = XFRMAddress("10.88.0.2")!
        var request = XFRMStateRequest(
            source: source, destination: destination, spi: 0x5151, reqid: 9, replayWindow: 32,
            algorithms: .rfc4106AES128GCM(keyAndSalt: Self.key(20, 700)),
            lifetime: XFRMLifetime(softAddExpiresSeconds: 50, hardAddExpiresSeconds: 60), selector: .hosts(source, destination),
            mark: XFRMMark(value: 0x42, mask: 0xFF))
        try socket.addState(request)
        var received = try events.receive(timeoutMilliseconds: 1000)
        if case .stateAdded(let state)? = received.first {
            check("newsa-event-parsed", state.spi == 0x5151 && state.reqid == 9 && state.source == source
                && state.algorithms == .aead(name: "rfc4106(gcm(aes))", keyBits: 160, icvBits: 128) && state.mark == XFRMMark(value: 0x42, mask: 0xFF)
                && state.lifetime.hardAddExpiresSeconds == 60, "\(state)")
        } else {
            check("newsa-event-parsed", false, "\(received)")
        }
        let readBack = try socket.states().first
        check("sa-read-back-all-attributes", readBack?.mark == request.mark && readBack?.selector == request.selector && readBack?.replayWindow == 32
            && readBack?.algorithms == request.algorithms.info && readBack?.lifetime == request.lifetime, "\(String(describing: readBack))")

        // Update: new lifetimes on the installed SA (XFRM_MSG_UPDSA), then both expiries.
        request.lifetime = XFRMLifetime(softAddExpiresSeconds: 1, hardAddExpiresSeconds: 3)
        try socket.updateState(request)
        let updated = try socket.states().first
        let shown = try System.ip(labNS, ["-s", "xfrm", "state", "list"])
        check("update-sa-lifetime", updated?.lifetime == request.lifetime && shown.contains("expire add: soft 1(sec), hard 3(sec)"), shown)
        var softSeen = false
        var hardSeen = false
        let deadline = ContinuousClock.now + .seconds(8)
        while ContinuousClock.now < deadline && !hardSeen {
            for event in try events.receive(timeoutMilliseconds: 500) {
                info("event: \(event)")
                if case .stateExpired(let state, let hard) = event, state.spi == 0x5151 {
                    if hard { hardSeen = true } else { softSeen = true }
                }
            }
        }
        check("soft-time-expire-event", softSeen)
        check("hard-time-expire-event", hardSeen)
        let gone = try socket.states().isEmpty
        check("hard-expiry-removes-sa", gone)

        // Deleted and flushed by hand.
        request.spi = 0x5252
        request.lifetime = .unlimited
        try socket.addState(request)
        _ = try events.receive(timeoutMilliseconds: 500)
        try System.ip(labNS, ["xfrm", "state", "delete", "src", "\(source)", "dst", "\(destination)", "proto", "esp", "spi", "0x5252", "mark", "0x42", "mask", "0xff"])
        received = try events.receive(timeoutMilliseconds: 1000)
        if case .stateDeleted(let state)? = received.first {
            check("delsa-event-parsed", state.spi == 0x5252 && state.reqid == 9 && state.source == source, "\(state)")
        } else {
            check("delsa-event-parsed", false, "\(received)")
        }
        request.spi = 0x5353
        try socket.addState(request)
        _ = try events.receive(timeoutMilliseconds: 500)
        try System.ip(labNS, ["xfrm", "state", "flush"])
        received = try events.receive(timeoutMilliseconds: 1000)
        check("flushsa-event", received.contains(.statesFlushed(nil)) || received.contains(.statesFlushed(.esp)), "\(received)")

        // Errors keep the kernel's errno and message.
        request.spi = 0x5454
        try socket.addState(request)
        do throws(XFRMError) {
            try socket.addState(request)
            check("duplicate-sa-eexist", false, "accepted twice")
        } catch {
            check("duplicate-sa-eexist", error.errno == EEXIST, "\(error)")
        }
        do throws(XFRMError) {
            try socket.updateState(XFRMStateRequest(source: source, destination: destination, spi: 0x9999, algorithms: request.algorithms))
            check("update-missing-sa-esrch", false, "accepted")
        } catch {
            check("update-missing-sa-esrch", error.errno == ESRCH, "\(error)")
        }
        var bad = request
        bad.spi = 0x5555
        bad.algorithms = .aead(name: "rfc4106(gcm(aes))", key: Self.key(19, 1), icvBits: 128)
        do throws(XFRMError) {
            try socket.addState(bad)
            check("bad-key-length-kernel-message", false, "accepted")
        } catch {
            info("kernel on a 19-byte GCM key: \(error)")
            check("bad-key-length-kernel-message", error.errno != 0 && error.operation == "xfrmnl_sa_add", "\(error)")
        }
    }
}

extension String {
    func trimmingNewline() -> String {
        var text = self
        while text.last == "\n" { text.removeLast() }
        return text
    }
}
