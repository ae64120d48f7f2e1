import Edge
import Foundation
import PKI
import Provisioning
import Testing

/// A freshly initialised edge PKI in a scratch directory, and helpers to check generated files.
struct ProvisioningFixture {
    let directory: String
    let store: PKIStore
    let material: ProvisioningMaterial
    let settings: ProvisioningSettings

    static let time = PKITime(secondsSince1970: 1_800_000_000)

    init() throws {
        let template = NSTemporaryDirectory() + "outpost-provisioning-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else { throw ProvisioningError("mkdtemp failed") }
        directory = String(cString: made)
        store = PKIStore(stateDirectory: directory + "/state")
        _ = try store.initialise(names: ["srst.branch.example"], addresses: ["10.0.0.5"])
        material = try Self.material(store)
        settings = ProvisioningSettings(edgeAddress: "10.0.0.5", edgeName: "srst.branch.example", signingTime: Self.time)
    }

    static func material(_ store: PKIStore) throws -> ProvisioningMaterial {
        ProvisioningMaterial(authority: try store.authorityCertificate(), server: try store.serverCertificate(), signer: try store.trustListSigner())
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func generate(_ devices: [Device]) throws -> [String: [UInt8]] {
        try ProvisioningFiles.generate(devices: try DeviceInventory(devices).devices, material: material, settings: settings)
    }

    /// `openssl dgst -verify` with the SAST public key over the bytes the header says are signed.
    func expectOpenSSLVerifies(_ header: CiscoSignedHeader, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let key = directory + "/sast-public.pem"
        let signed = directory + "/signed.bin"
        let signature = directory + "/signature.bin"
        try Data(try material.signer.certificate.publicKey.pemEncoded().utf8).write(to: URL(fileURLWithPath: key))
        try Data(header.signedBytes).write(to: URL(fileURLWithPath: signed))
        try Data(header.signature).write(to: URL(fileURLWithPath: signature))
        let result = try Self.openssl(["dgst", header.digest == .sha1 ? "-sha1" : "-sha256", "-verify", key, "-signature", signature, signed])
        #expect(result.status == 0 && result.output.contains("Verified OK"), "\(result.output)", sourceLocation: sourceLocation)
    }

    static func openssl(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

extension Device {
    static func cisco(_ mac: String, _ security: SecurityProfile, lines: [DeviceLine], displayName: String? = nil, digest: DigestAccount? = nil) -> Device {
        Device(name: "SEP\(mac)", lines: lines, displayName: displayName, security: security, digest: digest)
    }
}
