import Glibc
import Runtime
import TrunkIPsec
import XFRM

extension EndToEnd {
    /// Scenario E: what `outpost ipsec …` and `outpost show ipsec` run (TrunkIPsecTool), in the
    /// edge namespace, with the peer configured from `peer-config`'s own output.
    mutating func commands() throws {
        let configPath = "\(directory)/outpost.yaml"
        let keyPath = "\(directory)/cli.keys"
        try System.write("""
            sip:
              listen: []
            trunk_ipsec:
              local: [\(Self.edge4), \(Self.edge6)]
              call_managers: [\(Self.peer4), \(Self.peer6)]
              sip_ports: [5060]
              key_file: \(keyPath)
              rekey_grace: 1

            """, to: configPath, mode: 0o644)
        let edgeNS = self.edgeNS
        let peerNS = self.peerNS
        let configuration = try TrunkIPsecTool.loadConfiguration(path: configPath)
        let generated = try System.inNamespace(edgeNS) {
            try TrunkIPsecTool.keygen(configuration: configuration, output: keyPath, avoidingSPIs: TrunkIPsecTool.installedSPIs())
        }
        var status = stat()
        stat(keyPath, &status)
        check("cli-keygen-0600", generated.status == 0 && status.st_mode & 0o777 == 0o600, generated.text)
        let keys = try TrunkIPsecTool.loadKeys(configuration: configuration, path: nil)!
        let applied = try System.inNamespace(edgeNS) { try TrunkIPsecTool.apply(configuration: configuration, keys: keys) }
        check("cli-apply", applied.status == 0, applied.text)
        let verified = try System.inNamespace(edgeNS) { try TrunkIPsecTool.verify(configuration: configuration, keys: keys) }
        check("cli-verify", verified.status == 0 && verified.text.hasPrefix("trunk protected"), verified.text)

        func configurePeer(_ text: String, only: (String) -> Bool = { _ in true }) throws {
            for line in text.split(separator: "\n") where line.hasPrefix("ip xfrm ") && only(String(line)) {
                let words = line.split(separator: " ").dropFirst().map { word -> String in
                    word.hasPrefix("'") && word.hasSuffix("'") ? String(word.dropFirst().dropLast()) : String(word)
                }
                try System.ip(peerNS, words)
            }
        }
        let peerConfig = TrunkIPsecTool.peerConfiguration(configuration: configuration, keys: keys)
        try configurePeer(peerConfig)
        var rig = try EchoRig(peerNamespace: peerNS, edgeNamespace: edgeNS, ports: [5060])
        check("cli-peer-config-interoperates",
              rig.exchange(to: Self.peer4, port: 5060, timeoutMilliseconds: 3000) && rig.exchange(to: Self.peer6, port: 5060, timeoutMilliseconds: 3000),
              peerConfig)
        let shown = try System.inNamespace(edgeNS) { try TrunkIPsecTool.show(configuration: configuration, keys: keys) }
        check("cli-show-ipsec-counters", shown.text.contains("Trunk: protected") && shown.text.contains("packets; errors: 0 integrity"), shown.text)

        // Rekey through the command: a new file from keygen; the peer takes its new inbound SAs
        // first, its new outbound ones after.
        let newPath = "\(directory)/cli-new.keys"
        _ = try System.inNamespace(edgeNS) {
            try TrunkIPsecTool.keygen(configuration: configuration, output: newPath, avoidingSPIs: TrunkIPsecTool.installedSPIs())
        }
        let newKeys = try TrunkIPsecTool.loadKeys(configuration: configuration, path: newPath)!
        let newPeerConfig = TrunkIPsecTool.peerConfiguration(configuration: configuration, keys: newKeys)
        let edgeOut = configuration.pairs.map { "src \($0.local) dst \($0.remote) " }
        try configurePeer(newPeerConfig) { line in line.hasPrefix("ip xfrm state") && edgeOut.contains { line.contains($0) } }
        // A running edge (automatic repair) watches while the command rekeys: it sees every step.
        let (runningSocket, runningEvents) = try System.inNamespace(edgeNS) { (try NetlinkXFRMSocket(), try XFRMEventSocket()) }
        let running = TrunkProtectionDriver(
            engine: try TrunkProtectionEngine(configuration: configuration, keys: keys, socket: runningSocket), events: runningEvents)
        _ = running.start()
        check("cli-running-edge-up", running.verdict.isUp)
        var watched: [TrunkMonitor.Action] = []
        let rekeyed = try System.inNamespace(edgeNS) {
            try TrunkIPsecTool.rekey(
                configuration: configuration, currentKeys: keys, newKeysPath: newPath, graceSeconds: 1, keepKeyFile: false,
                progress: { _ in watched += running.poll(timeoutMilliseconds: 100) })
        }
        watched += running.poll(timeoutMilliseconds: 300)
        info(watched.filter { if case .log(let line) = $0 { !line.hasPrefix("kernel:") } else { true } }.map(\.description).joined(separator: "\n"))
        let oldSPIs = Set(keys.entries.map(\.spi))
        let kernelSPIs = Set(try runningSocket.states().map(\.spi))
        check("cli-rekey-running-edge-adopts-new-keys",
              running.verdict.isUp && kernelSPIs.isDisjoint(with: oldSPIs)
                && watched.contains { if case .log(let line) = $0 { line.contains("holds new keys") } else { false } }
                && !watched.contains { if case .trunkDown = $0 { true } else { false } },
              "kernel SPIs \(kernelSPIs), old \(oldSPIs)")
        try configurePeer(newPeerConfig) { line in line.hasPrefix("ip xfrm state") && !edgeOut.contains { line.contains($0) } }
        check("cli-rekey", rekeyed.status == 0 && rekeyed.text.contains("is now \(keyPath)") && access(newPath, F_OK) != 0, rekeyed.text)
        let current = try TrunkIPsecTool.loadKeys(configuration: configuration, path: nil)
        check("cli-rekey-key-file-replaced", current == newKeys)
        check("cli-rekey-traffic", rig.exchange(to: Self.peer4, port: 5060) && rig.exchange(to: Self.peer6, port: 5060))
        let removed = try System.inNamespace(edgeNS) { try TrunkIPsecTool.remove(configuration: configuration, keys: current) }
        let states = try System.ip(edgeNS, ["xfrm", "state", "list"])
        let policies = try System.ip(edgeNS, ["xfrm", "policy", "list"])
        check("cli-remove", removed.status == 0 && states.isEmpty && policies.isEmpty, removed.text)
    }
}
