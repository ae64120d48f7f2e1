import Testing

@testable import Runtime

@Suite struct TFTPConfigurationTests {
    @Test func everyTFTPKeyIsRead() throws {
        let yaml = """
            tftp:
              enabled: false
              address: 127.0.0.1
              port: 6969
              root: /srv/tftp
              upstream: {address: 192.0.2.10, port: 1069}
              max_transfers: 20
              max_transfers_per_client: 2
              timeout: 3
              retries: 7
              transfer_deadline: 45
            """
        let tftp = try ConfigurationLoader.load(yaml: yaml, file: "x.yaml").tftp
        #expect(tftp == .init(
            enabled: false, address: "127.0.0.1", port: 6969, root: "/srv/tftp", upstream: .init(address: "192.0.2.10", port: 1069),
            maximumTransfers: 20, maximumTransfersPerClient: 2, timeoutSeconds: 3, retries: 7, transferDeadlineSeconds: 45))
        let defaults = try ConfigurationLoader.load(yaml: "tftp:\n  upstream: {address: 192.0.2.10}\n", file: "x.yaml").tftp
        #expect(defaults.upstream == .init(address: "192.0.2.10", port: 69))
        #expect(defaults.port == 69 && defaults.enabled)
        #expect(defaults.transferDeadlineSeconds == 120)
    }

    @Test(arguments: [
        ("tftp:\n  upstream: {port: 69}\n", "tftp.upstream", "address is required"),
        ("tftp:\n  upstream: {address: cm.example}\n", "tftp.upstream.address", "not an IPv4 or IPv6 address"),
        ("tftp:\n  max_transfers: 0\n", "tftp.max_transfers", "is outside"),
        ("tftp:\n  timeout: 300\n", "tftp.timeout", "is outside"),
        ("tftp:\n  transfer_deadline: 0\n", "tftp.transfer_deadline", "is outside"),
        ("tftp:\n  upstream: {address: 192.0.2.1, prot: 69}\n", "tftp.upstream.prot", "unknown key"),
    ])
    func badTFTPValuesNameTheirKey(yaml: String, key: String, reason: String) {
        do {
            _ = try ConfigurationLoader.load(yaml: yaml, file: "edge.yaml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.key == key, "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
        }
    }
}
