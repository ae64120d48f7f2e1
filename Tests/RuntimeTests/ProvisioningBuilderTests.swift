import Edge
import Foundation
import Logging
import PKI
import Provisioning
import Synchronization
import Testing

@testable import Runtime

@Suite("Runtime: provisioning builder")
struct ProvisioningBuilderTests {
    final class Deliveries: Sendable {
        let sets = Mutex<[[String: [UInt8]]]>([])
        var count: Int { sets.withLock { $0.count } }
        var last: [String: [UInt8]]? { sets.withLock { $0.last } }
    }

    @Test func deliversOnStartAndAgainWhenTheSRSTCertificateChanges() async throws {
        let template = NSTemporaryDirectory() + "outpost-provisioning-builder-XXXXXX"
        var bytes = Array(template.utf8CString)
        let directory = String(cString: try #require(mkdtemp(&bytes)))
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let store = PKIStore(stateDirectory: directory)
        _ = try store.initialise(names: ["srst.branch.example"], addresses: ["10.0.0.5"])
        let configuration = OutpostConfiguration(
            pki: .init(names: ["srst.branch.example"], addresses: ["10.0.0.5"]),
            devices: [Device(name: "SEP001122334455", lines: [DeviceLine(number: "2001")], security: .encrypted)],
            provisioning: .init(edgeAddress: "10.0.0.9", connectionMonitorDuration: 60), stateDirectory: directory)
        let deliveries = Deliveries()
        let builder = ProvisioningBuilder(configuration: configuration, logger: Logger(label: "test"), interval: .milliseconds(50)) { files in
            deliveries.sets.withLock { $0.append(files) }
        }
        let running = Task { try await builder.run() }
        defer { running.cancel() }

        try await Self.waitUntil { deliveries.count >= 1 }
        let first = try #require(deliveries.last)
        #expect(first["SEP001122334455.cnf.xml.sgn"] != nil)
        let xml = String(decoding: try #require(first["SEP001122334455.cnf.xml"]), as: UTF8.self)
        #expect(xml.contains("<ipAddr1>10.0.0.9</ipAddr1>"))
        #expect(xml.contains("<connectionMonitorDuration>60</connectionMonitorDuration>"))
        #expect(xml.contains("<deviceSecurityMode>3</deviceSecurityMode>"))

        // Unchanged files: no new delivery over several polls.
        try await Task.sleep(for: .milliseconds(300))
        #expect(deliveries.count == 1)

        let reissued = try store.reissueServerCertificate(names: ["srst.branch.example"], addresses: ["10.0.0.5"])
        try await Self.waitUntil { deliveries.count >= 2 }
        let second = try #require(deliveries.last)
        #expect(second["outpost-srst.pem"] == Array(try reissued.pemEncoded().utf8))
        let list = try CiscoTrustList.parse(try #require(second["ITLFile.tlv"]))
        #expect(list.records.contains { $0.certificateDER == reissued.derEncoded })
        #expect(try list.verifySignature())
    }

    @Test func waitsForThePKIInsteadOfFailing() async throws {
        let template = NSTemporaryDirectory() + "outpost-provisioning-builder-XXXXXX"
        var bytes = Array(template.utf8CString)
        let directory = String(cString: try #require(mkdtemp(&bytes)))
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let configuration = OutpostConfiguration(provisioning: .init(edgeAddress: "10.0.0.9"), stateDirectory: directory)
        let deliveries = Deliveries()
        let builder = ProvisioningBuilder(configuration: configuration, logger: Logger(label: "test"), interval: .milliseconds(50)) { files in
            deliveries.sets.withLock { $0.append(files) }
        }
        #expect(throws: ProvisioningError.self) { try builder.buildFiles() }
        let running = Task { try await builder.run() }
        defer { running.cancel() }
        try await Task.sleep(for: .milliseconds(200))
        #expect(deliveries.count == 0)

        _ = try PKIStore(stateDirectory: directory).initialise(names: ["edge"], addresses: ["10.0.0.9"])
        try await Self.waitUntil { deliveries.count >= 1 }
        #expect(deliveries.last?["ITLFile.tlv"] != nil)
    }

    /// Polls `condition` for up to 30 s (the machine is shared and slow).
    static func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within 30 s")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
