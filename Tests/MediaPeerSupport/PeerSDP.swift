import Foundation

/// One `a=crypto` line (RFC 4568 §9.1), with the inline key decoded.
public struct SDESCrypto: Sendable, Hashable, CustomStringConvertible {
    public let tag: Int
    public let suite: String
    /// Master key followed by master salt.
    public let keyAndSalt: [UInt8]

    public init(tag: Int, suite: String, keyAndSalt: [UInt8]) {
        self.tag = tag
        self.suite = suite
        self.keyAndSalt = keyAndSalt
    }

    /// A fresh random key||salt of `length` bytes.
    public static func randomKey(length: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// The attribute's value, key written in padded base64.
    public var attributeValue: String {
        "\(tag) \(suite) inline:\(Data(keyAndSalt).base64EncodedString())"
    }

    public var description: String { "crypto \(tag) \(suite) (\(keyAndSalt.count) bytes)" }

    /// Parses the value of an `a=crypto:` attribute. Accepts unpadded base64 (rtpengine's default)
    /// and ignores a `|lifetime|MKI` tail and session parameters.
    public init?(attributeValue: String) {
        let fields = attributeValue.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 3, let tag = Int(fields[0]), fields[2].hasPrefix("inline:") else { return nil }
        let keyParameter = fields[2].dropFirst("inline:".count).split(separator: "|", maxSplits: 1).first.map(String.init) ?? ""
        var base64 = keyParameter
        while base64.count % 4 != 0 { base64 += "=" }
        guard let key = Data(base64Encoded: base64) else { return nil }
        self.init(tag: tag, suite: String(fields[1]), keyAndSalt: Array(key))
    }
}

/// The little of SDP the harness needs: one audio stream, written and read line by line. The
/// harness does not use the product's SDP target, so that a bug there cannot hide itself.
public struct PeerSDP: Sendable, Hashable {
    public var address: String
    public var port: UInt16
    /// `RTP/AVP` or `RTP/SAVP`.
    public var transport: String
    public var payloadTypes: [UInt8]
    public var crypto: [SDESCrypto]
    /// Every `a=` attribute value of the media section, as written.
    public var attributes: [String]

    public init(address: String = "127.0.0.1", port: UInt16, transport: String, payloadTypes: [UInt8] = [0], crypto: [SDESCrypto] = []) {
        self.address = address
        self.port = port
        self.transport = transport
        self.payloadTypes = payloadTypes
        self.crypto = crypto
        self.attributes = []
    }

    /// An offer or answer with PCMU at 8 kHz, `sendrecv`.
    public func render(sessionID: UInt64 = UInt64.random(in: 1...UInt64(Int64.max))) -> String {
        var lines = [
            "v=0", "o=- \(sessionID) 1 IN IP4 \(address)", "s=-", "c=IN IP4 \(address)", "t=0 0",
            "m=audio \(port) \(transport) \(payloadTypes.map(String.init).joined(separator: " "))",
        ]
        if payloadTypes.contains(0) { lines.append("a=rtpmap:0 PCMU/8000") }
        if payloadTypes.contains(8) { lines.append("a=rtpmap:8 PCMA/8000") }
        lines += crypto.map { "a=crypto:\($0.attributeValue)" }
        lines.append("a=sendrecv")
        return lines.map { $0 + "\r\n" }.joined()
    }

    /// Reads the session (or media) `c=` address, the first `m=audio` line and its crypto lines.
    public init?(parsing sdp: String) {
        var sessionAddress: String?
        var mediaAddress: String?
        var audio: (port: UInt16, transport: String, payloadTypes: [UInt8])?
        var crypto: [SDESCrypto] = []
        var attributes: [String] = []
        var inAudio = false
        for raw in sdp.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }) {
            let line = String(raw)
            if line.hasPrefix("m=") {
                if audio != nil { break }
                let fields = line.dropFirst(2).split(separator: " ")
                guard fields.count >= 3, fields[0] == "audio", let port = UInt16(fields[1]) else { continue }
                audio = (port, String(fields[2]), fields.dropFirst(3).compactMap { UInt8($0) })
                inAudio = true
            } else if line.hasPrefix("c=IN IP4 ") {
                let value = String(line.dropFirst("c=IN IP4 ".count).split(separator: "/").first ?? "")
                if inAudio { mediaAddress = value } else { sessionAddress = value }
            } else if inAudio, line.hasPrefix("a=") {
                let value = String(line.dropFirst(2))
                attributes.append(value)
                if value.hasPrefix("crypto:"), let parsed = SDESCrypto(attributeValue: String(value.dropFirst("crypto:".count))) {
                    crypto.append(parsed)
                }
            }
        }
        guard let audio, let address = mediaAddress ?? sessionAddress else { return nil }
        self.init(address: address, port: audio.port, transport: audio.transport, payloadTypes: audio.payloadTypes, crypto: crypto)
        self.attributes = attributes
    }
}
