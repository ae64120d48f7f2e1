import Edge
import Foundation
import FoundationXML
import PKI
import Provisioning
import Testing

@Suite("Provisioning: generated files")
struct ProvisioningFilesTests {
    static let devices: [Device] = [
        .cisco("001122334455", .nonSecure, lines: [DeviceLine(number: "2001", displayName: "Front desk")],
               digest: DigestAccount(username: "front", password: "s3cret")),
        .cisco("0011223344AA", .authenticated, lines: [DeviceLine(number: "2002")], displayName: "Lab"),
        .cisco("0011223344BB", .encrypted, lines: [DeviceLine(number: "2003"), DeviceLine(number: "2004", displayName: "Second")]),
        Device(name: "yealink-hall", mac: MACAddress("80:5E:C0:11:22:33"), lines: [DeviceLine(number: "2010", displayName: "Hall")],
               security: .encrypted),
        Device(name: "yealink-plain", mac: MACAddress("80:5E:C0:11:22:44"), lines: [DeviceLine(number: "2011")], security: .nonSecure,
               digest: DigestAccount(username: "plain", password: "pw")),
        Device(name: "softphone", lines: [DeviceLine(number: "2020")], security: .authenticated),
    ]

    @Test func eachDeviceGetsTheFilesOfItsKind() throws {
        let fixture = try ProvisioningFixture()
        defer { fixture.remove() }
        let files = try fixture.generate(Self.devices)
        #expect(Set(files.keys) == [
            "ITLFile.tlv", "CTLFile.tlv", "outpost-ca.pem", "outpost-srst.pem",
            "SEP001122334455.cnf.xml", "SEP001122334455.cnf.xml.sgn",
            "SEP0011223344AA.cnf.xml", "SEP0011223344AA.cnf.xml.sgn",
            "SEP0011223344BB.cnf.xml", "SEP0011223344BB.cnf.xml.sgn",
            "805ec0112233.cfg", "805ec0112244.cfg",
        ])
        #expect(try Certificate(pemEncoded: String(decoding: files["outpost-srst.pem"]!, as: UTF8.self)) == fixture.material.server)
        #expect(try Certificate(pemEncoded: String(decoding: files["outpost-ca.pem"]!, as: UTF8.self)) == fixture.material.authority)
    }

    @Test func trustListsCarryTheEdgeCertificatesAndOpenSSLVerifiesThem() throws {
        let fixture = try ProvisioningFixture()
        defer { fixture.remove() }
        let files = try fixture.generate(Self.devices)
        for name in ["ITLFile.tlv", "CTLFile.tlv"] {
            let list = try CiscoTrustList.parse(try #require(files[name]))
            #expect(list.header.fileName == name)
            #expect(list.header.digest == .sha1)
            #expect(try list.verifySignature())
            try fixture.expectOpenSSLVerifies(list.header)
            let byFunction = Dictionary(grouping: list.records, by: { $0.function ?? 0xFFFF })
            let sast = fixture.material.signer.certificate.derEncoded
            #expect(byFunction[CiscoTrustList.Function.sast.rawValue]?.map(\.certificateDER) == [sast])
            #expect(byFunction[CiscoTrustList.Function.tftp.rawValue]?.map(\.certificateDER) == [sast])
            #expect(byFunction[CiscoTrustList.Function.callManagerAndTFTP.rawValue]?.map(\.certificateDER) == [fixture.material.server.derEncoded])
            #expect(byFunction[CiscoTrustList.Function.capf.rawValue]?.map(\.certificateDER) == [fixture.material.authority.derEncoded])
            let srst = try #require(byFunction[CiscoTrustList.Function.callManagerAndTFTP.rawValue]?.first)
            #expect(srst.ipAddress == [10, 0, 0, 5])
            #expect(srst.dnsName == "srst.branch.example")
        }
    }

    @Test func signedConfigurationsWrapTheExactConfiguration() throws {
        let fixture = try ProvisioningFixture()
        defer { fixture.remove() }
        let files = try fixture.generate(Self.devices)
        for name in files.keys where name.hasSuffix(".cnf.xml") {
            let signed = try CiscoSignedFile.parse(try #require(files[name + ".sgn"]))
            #expect(signed.content == files[name])
            #expect(signed.header.fileName == name)
            #expect(signed.header.version == (1, 0))
            #expect(try signed.header.verify(with: fixture.material.signer.certificate))
            try fixture.expectOpenSSLVerifies(signed.header)
        }
    }

    @Test(arguments: [
        ("SEP001122334455.cnf.xml", 1, 2, "5060", "false", true),
        ("SEP0011223344AA.cnf.xml", 2, 3, "5061", "true", false),
        ("SEP0011223344BB.cnf.xml", 3, 3, "5061", "true", false),
    ])
    func ciscoConfigurationFollowsTheProfile(name: String, mode: Int, transport: Int, port: String, secure: String, hasDigest: Bool) throws {
        let fixture = try ProvisioningFixture()
        defer { fixture.remove() }
        let files = try fixture.generate(Self.devices)
        let document = try XMLDocument(data: Data(try #require(files[name])), options: [])
        func values(_ path: String) throws -> [String] { try document.nodes(forXPath: path).map { $0.stringValue ?? "" } }
        #expect(try values("/device/deviceProtocol") == ["SIP"])
        #expect(try values("/device/deviceSecurityMode") == ["\(mode)"])
        #expect(try values("/device/transportLayerProtocol") == ["\(transport)"])
        #expect(try values("/device/devicePool/connectionMonitorDuration") == ["120"])
        #expect(try values("/device/devicePool/srstInfo/ipAddr1") == ["10.0.0.5"])
        #expect(try values("/device/devicePool/srstInfo/port1") == [port])
        #expect(try values("/device/devicePool/srstInfo/sipIpAddr1") == ["10.0.0.5"])
        #expect(try values("/device/devicePool/srstInfo/isSecure") == [secure])
        #expect(try values("/device/devicePool/srstInfo/name") == ["srst.branch.example"])
        #expect(try values("/device/devicePool/callManagerGroup/members/member/callManager/processNodeName") == ["10.0.0.5"])
        #expect(try values("/device/sipProfile/sipLines/line/featureID").allSatisfy { $0 == "9" })
        #expect(try values("/device/sipProfile/sipLines/line/port").allSatisfy { $0 == port })
        #expect(try !values("/device/sipProfile/sipLines/line/authPassword").isEmpty == hasDigest)
    }

    @Test func ciscoLinesCarryNumbersNamesAndCredentials() throws {
        let fixture = try ProvisioningFixture()
        defer { fixture.remove() }
        let files = try fixture.generate(Self.devices)
        let plain = try XMLDocument(data: Data(try #require(files["SEP001122334455.cnf.xml"])), options: [])
        #expect(try plain.nodes(forXPath: "//line/name").map(\.stringValue) == ["2001"])
        #expect(try plain.nodes(forXPath: "//line/displayName").map(\.stringValue) == ["Front desk"])
        #expect(try plain.nodes(forXPath: "//line/authName").map(\.stringValue) == ["front"])
        #expect(try plain.nodes(forXPath: "//line/authPassword").map(\.stringValue) == ["s3cret"])
        let twoLines = try XMLDocument(data: Data(try #require(files["SEP0011223344BB.cnf.xml"])), options: [])
        #expect(try twoLines.nodes(forXPath: "//line/name").map(\.stringValue) == ["2003", "2004"])
        #expect(try twoLines.nodes(forXPath: "//line/@button").map(\.stringValue) == ["1", "2"])
        #expect(try twoLines.nodes(forXPath: "//line/displayName").map(\.stringValue) == ["2003", "Second"])
    }

    @Test func hostileInventoryStringsStayInsideTheirElements() throws {
        let fixture = try ProvisioningFixture()
        defer { fixture.remove() }
        let hostile = "</displayName><x a=\"1\">&amp;'\n\r\t\u{1}evil = 1"
        let devices = [
            Device.cisco("001122334466", .nonSecure, lines: [DeviceLine(number: "3001", displayName: hostile)], displayName: hostile,
                         digest: DigestAccount(username: hostile, password: hostile)),
            Device(name: "yealink-hostile", mac: MACAddress("80:5E:C0:11:22:66"), lines: [DeviceLine(number: "3002", displayName: hostile)],
                   security: .nonSecure, digest: DigestAccount(username: hostile, password: "p\nstatic.security.trust_certificates = 0")),
        ]
        let files = try fixture.generate(devices)
        let document = try XMLDocument(data: Data(try #require(files["SEP001122334466.cnf.xml"])), options: [])
        let expected = "</displayName><x a=\"1\">&amp;'\n\r\tevil = 1"
        #expect(try document.nodes(forXPath: "//line/displayName").map(\.stringValue) == [expected])
        #expect(try document.nodes(forXPath: "//line/authPassword").map(\.stringValue) == [expected])
        #expect(try document.nodes(forXPath: "//x").isEmpty)

        let cfg = String(decoding: try #require(files["805ec0112266.cfg"]), as: UTF8.self)
        let keys = cfg.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: "=", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces) }
        #expect(keys.filter { $0 == "static.security.trust_certificates" }.count == 1)
        #expect(!keys.contains("evil"))
        #expect(cfg.contains("static.security.trust_certificates = 1\n"))
    }

    @Test func yealinkAccountsFollowTheProfile() throws {
        let fixture = try ProvisioningFixture()
        defer { fixture.remove() }
        let files = try fixture.generate(Self.devices)
        let encrypted = try Self.keys(try #require(files["805ec0112233.cfg"]))
        #expect(encrypted["account.1.enable"] == "1")
        #expect(encrypted["account.1.label"] == "Hall")
        #expect(encrypted["account.1.user_name"] == "2010")
        #expect(encrypted["account.1.sip_server.1.address"] == "10.0.0.5")
        #expect(encrypted["account.1.sip_server.1.port"] == "5061")
        #expect(encrypted["account.1.sip_server.1.transport_type"] == "2")
        #expect(encrypted["account.1.srtp_encryption"] == "2")
        #expect(encrypted["account.1.password"] == nil)
        #expect(encrypted["static.trusted_certificates.url"] == "tftp://10.0.0.5/outpost-ca.pem")
        #expect(encrypted["static.security.trust_certificates"] == "1")

        let plain = try Self.keys(try #require(files["805ec0112244.cfg"]))
        #expect(plain["account.1.sip_server.1.port"] == "5060")
        #expect(plain["account.1.sip_server.1.transport_type"] == "0")
        #expect(plain["account.1.srtp_encryption"] == "0")
        #expect(plain["account.1.auth_name"] == "plain")
        #expect(plain["account.1.password"] == "pw")
        #expect(String(decoding: try #require(files["805ec0112244.cfg"]), as: UTF8.self).hasPrefix("#!version:1.0.0.1\n"))
    }

    @Test func aNewSRSTCertificateChangesTheGeneratedFiles() throws {
        let fixture = try ProvisioningFixture()
        defer { fixture.remove() }
        let before = try fixture.generate(Self.devices)
        #expect(try fixture.generate(Self.devices) == before)
        _ = try fixture.store.reissueServerCertificate(names: ["srst.branch.example"], addresses: ["10.0.0.5"])
        let material = try ProvisioningFixture.material(fixture.store)
        let after = try ProvisioningFiles.generate(devices: Self.devices, material: material, settings: fixture.settings)
        for name in ["ITLFile.tlv", "CTLFile.tlv", "outpost-srst.pem"] {
            #expect(after[name] != before[name], "\(name)")
        }
        let list = try CiscoTrustList.parse(try #require(after["ITLFile.tlv"]))
        #expect(list.records.contains { $0.certificateDER == material.server.derEncoded })
        #expect(!list.records.contains { $0.certificateDER == fixture.material.server.derEncoded })
    }

    @Test func ipv6EdgeAddressesAreBracketedInURLsAndLeftOutOfTrustLists() throws {
        let fixture = try ProvisioningFixture()
        defer { fixture.remove() }
        let settings = ProvisioningSettings(edgeAddress: "2001:db8::5", edgeName: "srst", signingTime: ProvisioningFixture.time)
        let files = try ProvisioningFiles.generate(devices: Self.devices, material: fixture.material, settings: settings)
        let cfg = try Self.keys(try #require(files["805ec0112233.cfg"]))
        #expect(cfg["static.trusted_certificates.url"] == "tftp://[2001:db8::5]/outpost-ca.pem")
        let list = try CiscoTrustList.parse(try #require(files["ITLFile.tlv"]))
        #expect(list.records.allSatisfy { $0.ipAddress == nil })
    }

    static func keys(_ bytes: [UInt8]) throws -> [String: String] {
        var result: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(parts.count == 2, "\(line)")
            #expect(result[parts[0]] == nil, "duplicate key \(parts[0])")
            result[parts[0]] = parts.count == 2 ? parts[1] : ""
        }
        return result
    }
}
