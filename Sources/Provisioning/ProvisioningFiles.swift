import Edge
import PKI

/// The files the edge generates for its phones, by TFTP file name.
///
/// Which device gets what:
/// - a device named `SEP<MAC>` is a Cisco phone: `SEP<MAC>.cnf.xml` and its signed `.sgn`;
/// - any other device with a `mac` gets a Yealink `<mac>.cfg`;
/// - a device with neither has no generated file (it is configured by hand).
///
/// And for every phone: `ITLFile.tlv` and `CTLFile.tlv` (Cisco), `outpost-ca.pem` and
/// `outpost-srst.pem` (anyone; the Yealink configuration points at the CA).
public enum ProvisioningFiles {
    public static let initialTrustListName = "ITLFile.tlv"
    public static let trustListName = "CTLFile.tlv"
    public static let authorityCertificateName = "outpost-ca.pem"
    public static let serverCertificateName = "outpost-srst.pem"

    /// Every generated file. Throws when signing or encoding fails (a wrong SAST key type, a
    /// certificate OpenSSL cannot encode), never for inventory content.
    public static func generate(
        devices: [Device], material: ProvisioningMaterial, settings: ProvisioningSettings
    ) throws(ProvisioningError) -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        do {
            files[authorityCertificateName] = Array(try material.authority.pemEncoded().utf8)
            files[serverCertificateName] = Array(try material.server.pemEncoded().utf8)
            let records = trustListRecords(material: material, settings: settings)
            for name in [initialTrustListName, trustListName] {
                files[name] = try CiscoTrustList.build(
                    records: records, signer: material.signer, fileName: name, timestamp: settings.signingTime,
                    digest: settings.signatureDigest)
            }
            for device in devices {
                if let mac = device.macFromName {
                    let name = CiscoPhoneConfiguration.fileName(mac: mac)
                    let content = Array(CiscoPhoneConfiguration.xml(for: device, settings: settings).utf8)
                    files[name] = content
                    files[name + ".sgn"] = try CiscoSignedFile.build(
                        content: content, fileName: name, signer: material.signer, timestamp: settings.signingTime,
                        digest: settings.signatureDigest)
                } else if let mac = device.mac {
                    files[YealinkConfiguration.fileName(mac: mac)] = Array(YealinkConfiguration.text(for: device, settings: settings).utf8)
                }
            }
        } catch {
            throw ProvisioningError("cannot generate the provisioning files: \(error)")
        }
        return files
    }

    /// The certificates a Cisco phone must trust, and why each is there:
    /// - the SAST certificate as SAST: the phone checks the list's own signature with it;
    /// - the SAST certificate again as TFTP: phones accept a `.sgn` file only from a TFTP-function
    ///   signer, and the SAST key signs the `.cnf.xml.sgn` files (CUCM lists its TFTP signer twice
    ///   the same way);
    /// - the SRST certificate as CCM+TFTP: the phone's TLS connection to the edge (5061) is
    ///   authenticated against it;
    /// - the edge CA as CAPF: it issues the phones' certificates, as CUCM's CAPF issues LSCs.
    static func trustListRecords(material: ProvisioningMaterial, settings: ProvisioningSettings) -> [CiscoTrustList.Record] {
        [
            .init(function: .sast, certificate: material.signer.certificate),
            .init(function: .tftp, certificate: material.signer.certificate),
            .init(function: .callManagerAndTFTP, certificate: material.server, dnsName: settings.edgeName, ipv4Address: settings.edgeIPv4Bytes),
            .init(function: .capf, certificate: material.authority),
        ]
    }
}
