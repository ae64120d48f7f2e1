import Foundation
import PKI
import Testing

@Suite("PKI: Cisco trust lists and signed files")
struct CiscoTrustListTests {
    struct Edge {
        let directory: String
        let authority: Certificate
        let server: Certificate
        let signer: SigningIdentity
    }

    static func edge() throws -> Edge {
        let (store, directory) = try PKIStoreTests.initialisedStore()
        return Edge(
            directory: directory, authority: try store.authorityCertificate(), server: try store.serverCertificate(),
            signer: try store.trustListSigner())
    }

    static func records(_ edge: Edge) -> [CiscoTrustList.Record] {
        [
            .init(function: .sast, certificate: edge.signer.certificate),
            .init(function: .callManagerAndTFTP, certificate: edge.server, dnsName: "srst.branch.example", ipv4Address: [10, 0, 0, 5]),
            .init(function: .capf, certificate: edge.authority),
        ]
    }

    static let time = PKITime(secondsSince1970: 1_800_000_000)

    @Test func trustListRoundTripsByteForByte() throws {
        let edge = try Self.edge()
        defer { TestSupport.remove(edge.directory) }
        let file = try CiscoTrustList.build(records: Self.records(edge), signer: edge.signer, fileName: "ITLFile.tlv", timestamp: Self.time)

        // Hand-checked framing: version 1.2 first, then the header length, which is a multiple of 4.
        #expect(Array(file.prefix(5)) == [1, 0, 2, 1, 2])
        #expect(file[5] == 2 && file[6] == 0 && file[7] == 2)
        let parsed = try CiscoTrustList.parse(file)
        #expect(parsed.header.length % 4 == 0)
        #expect(parsed.header.version == (1, 2))
        #expect(parsed.header.fileName == "ITLFile.tlv")
        #expect(parsed.header.timestamp == 1_800_000_000)
        #expect(parsed.header.digest == .sha1)
        #expect(parsed.header.signature.count == 256)
        #expect(parsed.header.serialNumber == edge.signer.certificate.serialNumberBytes)
        #expect(parsed.header.signerName.contains("CN=\(edge.signer.certificate.subjectCommonName ?? "?")"))
        #expect(parsed.header.signedBytes.count == file.count - 3 - 256)
        #expect(try parsed.verifySignature())

        #expect(parsed.records.map(\.function) == [0, 2, 4])
        #expect(parsed.records.map(\.certificateDER) == [edge.signer.certificate.derEncoded, edge.server.derEncoded, edge.authority.derEncoded])
        #expect(parsed.records[1].dnsName == "srst.branch.example")
        #expect(parsed.records[1].ipAddress == [10, 0, 0, 5])
        #expect(parsed.records[0].ipAddress == nil)
        #expect(parsed.records[1].serialNumber == edge.server.serialNumberBytes)
        #expect(parsed.records[1].certificateSignature == edge.server.signatureValue)
        #expect(parsed.records[1].publicKey == (try edge.server.publicKey.keyDataEncoded()))
        #expect(parsed.records[2].subjectName?.contains("CN=") == true)

        // Re-encoding the same inputs gives the same bytes (PKCS#1 v1.5 is deterministic).
        #expect(try CiscoTrustList.build(records: Self.records(edge), signer: edge.signer, fileName: "ITLFile.tlv", timestamp: Self.time) == file)
    }

    @Test func opensslVerifiesTheSignatureOverTheFileWithoutTheSignatureElement() throws {
        let edge = try Self.edge()
        defer { TestSupport.remove(edge.directory) }
        for digest in [DigestAlgorithm.sha1, .sha256] {
            let file = try CiscoTrustList.build(
                records: Self.records(edge), signer: edge.signer, fileName: "CTLFile.tlv", timestamp: Self.time, digest: digest)
            let parsed = try CiscoTrustList.parse(file)
            #expect(parsed.header.digest == digest)
            try Self.expectOpenSSLVerifies(parsed.header, signer: edge.signer.certificate, in: edge.directory)
        }
    }

    @Test func signedFileCarriesTheOriginalBytesAfterAVersion10Header() throws {
        let edge = try Self.edge()
        defer { TestSupport.remove(edge.directory) }
        let content = Array("<device><deviceSecurityMode>3</deviceSecurityMode></device>\n".utf8)
        let file = try CiscoSignedFile.build(content: content, fileName: "SEP001122334455.cnf.xml", signer: edge.signer, timestamp: Self.time)
        #expect(Array(file.suffix(content.count)) == content)
        let parsed = try CiscoSignedFile.parse(file)
        #expect(parsed.content == content)
        #expect(parsed.header.version == (1, 0))
        #expect(parsed.header.fileName == "SEP001122334455.cnf.xml")
        #expect(try parsed.header.verify(with: edge.signer.certificate))
        #expect(try !parsed.header.verify(with: edge.server))
        try Self.expectOpenSSLVerifies(parsed.header, signer: edge.signer.certificate, in: edge.directory)

        var tampered = file
        tampered[tampered.count - 2] ^= 0x01
        #expect(try !CiscoSignedFile.parse(tampered).header.verify(with: edge.signer.certificate))
    }

    @Test func refusesDigestsAndSignersPhonesCannotCheck() throws {
        let edge = try Self.edge()
        defer { TestSupport.remove(edge.directory) }
        #expect(throws: PKIError.self) {
            try CiscoSignedFile.build(content: [1], fileName: "x", signer: edge.signer, timestamp: Self.time, digest: .sha512)
        }
        let key = try PrivateKey(generating: .ecP256)
        let ecCertificate = try TestSupport.authority.issueDeviceCertificate(name: "SEP001122334455", for: key.publicKey, validity: .days(30))
        let ecSigner = try SigningIdentity(certificate: ecCertificate, privateKey: key)
        #expect(throws: PKIError.self) {
            try CiscoSignedFile.build(content: [1], fileName: "x", signer: ecSigner, timestamp: Self.time)
        }
    }

    @Test func malformedFilesAreRefusedWithAReason() throws {
        let edge = try Self.edge()
        defer { TestSupport.remove(edge.directory) }
        let file = try CiscoTrustList.build(records: Self.records(edge), signer: edge.signer, fileName: "ITLFile.tlv", timestamp: Self.time)
        var inputs: [[UInt8]] = [[], [1], [1, 0, 2, 1], [2, 0, 2, 0, 8], [1, 0, 2, 1, 2, 2, 0, 2, 0xFF, 0xFF]]
        // Every truncation of the header, and a few inside the records.
        inputs += (0..<300).map { Array(file.prefix($0)) }
        inputs += [file.count - 1, file.count - 100, file.count - 1000].map { Array(file.prefix($0)) }
        var unknownTag = file
        unknownTag[8] = 99
        inputs.append(unknownTag)
        var hugeRecord = file
        let recordStart = try CiscoTrustList.parse(file).header.length
        hugeRecord[recordStart + 3] = 0xFF
        inputs.append(hugeRecord)
        inputs.append(file + [1, 0, 2, 0])
        inputs.append(file + [UInt8](repeating: 0xFF, count: 70_000))
        for input in inputs {
            do {
                _ = try CiscoTrustList.parse(input)
                Issue.record("accepted \(input.count) malformed bytes")
            } catch {
                #expect(error.code == .decodingFailed || error.code == .unsupported, "\(error)")
                #expect(!error.reasons.isEmpty)
            }
        }
        var random = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            var noisy = file
            for _ in 0..<4 { noisy[Int.random(in: 0..<noisy.count, using: &random)] = UInt8.random(in: 0...255, using: &random) }
            _ = try? CiscoTrustList.parse(noisy)
            _ = try? CiscoSignedFile.parse(noisy)
        }
    }

    /// `openssl dgst -verify` with the signer's public key over the bytes the header says are signed.
    static func expectOpenSSLVerifies(_ header: CiscoSignedHeader, signer: Certificate, in directory: String) throws {
        let key = directory + "/sast-public.pem"
        let signed = directory + "/signed.bin"
        let signature = directory + "/signature.bin"
        try TestSupport.write(try signer.publicKey.pemEncoded(), to: key)
        try TestSupport.write(bytes: header.signedBytes, to: signed)
        try TestSupport.write(bytes: header.signature, to: signature)
        let option = header.digest == .sha1 ? "-sha1" : "-sha256"
        let result = try TestSupport.openssl(["dgst", option, "-verify", key, "-signature", signature, signed])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("Verified OK"))
    }
}
