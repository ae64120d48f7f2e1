import ArgumentParser
import PKI

#if canImport(Glibc)
import Glibc
#endif

/// `outpost pki …`: the edge's CA, SRST and device certificates, revocation, and the trust store.
/// Argument parsing and printing only; everything else is `PKIStore`'s.
struct PKI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pki",
        abstract: "Manage the edge CA, the SRST certificate, device certificates, the CRL and trusted roots.",
        subcommands: [
            PKIInit.self, PKIIssue.self, PKIRevoke.self, PKIList.self, PKIShow.self, PKICRL.self, PKIExpiry.self,
            PKITrust.self,
        ])
}

struct PKIStoreOptions: ParsableArguments {
    @Option(name: .long, help: "State directory; the PKI lives in its pki/ folder.")
    var stateDir: String

    @Flag(name: .long, help: "FIPS mode: also refuse SHA-1 signatures (and RSA below 2048 bits).")
    var fips = false

    var store: PKIStore {
        PKIStore(stateDirectory: stateDir, settings: PKIStore.Settings(policy: CertificatePolicy(fipsMode: fips)))
    }
}

enum KeyTypeArgument: String, CaseIterable, ExpressibleByArgument {
    case ecP256 = "ec-p256"
    case ecP384 = "ec-p384"
    case rsa2048 = "rsa-2048"
    case rsa3072 = "rsa-3072"
    case rsa4096 = "rsa-4096"

    var spec: KeySpec {
        switch self {
        case .ecP256: .ecP256
        case .ecP384: .ecP384
        case .rsa2048: .rsa2048
        case .rsa3072: .rsa3072
        case .rsa4096: .rsa4096
        }
    }
}

struct RevocationReasonArgument: ExpressibleByArgument {
    let reason: CertificateRevocationList.Reason

    init?(argument: String) {
        guard let reason = CertificateRevocationList.Reason(name: argument) else { return nil }
        self.reason = reason
    }

    static var allValueStrings: [String] { CertificateRevocationList.Reason.allCases.map(\.description) }
}

// MARK: - init

struct PKIInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the edge CA, the SRST certificate and the SAST signer (idempotent).")

    @OptionGroup var options: PKIStoreOptions

    @Option(name: .customLong("name"), help: "DNS name of the edge for the SRST certificate (repeatable; default: the host name).")
    var names: [String] = []

    @Option(name: .customLong("address"), help: "IP address of the edge for the SRST certificate (repeatable).")
    var addresses: [String] = []

    @Flag(name: .long, help: "Issue a new SRST certificate and key for the given names, replacing the current one.")
    var reissueServer = false

    func run() throws {
        let store = options.store
        let names = self.names.isEmpty && addresses.isEmpty ? [hostName()] : self.names
        if reissueServer {
            guard store.isInitialised else { throw PKIStoreError(.notInitialised, "nothing to reissue: run `pki init` first") }
            let server = try store.reissueServerCertificate(names: names, addresses: addresses)
            print("reissued SRST certificate \(server.subject), serial \(server.serialNumber), valid until \(server.notAfter)")
            return
        }
        let report = try store.initialise(names: names, addresses: addresses)
        for item in report.created { print("created  \(item)") }
        for item in report.existing { print("exists   \(item)") }
        for warning in report.warnings { print("warning: \(warning)") }
        print("")
        printTable(
            ["ROLE", "SUBJECT", "SERIAL", "NOT AFTER", "KEY"],
            [("CA", report.authority), ("SRST", report.server), ("SAST", report.trustListSigner)].map { role, certificate in
                [role, certificate.subject, certificate.serialNumber, certificate.notAfter.description,
                 "\(certificate.publicKeyAlgorithm) \(certificate.publicKeyBits)"]
            })
        print("SRST names: " + report.server.subjectAlternativeNames.map(\.description).joined(separator: ", "))
        printExpiryNotices(try store.expiryReport())
    }
}

// MARK: - issue

struct PKIIssue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue", abstract: "Issue a device certificate (CN = device name, clientAuth).")

    @OptionGroup var options: PKIStoreOptions

    @Option(name: .long, help: "Device name, the certificate's CN (Cisco style SEP<MAC>).")
    var device: String

    @Option(name: .long, help: "PEM certificate signing request from the device; without it a key is generated.")
    var csr: String?

    @Option(name: .long, help: "Where to write the certificate (PEM).")
    var certOut: String

    @Option(name: .long, help: "Where to write the generated private key (PEM, mode 0600; never overwritten).")
    var keyOut: String?

    @Option(name: .long, help: "Type of the generated key (default rsa-2048).")
    var keyType: KeyTypeArgument?

    @Option(name: .long, help: "Validity in days (default 1826).")
    var days: Int?

    @Option(name: .long, help: "Optional SAN URI identity, e.g. sip:SEP001122334455@branch.example.")
    var uri: String?

    func validate() throws {
        if csr != nil {
            if keyOut != nil { throw ValidationError("--key-out applies only to a generated key; a CSR's key stays on the device") }
            if keyType != nil { throw ValidationError("--key-type applies only to a generated key; the CSR fixes the key") }
        } else if keyOut == nil {
            throw ValidationError("--key-out is required when the key is generated (no --csr)")
        }
        if let days, days < 1 { throw ValidationError("--days must be at least 1") }
    }

    func run() throws {
        let store = options.store
        let key: PKIStore.DeviceKey
        if let csr {
            let text = try SecureFile.readText(csr)
            do {
                key = .request(try CertificateSigningRequest(pemEncoded: text))
            } catch {
                throw PKIStoreError(.invalidInput, "\(csr): not a PEM certificate signing request (\(error))")
            }
        } else {
            key = .generate(keyType?.spec ?? store.settings.deviceKey)
        }
        if let keyOut, SecureFile.exists(keyOut) {
            throw PKIStoreError(.alreadyExists, "\(keyOut) exists; refusing to overwrite a private key")
        }
        // Refuse before issuing rather than issue a certificate that cannot be delivered.
        for path in [certOut] + (keyOut.map { [$0] } ?? []) {
            let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
            guard access(directory.isEmpty ? "/" : directory, W_OK) == 0 else {
                throw PKIStoreError(.fileSystem, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
        }
        let issued = try store.issueDevice(name: device, key: key, uri: uri, validityDays: days)
        if let keyOut, let privateKey = issued.privateKey {
            try SecureFile.writePrivateKey(privateKey, to: keyOut)
        }
        let pem: String
        do { pem = try issued.certificate.pemEncoded() } catch { throw PKIStoreError(.openSSL, "\(error)") }
        try SecureFile.write(pem, to: certOut, mode: SecureFile.publicMode)
        print("issued   \(issued.certificate.subject), serial \(issued.certificate.serialNumber)")
        print("valid    \(issued.certificate.notBefore) – \(issued.certificate.notAfter)")
        print("key      \(issued.certificate.publicKeyAlgorithm) \(issued.certificate.publicKeyBits) bits, "
              + (issued.privateKey == nil ? "from the CSR" : "generated, written to \(keyOut ?? "") (0600)"))
        print("cert     \(certOut)")
    }
}

// MARK: - revoke

struct PKIRevoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke a device certificate by serial, or every certificate of a device, and re-sign the CRL.")

    @OptionGroup var options: PKIStoreOptions

    @Option(name: .long, help: "Serial number (hex).")
    var serial: String?

    @Option(name: .long, help: "Device name: revokes all of its unrevoked certificates.")
    var device: String?

    @Option(name: .long, help: "RFC 5280 reason (\(CertificateRevocationList.Reason.allCases.map(\.description).joined(separator: ", "))).")
    var reason: RevocationReasonArgument?

    func validate() throws {
        if (serial == nil) == (device == nil) { throw ValidationError("give exactly one of --serial or --device") }
    }

    func run() throws {
        let store = options.store
        let reason = self.reason?.reason ?? .unspecified
        let revoked = if let serial { [try store.revoke(serial: serial, reason: reason)] } else { try store.revoke(device: device ?? "", reason: reason) }
        for record in revoked {
            print("revoked  \(record.serialNumber) (\(record.name)), reason \(reason)")
        }
        let crl = try store.revocationList()
        print("CRL      number \(crl.number.map(String.init) ?? "-"), \(crl.entries.count) entries, next update \(crl.nextUpdate?.description ?? "-")")
    }
}

// MARK: - list

struct PKIList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the certificates the edge CA issued.")

    @OptionGroup var options: PKIStoreOptions

    @Flag(name: .long, help: "JSON instead of a table.")
    var json = false

    func run() throws {
        let store = options.store
        let records = try store.records()
        let now = PKITime.now
        if json {
            let items = records.map { record in
                JSON.object([
                    ("serial", .string(record.serialNumber)), ("kind", .string(record.kind.rawValue)), ("name", .string(record.name)),
                    ("notBefore", .string(record.notBefore.description)), ("notAfter", .string(record.notAfter.description)),
                    ("status", .string(record.status(at: now).rawValue)), ("key", .string(record.keySource.rawValue)),
                    ("revoked", record.revocation.map { .string($0.date.description) } ?? .null),
                    ("reason", record.revocation.map { .string($0.reason.description) } ?? .null),
                ])
            }
            print(JSON.array(items).text)
            return
        }
        printTable(
            ["SERIAL", "KIND", "NAME", "NOT AFTER", "STATUS", "KEY"],
            records.map { record in
                [record.serialNumber, record.kind.rawValue, record.name, record.notAfter.description,
                 record.status(at: now).rawValue, record.keySource.rawValue]
            })
        printExpiryNotices(try store.expiryReport())
    }
}

// MARK: - show

struct PKIShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one certificate.")

    @OptionGroup var options: PKIStoreOptions

    @Option(name: .long, help: "Serial number (hex).")
    var serial: String?

    @Option(name: .long, help: "Device name (shows each of its certificates).")
    var device: String?

    @Flag(name: .long, help: "The SRST server certificate.")
    var srst = false

    @Flag(name: .long, help: "The edge CA certificate.")
    var ca = false

    @Flag(name: .long, help: "The SAST trust-list signing certificate.")
    var sast = false

    @Flag(name: .long, help: "Print the PEM instead of the details.")
    var pem = false

    func validate() throws {
        let chosen = [serial != nil, device != nil, srst, ca, sast].filter { $0 }.count
        if chosen != 1 { throw ValidationError("give exactly one of --serial, --device, --srst, --ca or --sast") }
    }

    func run() throws {
        let store = options.store
        var shown: [(IssuedCertificateRecord?, Certificate)] = []
        if let serial {
            let found = try store.certificate(serial: serial)
            shown = [(found.record, found.certificate)]
        } else if let device {
            shown = try store.certificates(device: device).map { ($0.record, $0.certificate) }
        } else if srst {
            shown = [(nil, try store.serverCertificate())]
        } else if ca {
            shown = [(nil, try store.authorityCertificate())]
        } else {
            shown = [(nil, try store.trustListSignerCertificate())]
        }
        for (index, (record, certificate)) in shown.enumerated() {
            if index > 0 { print("") }
            if pem {
                do { print(try certificate.pemEncoded(), terminator: "") } catch { throw PKIStoreError(.openSSL, "\(error)") }
            } else {
                printDetails(certificate, record: record)
            }
        }
    }
}

// MARK: - crl

struct PKICRL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crl", abstract: "Show the edge CA's CRL (re-signed first when half its validity has passed), or export it.")

    @OptionGroup var options: PKIStoreOptions

    @Option(name: .long, help: "Write the CRL (PEM) to this file.")
    var out: String?

    @Flag(name: .long, help: "Re-sign the CRL now even if it is not due.")
    var renew = false

    func run() throws {
        let store = options.store
        let (crl, renewed) = try store.refreshRevocationList(force: renew)
        if let out {
            let pem: String
            do { pem = try crl.pemEncoded() } catch { throw PKIStoreError(.openSSL, "\(error)") }
            try SecureFile.write(pem, to: out, mode: SecureFile.publicMode)
        }
        print("issuer       \(crl.issuer)")
        print("number       \(crl.number.map(String.init) ?? "-")\(renewed ? " (re-signed now)" : "")")
        print("this update  \(crl.thisUpdate)")
        print("next update  \(crl.nextUpdate?.description ?? "-")")
        print("signature    \(crl.signatureAlgorithm)")
        if let out { print("written to   \(out)") }
        print("")
        printTable(["SERIAL", "REVOKED", "REASON"], crl.entries.map { [$0.serialNumber, $0.revocationDate.description, $0.reason?.description ?? "-"] })
    }
}

// MARK: - expiry

struct PKIExpiry: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expiry", abstract: "Report certificates and CRLs that expire soon (exit status 1 when any do).")

    @OptionGroup var options: PKIStoreOptions

    @Option(name: .long, help: "Window in days.")
    var days: Int = 30

    func run() throws {
        let notices = try options.store.expiryReport(withinDays: days)
        guard !notices.isEmpty else {
            print("nothing expires within \(days) days")
            return
        }
        for notice in notices { print(notice) }
        throw ExitCode(1)
    }
}

// MARK: - trust

struct PKITrust: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust", abstract: "Manage the external roots peers may chain to (and their CRLs).",
        subcommands: [PKITrustAdd.self, PKITrustRemove.self, PKITrustList.self, PKITrustCRL.self])
}

struct PKITrustAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Trust a self-signed CA root (PEM file).",
        discussion: """
            With --crl required (the default), certificates under the root are refused until its CRL \
            is added (--crl-file here, or `outpost pki trust crl` later). With --crl optional, for a \
            call manager whose CA publishes no CRL, they are accepted while the root has no CRL; a CRL \
            added later is checked as usual. The edge's own CA always needs its CRL.
            """)

    @OptionGroup var options: PKIStoreOptions

    @Argument(help: "PEM file holding the root certificate.")
    var file: String

    @Option(
        name: .long,
        help: ArgumentHelp("Whether certificates under the root need its CRL.", valueName: "required|optional"),
        transform: { (text: String) throws -> PKIStore.CRLRequirement in try parseCRLRequirement(text) })
    var crl: PKIStore.CRLRequirement = .required

    @Option(name: .long, help: "PEM CRL issued by the root.")
    var crlFile: String?

    func run() throws {
        let pem = try SecureFile.readText(file)
        let crlPEM = try crlFile.map { path throws(PKIStoreError) in try SecureFile.readText(path) }
        let root = try options.store.addTrustedRoot(pem: pem, crlPEM: crlPEM, crlRequirement: crl)
        print("trusted  \(root.certificate.subject)")
        print("sha256   \(root.fingerprint)")
        print("valid    \(root.certificate.notBefore) – \(root.certificate.notAfter)")
        print("CRL      " + (root.revocationList.map { "number \($0.number.map(String.init) ?? "-"), next update \($0.nextUpdate?.description ?? "-")" } ?? "none")
            + ", \(root.crlRequirement)")
    }
}

/// `--crl required|optional`. The option used to take the CRL's file, which is now `--crl-file`;
/// a path given here is refused with a pointer to it rather than taken for either choice.
func parseCRLRequirement(_ text: String) throws -> PKIStore.CRLRequirement {
    guard let requirement = PKIStore.CRLRequirement(rawValue: text) else {
        throw ValidationError("--crl takes required or optional, not '\(text)'; give the root's CRL file with --crl-file")
    }
    return requirement
}

struct PKITrustRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Stop trusting a root.")

    @OptionGroup var options: PKIStoreOptions

    @Option(name: .long, help: "SHA-256 fingerprint of the root (or a unique prefix of at least 8 hex digits).")
    var fingerprint: String

    func run() throws {
        let root = try options.store.removeTrustedRoot(fingerprint: fingerprint)
        print("removed  \(root.certificate.subject) (\(root.fingerprint))")
    }
}

struct PKITrustList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the trusted roots.")

    @OptionGroup var options: PKIStoreOptions

    @Flag(name: .long, help: "JSON instead of a table.")
    var json = false

    func run() throws {
        let roots = try options.store.trustedRoots()
        if json {
            print(JSON.array(roots.map { root in
                JSON.object([
                    ("fingerprint", .string(root.fingerprint)), ("subject", .string(root.certificate.subject)),
                    ("notAfter", .string(root.certificate.notAfter.description)),
                    ("crlNextUpdate", root.revocationList?.nextUpdate.map { .string($0.description) } ?? .null),
                    ("crl", .string(root.crlRequirement.rawValue)),
                ])
            }).text)
            return
        }
        printTable(
            ["FINGERPRINT (SHA-256)", "SUBJECT", "NOT AFTER", "CRL", "CRL NEEDED"],
            roots.map { root in
                [String(root.fingerprint.prefix(16)) + "…", root.certificate.subject, root.certificate.notAfter.description,
                 root.revocationList.map { "next update \($0.nextUpdate?.date ?? "-")" } ?? "none", root.crlRequirement.rawValue]
            })
    }
}

struct PKITrustCRL: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "crl", abstract: "Set or replace the CRL of a trusted root.")

    @OptionGroup var options: PKIStoreOptions

    @Option(name: .long, help: "SHA-256 fingerprint of the root (or a unique prefix of at least 8 hex digits).")
    var fingerprint: String

    @Argument(help: "PEM CRL issued by the root.")
    var file: String

    func run() throws {
        let root = try options.store.setTrustedRootCRL(fingerprint: fingerprint, crlPEM: try SecureFile.readText(file))
        let crl = root.revocationList
        print("CRL of   \(root.certificate.subject): number \(crl?.number.map(String.init) ?? "-"), \(crl?.entries.count ?? 0) entries, next update \(crl?.nextUpdate?.description ?? "-")")
    }
}

// MARK: - Output

private func printDetails(_ certificate: Certificate, record: IssuedCertificateRecord?) {
    var rows: [(String, String)] = [
        ("subject", certificate.subject),
        ("issuer", certificate.issuer),
        ("serial", certificate.serialNumber),
        ("not before", certificate.notBefore.description),
        ("not after", certificate.notAfter.description),
        ("key", "\(certificate.publicKeyAlgorithm) \(certificate.publicKeyBits) bits"),
        ("signature", certificate.signatureAlgorithm),
        ("CA", certificate.isCertificateAuthority ? "yes" + (certificate.pathLengthConstraint.map { ", path length \($0)" } ?? "") : "no"),
    ]
    if let usage = certificate.keyUsage { rows.append(("key usage", usage.description)) }
    let extended = certificate.extendedKeyUsages
    if !extended.isEmpty { rows.append(("extended usage", extended.map(\.description).joined(separator: ", "))) }
    let names = certificate.subjectAlternativeNames
    if !names.isEmpty { rows.append(("alt names", names.map(\.description).joined(separator: ", "))) }
    rows.append(("sha256", certificate.sha256FingerprintText))
    if let record {
        rows.append(("status", record.status(at: PKITime.now).rawValue))
        if let revocation = record.revocation { rows.append(("revoked", "\(revocation.date) (\(revocation.reason))")) }
        rows.append(("key source", record.keySource == .request ? "CSR" : "generated"))
    }
    let width = rows.map(\.0.count).max() ?? 0
    for (label, value) in rows {
        print(label + String(repeating: " ", count: width - label.count + 2) + value)
    }
}

private func printExpiryNotices(_ notices: [PKIStore.ExpiryNotice]) {
    guard !notices.isEmpty else { return }
    print("")
    for notice in notices { print("expiry: \(notice)") }
}

private func printTable(_ header: [String], _ rows: [[String]]) {
    guard !rows.isEmpty else {
        print("(none)")
        return
    }
    var widths = header.map(\.count)
    for row in rows {
        for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
    }
    func line(_ cells: [String]) -> String {
        var text = ""
        for (index, cell) in cells.enumerated() {
            text += cell
            if index < cells.count - 1 { text += String(repeating: " ", count: widths[index] - cell.count + 2) }
        }
        return text
    }
    print(line(header))
    for row in rows { print(line(row)) }
}

private func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count) == 0 else { return "outpost" }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return name.isEmpty ? "outpost" : name
}

/// Just enough JSON for `--json` output, without Foundation.
private indirect enum JSON {
    case string(String)
    case null
    case object([(String, JSON)])
    case array([JSON])

    var text: String {
        switch self {
        case .null: return "null"
        case .string(let value): return JSON.quote(value)
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let members): return "{" + members.map { JSON.quote($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
