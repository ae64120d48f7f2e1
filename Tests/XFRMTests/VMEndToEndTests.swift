import Foundation
import Glibc
import Testing
import XFRM
import XFRMTestSupport

/// Where the end-to-end check can run: on this host if its kernel has ESP, otherwise in a QEMU
/// virtual machine booting Debian's kernel (`VM/run-vm-e2e.sh`).
enum EndToEndEnvironment {
    enum Mode {
        case host
        case virtualMachine(kernel: String)
    }

    static let mode: Mode? = {
        guard getuid() == 0 else {
            print("XFRM end-to-end skipped: not running as root")
            return nil
        }
        if let reason = hostLacksESP {
            print("XFRM end-to-end: the host kernel has no usable ESP (\(reason)); running it in a VM")
        } else {
            return .host
        }
        let qemuPaths: [String] = ["/usr/bin/qemu-system-x86_64", "/bin/qemu-system-x86_64", "/usr/local/bin/qemu-system-x86_64"]
        guard qemuPaths.contains(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            print("XFRM end-to-end skipped: qemu-system-x86_64 is not installed (Debian package qemu-system-x86) and the host kernel has no ESP")
            return nil
        }
        let kernels = ((try? FileManager.default.contentsOfDirectory(atPath: "/boot")) ?? [])
            .filter { $0.hasPrefix("vmlinuz-") }.sorted()
        guard let kernel = kernels.last, access("/boot/\(kernel)", R_OK) == 0 else {
            print("XFRM end-to-end skipped: no kernel image in /boot (Debian package linux-image-amd64) and the host kernel has no ESP")
            return nil
        }
        return .virtualMachine(kernel: "/boot/\(kernel)")
    }()

    /// nil when this host can install ESP SAs with both suites; otherwise the kernel's refusal.
    static var hostLacksESP: String? {
        do {
            let namespace = try TestNetworkNamespace()
            defer { namespace.delete() }
            let socket = try namespace.enter { try NetlinkXFRMSocket() }
            for (spi, algorithms) in [
                (UInt32(0x100), XFRMAlgorithms.rfc4106AES256GCM(keyAndSalt: Array(1...36))),
                (0x101, .aesCBCWithHMACSHA256(aesKey: Array(1...16), hmacKey: Array(1...32))),
            ] {
                try socket.addState(XFRMStateRequest(
                    source: XFRMAddress("10.0.0.1")!, destination: XFRMAddress("10.0.0.2")!, spi: spi, algorithms: algorithms))
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The `xfrm-e2e` executable, built next to the test bundle.
    static var program: String? {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("xfrm-e2e").path
            if access(candidate, X_OK) == 0 { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("VM/run-vm-e2e.sh").path
    }
}

@Suite("XFRM end to end: edge (libnl) and an ip-xfrm peer over real ESP", .serialized, .enabled(if: EndToEndEnvironment.mode != nil, "needs root, and ESP on the host or QEMU with a kernel image"))
struct VMEndToEndTests {
    /// Checks the end-to-end program must report as passed (guards against checks silently dropped).
    static let required = [
        "kernel-has-esp", "keyfile-world-readable-refused", "apply-then-trunk-up", "edge-protected-peer-unconfigured-nothing-in-clear",
        "ip-reads-back-sas-and-keys", "ip-reads-back-policies", "trunk-traffic-v4-over-esp", "trunk-traffic-v6-over-esp",
        "sa-counters-grow-on-edge", "sa-counters-grow-on-peer", "non-sip-port-not-covered", "soft-byte-expiry-alarm",
        "flush-detected-trunk-down-with-alarm", "automatic-repair-restores-trunk", "policies-deleted-by-hand-trunk-down",
        "manual-repair-waits", "reapply-restores-trunk", "wrong-peer-keys-trunk-carries-nothing",
        "wrong-peer-keys-peer-integrity-failures", "wrong-peer-keys-edge-alarm", "rekey-make-before-break-no-loss",
        "rekey-old-sas-removed", "rekey-new-sas-carry-traffic-v4", "show-ipsec-report", "shutdown-removes-only-own",
        "ip-reads-back-cbc-hmac-keys", "all-traffic-v4-v6-over-cbc-hmac", "external-verifies-coverage-trunk-up",
        "external-installs-nothing", "external-sa-loss-trunk-down", "external-restored-trunk-up",
        "soft-time-expire-event", "hard-time-expire-event", "delsa-event-parsed", "update-sa-lifetime", "no-namespaces-left",
        "cli-keygen-0600", "cli-apply", "cli-verify", "cli-peer-config-interoperates", "cli-show-ipsec-counters", "cli-rekey",
        "cli-rekey-key-file-replaced", "cli-rekey-traffic", "cli-remove", "cli-rekey-running-edge-adopts-new-keys",
    ]

    @Test(.timeLimit(.minutes(10)))
    func edgeAndPeerInterworkFailClosedAndRekeyWithoutLoss() throws {
        let mode = try #require(EndToEndEnvironment.mode)
        let program = try #require(EndToEndEnvironment.program, "xfrm-e2e is not built next to the tests; run swift build --build-tests (or --product xfrm-e2e)")
        let process = Process()
        switch mode {
        case .host:
            process.executableURL = URL(fileURLWithPath: program)
        case .virtualMachine(let kernel):
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [EndToEndEnvironment.script, program]
            var environment = ProcessInfo.processInfo.environment
            environment["OUTPOST_VM_KERNEL"] = kernel
            process.environment = environment
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        print(text)

        #expect(process.terminationStatus != 77, "the VM could not run: \(text.split(separator: "\n").last { $0.contains("unavailable") } ?? "")")
        let lines = text.split(separator: "\n").map(String.init)
        let passed = Set(lines.filter { $0.hasPrefix("E2E PASS ") }.map { String($0.dropFirst("E2E PASS ".count)) })
        for failure in lines where failure.hasPrefix("E2E FAIL ") {
            Issue.record("\(failure.dropFirst("E2E FAIL ".count))")
        }
        for name in Self.required where !passed.contains(name) {
            Issue.record("check \(name) did not pass")
        }
        #expect(lines.contains { $0.hasPrefix("E2E RESULT PASS") }, "no passing result line")
        #expect(process.terminationStatus == 0, "exit status \(process.terminationStatus)")
    }
}
