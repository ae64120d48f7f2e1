import Foundation
import PKI
import Testing

@Suite("PKI: store")
struct PKIStoreTests {
    /// A fresh, initialised store in its own directory.
    static func initialisedStore(at time: String? = nil, fipsMode: Bool = false) throws -> (store: PKIStore, directory: String) {
        let directory = try TestSupport.scratchDirectory("store")
        let store = TestSupport.store(directory + "/state", at: time, fipsMode: fipsMode)
        _ = try store.initialise(names: ["srst.branch.example"], addresses: ["10.0.0.5"])
        return (store, directory)
    }

    @Test func initialiseCreatesEverythingWithTightModes() throws {
        let directory = try TestSupport.scratchDirectory("store")
        defer { TestSupport.remove(directory) }
        let store = TestSupport.store(directory + "/state")
        #expect(!store.isInitialised)
        let report = try store.initialise(names: ["srst.branch.example", "edge"], addresses: ["10.0.0.5", "2001:db8::5"])
        #expect(store.isInitialised)
        #expect(report.changedAnything)
        #expect(report.created.count == 5)
        #expect(report.existing.isEmpty)
        #expect(report.warnings.isEmpty)

        let layout = store.layout
        for path in [directory + "/state"] + [layout.root, layout.authorityDirectory, layout.serverDirectory, layout.signerDirectory,
                                               layout.issuedDirectory, layout.trustDirectory] {
            #expect(TestSupport.mode(path) == 0o700, "\(path)")
        }
        for path in [layout.authorityKey, layout.serverKey, layout.signerKey] {
            #expect(TestSupport.mode(path) == 0o600, "\(path)")
        }
        for path in [layout.authorityCertificate, layout.serverCertificate, layout.serverChain, layout.signerCertificate, layout.index,
                     layout.revocationList, layout.caBundle] {
            #expect(TestSupport.mode(path) == 0o644, "\(path)")
        }

        #expect(report.authority.isCertificateAuthority)
        #expect(report.authority.publicKeyAlgorithm == .ec(.p384))
        #expect(report.server.subjectAlternativeNames == [.dns("srst.branch.example"), .dns("edge"), .ipAddress("10.0.0.5"), .ipAddress("2001:db8::5")])
        #expect(report.server.extendedKeyUsages == [.serverAuth, .clientAuth])
        #expect(report.server.verifySignature(issuer: report.authority))
        #expect(report.trustListSigner.publicKeyAlgorithm == .rsa)
        #expect(report.trustListSigner.publicKeyBits == 2048)
        #expect(report.trustListSigner.keyUsage == [.digitalSignature])

        let records = try store.records()
        #expect(records.map(\.kind) == [.authority, .server, .trustListSigner])
        #expect(try store.revocationList().entries.isEmpty)
        #expect(try store.revocationList().number == 1)
        #expect(try Certificate.all(pemEncoded: TestSupport.read(layout.serverChain)) == [report.server, report.authority])

        // Keys on disk are PKCS#8 and match their certificates; nothing else on disk holds key material.
        let serverKey = try PrivateKey(pemEncoded: TestSupport.read(layout.serverKey))
        #expect(report.server.matches(serverKey))
        let publicFiles = [layout.authorityCertificate, layout.serverChain, layout.index, layout.caBundle, layout.revocationList]
        for path in publicFiles {
            #expect(!(try TestSupport.read(path)).contains("PRIVATE KEY"), "\(path)")
        }
    }

    @Test func anExistingStateDirectoryKeepsItsModeWhilePKIFoldersAreTightened() throws {
        let directory = try TestSupport.scratchDirectory("store")
        defer { TestSupport.remove(directory) }
        let state = directory + "/state"
        try FileManager.default.createDirectory(atPath: state + "/pki", withIntermediateDirectories: true)
        chmod(state, 0o750)
        chmod(state + "/pki", 0o755)
        _ = try TestSupport.store(state).initialise(names: ["edge"], addresses: [])
        #expect(TestSupport.mode(state) == 0o750)
        #expect(TestSupport.mode(state + "/pki") == 0o700)
    }

    @Test func secondInitialiseChangesNothing() throws {
        let (store, directory) = try Self.initialisedStore()
        defer { TestSupport.remove(directory) }
        let files = try FileManager.default.subpathsOfDirectory(atPath: store.layout.root).sorted()
        func snapshot() throws -> [String: Data] {
            var contents: [String: Data] = [:]
            for file in files where !file.hasSuffix(".lock") {
                let path = store.layout.root + "/" + file
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                    contents[file] = try Data(contentsOf: URL(fileURLWithPath: path))
                }
            }
            return contents
        }
        let before = try snapshot()
        let report = try store.initialise(names: ["srst.branch.example"], addresses: ["10.0.0.5"])
        #expect(!report.changedAnything)
        #expect(report.created.isEmpty)
        #expect(report.existing.count == 5)
        #expect(report.warnings.isEmpty)
        #expect(try snapshot() == before)
        #expect(try FileManager.default.subpathsOfDirectory(atPath: store.layout.root).sorted() == files)

        // Asking for a name the certificate lacks is reported, not acted on.
        let more = try store.initialise(names: ["srst.branch.example", "new.example"], addresses: [])
        #expect(!more.changedAnything)
        #expect(more.warnings == ["the SRST certificate does not carry DNS:new.example; reissue it to add them"])
        #expect(try snapshot() == before)
    }

    @Test func initialiseRefusesBadInputAndInconsistentState() throws {
        let directory = try TestSupport.scratchDirectory("store")
        defer { TestSupport.remove(directory) }
        let store = TestSupport.store(directory + "/state")
        #expect(throws: PKIStoreError.self) { try store.initialise(names: [], addresses: []) }
        #expect(throws: PKIStoreError.self) { try store.initialise(names: ["bad name"], addresses: []) }
        #expect(throws: PKIStoreError.self) { try store.initialise(names: [], addresses: ["10.0.0.256"]) }
        #expect(!store.isInitialised)

        _ = try store.initialise(names: ["edge"], addresses: [])
        try FileManager.default.removeItem(atPath: store.layout.authorityKey)
        do throws(PKIStoreError) {
            _ = try store.initialise(names: ["edge"], addresses: [])
            Issue.record("initialised without the CA key")
        } catch {
            #expect(error.code == .inconsistentState)
            #expect(error.message.contains("ca/key.pem is missing"))
        }
        try FileManager.default.removeItem(atPath: store.layout.authorityCertificate)
        do throws(PKIStoreError) {
            _ = try store.initialise(names: ["edge"], addresses: [])
            Issue.record("a new CA was created over existing certificates")
        } catch {
            #expect(error.code == .inconsistentState)
            #expect(error.message.contains("refusing to create a new CA"))
        }
    }

    @Test func aKeyReadableByOthersIsRefused() throws {
        let (store, directory) = try Self.initialisedStore()
        defer { TestSupport.remove(directory) }
        chmod(store.layout.authorityKey, 0o644)
        do throws(PKIStoreError) {
            _ = try store.issueDevice(name: "SEP1", key: .generate(.ecP256))
            Issue.record("used a world-readable CA key")
        } catch {
            #expect(error.message.contains("must not be readable by others"))
        }
    }

    @Test func issueWithAGeneratedKey() throws {
        let (store, directory) = try Self.initialisedStore()
        defer { TestSupport.remove(directory) }
        let issued = try store.issueDevice(name: "SEPAABBCCDDEEFF", key: .generate(.ecP384), uri: "sip:SEPAABBCCDDEEFF@branch.example", validityDays: 90)
        let key = try #require(issued.privateKey)
        #expect(issued.certificate.matches(key))
        #expect(issued.certificate.subjectCommonName == "SEPAABBCCDDEEFF")
        #expect(issued.certificate.extendedKeyUsages == [.clientAuth])
        #expect(issued.certificate.subjectAlternativeNames == [.uri("sip:SEPAABBCCDDEEFF@branch.example")])
        #expect(issued.certificate.publicKeyAlgorithm == .ec(.p384))
        #expect(issued.certificate.notAfter.seconds(since: issued.certificate.notBefore) == 90 * 86_400 + 300)
        #expect(issued.record.keySource == .generated)
        #expect(issued.authority == (try store.authorityCertificate()))

        // Recorded in the index and kept as a file; the key is not kept.
        let found = try store.certificate(serial: issued.certificate.serialNumber.lowercased())
        #expect(found.certificate == issued.certificate)
        #expect(found.record.name == "SEPAABBCCDDEEFF")
        #expect(found.record.status(at: .now) == .valid)
        #expect(try store.certificates(device: "SEPAABBCCDDEEFF").map(\.certificate) == [issued.certificate])
        let stored = try FileManager.default.subpathsOfDirectory(atPath: store.layout.root)
        for file in stored where file.hasSuffix(".pem") {
            let text = try TestSupport.read(store.layout.root + "/" + file)
            #expect(!text.contains(try key.pkcs8PEM()), "\(file)")
        }

        // The caller writes the key 0600, never over an existing file.
        let keyPath = directory + "/device.key"
        try SecureFile.writePrivateKey(key, to: keyPath)
        #expect(TestSupport.mode(keyPath) == 0o600)
        #expect(throws: PKIStoreError.self) { try SecureFile.writePrivateKey(key, to: keyPath) }
        #expect(try PrivateKey(pemEncoded: TestSupport.read(keyPath)) == key)
    }

    @Test func issueFromCSRs() throws {
        let (store, directory) = try Self.initialisedStore()
        defer { TestSupport.remove(directory) }
        let key = try PrivateKey(generating: .rsa2048)
        let request = try CertificateSigningRequest(subject: DistinguishedName(commonName: "SEP001122334455"), key: key)
        let issued = try store.issueDevice(name: "SEP001122334455", key: .request(request))
        #expect(issued.privateKey == nil)
        #expect(issued.record.keySource == .request)
        #expect(issued.certificate.matches(key))
        // A CSR for another device is refused.
        do throws(PKIStoreError) {
            _ = try store.issueDevice(name: "SEPOTHER", key: .request(request))
            Issue.record("CN mismatch accepted")
        } catch {
            #expect(error.code == .invalidInput)
            #expect(error.message == "the CSR is for CN=SEP001122334455, not for device SEPOTHER")
        }
        // RSA-1024 is refused with its size.
        let weak = try CertificateSigningRequest(
            subject: DistinguishedName(commonName: "SEPWEAK"), key: try PrivateKey(pemEncoded: TestSupport.rsa1024PEM))
        do throws(PKIStoreError) {
            _ = try store.issueDevice(name: "SEPWEAK", key: .request(weak))
            Issue.record("RSA-1024 CSR accepted")
        } catch {
            #expect(error.code == .policyViolation)
            #expect(error.message == "CSR refused: RSA key of 1024 bits is below the 2048-bit floor")
        }
        // Bad device names.
        #expect(throws: PKIStoreError.self) { try store.issueDevice(name: "two\nlines", key: .generate(.ecP256)) }
        #expect(throws: PKIStoreError.self) { try store.issueDevice(name: "SEP1", key: .generate(.ecP256), validityDays: 0) }
        #expect(try store.records().filter { $0.kind == .device }.count == 1)
    }

    @Test func csrWithABrokenSignatureIsRefused() throws {
        let (store, directory) = try Self.initialisedStore()
        defer { TestSupport.remove(directory) }
        let request = try CertificateSigningRequest(subject: DistinguishedName(commonName: "SEP1"), key: try PrivateKey(generating: .ecP256))
        var der = request.derEncoded
        der[der.count - 1] ^= 0x01
        let pem = "-----BEGIN CERTIFICATE REQUEST-----\n"
            + Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
            + "\n-----END CERTIFICATE REQUEST-----\n"
        let forged = try CertificateSigningRequest(pemEncoded: pem)
        do throws(PKIStoreError) {
            _ = try store.issueDevice(name: "SEP1", key: .request(forged))
            Issue.record("forged CSR accepted")
        } catch {
            #expect(error.message.contains("does not verify"))
        }
    }

    @Test func revokeBySerialAndByDevice() throws {
        let (store, directory) = try Self.initialisedStore()
        defer { TestSupport.remove(directory) }
        let first = try store.issueDevice(name: "SEP1", key: .generate(.ecP256))
        let second = try store.issueDevice(name: "SEP1", key: .generate(.ecP256))
        let other = try store.issueDevice(name: "SEP2", key: .generate(.ecP256))

        let record = try store.revoke(serial: first.certificate.serialNumber, reason: .keyCompromise)
        #expect(record.revocation?.reason == .keyCompromise)
        var crl = try store.revocationList()
        #expect(crl.number == 2)
        #expect(crl.contains(first.certificate))
        #expect(!crl.contains(second.certificate))
        #expect(crl.verifySignature(issuer: try store.authorityCertificate()))

        // Revoking again says when it happened.
        do throws(PKIStoreError) {
            try store.revoke(serial: first.certificate.serialNumber)
            Issue.record("revoked twice")
        } catch {
            #expect(error.code == .alreadyExists)
            #expect(error.message.contains("was already revoked on"))
        }

        let revoked = try store.revoke(device: "SEP1", reason: .superseded)
        #expect(revoked.map(\.serialNumber) == [second.certificate.serialNumber])
        crl = try store.revocationList()
        #expect(crl.number == 3)
        #expect(crl.entries.count == 2)
        #expect(crl.contains(second.certificate))
        #expect(!crl.contains(other.certificate))
        #expect(try store.records().filter { $0.status(at: .now) == .revoked }.count == 2)

        #expect(throws: PKIStoreError.self) { try store.revoke(device: "SEP1") }
        #expect(throws: PKIStoreError.self) { try store.revoke(device: "NOBODY") }
        #expect(throws: PKIStoreError.self) { try store.revoke(serial: "0123") }
        #expect(throws: PKIStoreError.self) { try store.revoke(serial: "not hex") }
        // The edge's own certificates are not revoked through this path.
        do throws(PKIStoreError) {
            try store.revoke(serial: try store.authorityCertificate().serialNumber)
            Issue.record("revoked the CA")
        } catch {
            #expect(error.message.contains("edge CA itself"))
        }
        #expect(throws: PKIStoreError.self) { try store.revoke(serial: try store.serverCertificate().serialNumber) }
    }

    @Test func crlIsReSignedWhenDue() throws {
        let directory = try TestSupport.scratchDirectory("store")
        defer { TestSupport.remove(directory) }
        let early = TestSupport.store(directory + "/state", at: "2026-01-01T00:00:00Z")
        _ = try early.initialise(names: ["edge"], addresses: [])
        #expect(try early.refreshRevocationList().renewed == false)
        // 16 days later, less than half of the 30-day validity is left.
        let later = TestSupport.store(directory + "/state", at: "2026-01-17T00:00:00Z")
        let (crl, renewed) = try later.refreshRevocationList()
        #expect(renewed)
        #expect(crl.number == 2)
        #expect(crl.thisUpdate.description == "2026-01-17T00:00:00Z")
        #expect(crl.nextUpdate?.description == "2026-02-16T00:00:00Z")
        #expect(try later.refreshRevocationList(force: true).crl.number == 3)
    }

    @Test func crlMissingARevocationIsReSigned() throws {
        let (store, directory) = try Self.initialisedStore()
        defer { TestSupport.remove(directory) }
        let issued = try store.issueDevice(name: "SEP1", key: .generate(.ecP256))
        let before = try TestSupport.read(store.layout.revocationList)
        try store.revoke(serial: issued.certificate.serialNumber)
        // As if the process had died between writing the index and the CRL.
        try TestSupport.write(before, to: store.layout.revocationList)
        #expect(!(try store.revocationList().contains(issued.certificate)))
        let (crl, renewed) = try store.refreshRevocationList()
        #expect(renewed)
        #expect(crl.contains(issued.certificate))
        #expect(try store.refreshRevocationList().renewed == false)
    }

    @Test func anotherProcessHoldingTheLockMakesUsWait() throws {
        let (store, directory) = try Self.initialisedStore()
        defer { TestSupport.remove(directory) }
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [store.layout.lockFile, "sleep", "1.5"]
        try holder.run()
        defer { holder.waitUntilExit() }
        usleep(400_000)
        let clock = ContinuousClock()
        let started = clock.now
        _ = try store.issueDevice(name: "SEP1", key: .generate(.ecP256))
        #expect(clock.now - started > .milliseconds(700))
    }

    @Test func expiryReportLooksAhead() throws {
        let directory = try TestSupport.scratchDirectory("store")
        defer { TestSupport.remove(directory) }
        let state = directory + "/state"
        let store = TestSupport.store(state, at: "2026-01-01T00:00:00Z")
        _ = try store.initialise(names: ["edge"], addresses: [])
        let short = try store.issueDevice(name: "SEPSHORT", key: .generate(.ecP256), validityDays: 20)
        let revoked = try store.issueDevice(name: "SEPGONE", key: .generate(.ecP256), validityDays: 10)
        try store.revoke(serial: revoked.certificate.serialNumber)
        _ = try store.issueDevice(name: "SEPLONG", key: .generate(.ecP256), validityDays: 365)

        let report = try store.expiryReport()
        #expect(report.map(\.name) == ["SEPSHORT"])
        #expect(report[0].daysLeft == 20)
        #expect(report[0].serialNumber == short.certificate.serialNumber)
        #expect(report[0].description == "device certificate SEPSHORT serial \(short.certificate.serialNumber) expires on 2026-01-21T00:00:00Z (in 20 days)")

        // 25 days on: SEPSHORT has expired, and the CRL is within its last week.
        let later = TestSupport.store(state, at: "2026-01-26T00:00:00Z")
        let notices = try later.expiryReport()
        #expect(notices.count == 2)
        #expect(notices[0].description.hasPrefix("device certificate SEPSHORT"))
        #expect(notices[0].description.hasSuffix("expired on 2026-01-21T00:00:00Z"))
        #expect(notices[0].daysLeft == -5)
        #expect(notices[1].subject == .revocationList)
        #expect(try later.expiryReport(withinDays: 400).contains { $0.name == "SEPLONG" })
    }

    @Test func reissueServerCertificate() throws {
        let (store, directory) = try Self.initialisedStore()
        defer { TestSupport.remove(directory) }
        let old = try store.serverCertificate()
        let new = try store.reissueServerCertificate(names: ["srst.branch.example", "new.example"], addresses: ["10.0.0.5"])
        #expect(new != old)
        #expect(try store.serverCertificate() == new)
        #expect(new.subjectAlternativeNames.contains(.dns("new.example")))
        #expect(new.matches(try PrivateKey(pemEncoded: TestSupport.read(store.layout.serverKey))))
        let servers = try store.records().filter { $0.kind == .server }
        #expect(servers.map(\.superseded) == [true, false])
        #expect(servers[0].status(at: .now) == .superseded)
        #expect(!(try store.initialise(names: ["srst.branch.example", "new.example"], addresses: ["10.0.0.5"]).changedAnything))
    }

    @Test func trustListSignerSigns() throws {
        let (store, directory) = try Self.initialisedStore()
        defer { TestSupport.remove(directory) }
        let signer = try store.trustListSigner()
        let file = Array(repeating: UInt8(0x0D), count: 300)
        let signature = try signer.sign(file, digest: .sha256)
        #expect(signature.count == 256)
        #expect(try signer.certificate.verify(signature: signature, for: file, digest: .sha256))
        #expect(signer.certificate.verifySignature(issuer: try store.authorityCertificate()))
    }

    @Test func operationsBeforeInitialiseSaySo() throws {
        let directory = try TestSupport.scratchDirectory("store")
        defer { TestSupport.remove(directory) }
        let store = TestSupport.store(directory + "/nothing")
        for operation in [
            { _ = try store.records() }, { _ = try store.issueDevice(name: "SEP1", key: .generate(.ecP256)) },
            { _ = try store.tlsMaterial() }, { _ = try store.trustedRoots() }, { _ = try store.revocationList() },
        ] as [() throws -> Void] {
            do {
                try operation()
                Issue.record("worked without a PKI")
            } catch let error as PKIStoreError {
                #expect(error.code == .notInitialised)
                #expect(error.message.contains("run `outpost pki init --state-dir"))
            }
        }
    }

    @Test func concurrentIssuanceKeepsEveryRecord() async throws {
        let (store, directory) = try Self.initialisedStore()
        defer { TestSupport.remove(directory) }
        let serials = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<8 {
                group.addTask { try store.issueDevice(name: "SEP\(index)", key: .generate(.ecP256)).certificate.serialNumber }
            }
            var serials: [String] = []
            for try await serial in group { serials.append(serial) }
            return serials
        }
        let recorded = try store.records().filter { $0.kind == .device }.map(\.serialNumber)
        #expect(Set(recorded) == Set(serials))
        #expect(recorded.count == 8)
    }

    @Test func tlsMaterialPointsAtTheFiles() throws {
        let (store, directory) = try Self.initialisedStore()
        defer { TestSupport.remove(directory) }
        let material = try store.tlsMaterial()
        #expect(material.certificateChainPath == store.layout.serverChain)
        #expect(material.privateKeyPath == store.layout.serverKey)
        #expect(material.trustRootsPath == store.layout.caBundle)
        #expect(material.crlPaths == [store.layout.revocationList])
        #expect(material.rootsWithoutCRL.isEmpty)
        #expect(try Certificate.all(pemEncoded: TestSupport.read(material.trustRootsPath)) == [try store.authorityCertificate()])
    }
}
