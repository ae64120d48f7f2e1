import Foundation

/// A failed ng request.
public enum RtpengineError: Error, Sendable, CustomStringConvertible {
    /// No reply with our cookie in any of the attempts.
    case timeout(command: String, attempts: Int)
    /// rtpengine answered `"result": "error"`.
    case refused(command: String, reason: String)
    /// The reply was not `<cookie> <bencode dictionary>`, or lacked what the command returns.
    case malformedReply(command: String, detail: String)
    /// The daemon did not come up, or exited.
    case process(String)

    public var description: String {
        switch self {
        case .timeout(let command, let attempts): "ng '\(command)': no reply after \(attempts) attempts"
        case .refused(let command, let reason): "ng '\(command)' refused: \(reason)"
        case .malformedReply(let command, let detail): "ng '\(command)': malformed reply: \(detail)"
        case .process(let detail): "rtpengine: \(detail)"
        }
    }
}

/// The reply of an `offer` or `answer`: the rewritten SDP and the whole result dictionary.
public struct RtpengineSDPReply: Sendable {
    public let sdp: String
    public let result: [String: BencodeValue]
}

/// A client of rtpengine's "ng" control protocol: `<cookie> <bencoded dictionary>` over UDP, the
/// reply carrying the same cookie. A retry resends the same cookie, so rtpengine answers it from
/// its cookie cache instead of running the command twice.
public struct RtpengineControl: Sendable {
    public let host: String
    public let port: UInt16
    /// How long each attempt waits for its reply.
    public var attemptTimeout: Duration
    public var attempts: Int

    public init(host: String = "127.0.0.1", port: UInt16, attemptTimeout: Duration = .seconds(1), attempts: Int = 3) {
        self.host = host
        self.port = port
        self.attemptTimeout = attemptTimeout
        self.attempts = attempts
    }

    /// Sends `message` and returns the reply dictionary; a `"result": "error"` reply throws.
    public func request(_ message: [String: BencodeValue]) throws -> [String: BencodeValue] {
        let command = message["command"]?.stringValue ?? "?"
        let cookie = String((0..<12).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
        let datagram = Array(cookie.utf8) + [UInt8(ascii: " ")] + Bencode.encode(.dictionary(message))
        let socket = try UDPSocket(host: "127.0.0.1", port: 0)
        defer { socket.close() }
        for _ in 0..<max(1, attempts) {
            try socket.send(datagram, to: host, port: port)
            let deadline = ContinuousClock.now + attemptTimeout
            while let (reply, _, _) = try socket.receive(before: deadline) {
                // A late reply to another request (another cookie) is not ours: keep waiting.
                guard let space = reply.firstIndex(of: UInt8(ascii: " ")), Array(reply[..<space]) == Array(cookie.utf8) else {
                    continue
                }
                let body = reply[(space + 1)...]
                let value: BencodeValue
                do {
                    value = try Bencode.decode(body, requireSortedKeys: false)
                } catch {
                    throw RtpengineError.malformedReply(command: command, detail: "\(error)")
                }
                guard let dictionary = value.dictionaryValue else {
                    throw RtpengineError.malformedReply(command: command, detail: "not a dictionary: \(value)")
                }
                if dictionary["result"]?.stringValue == "error" {
                    throw RtpengineError.refused(command: command, reason: dictionary["error-reason"]?.stringValue ?? "\(value)")
                }
                return dictionary
            }
        }
        throw RtpengineError.timeout(command: command, attempts: max(1, attempts))
    }

    public func ping() throws {
        let reply = try request(["command": "ping"])
        guard reply["result"]?.stringValue == "pong" else {
            throw RtpengineError.malformedReply(command: "ping", detail: "\(BencodeValue.dictionary(reply))")
        }
    }

    /// `offer` from `fromTag`. `flags` are merged into the message: for example
    /// `["transport-protocol": "RTP/SAVP", "SDES": RtpengineControl.sdesOnly("AES_CM_128_HMAC_SHA1_80"),
    ///   "DTLS": "off", "ICE": "remove", "replace": ["origin", "session-connection"]]`.
    public func offer(callID: String, fromTag: String, sdp: String, flags: [String: BencodeValue] = [:]) throws -> RtpengineSDPReply {
        try sdpCommand("offer", ["call-id": .string(callID), "from-tag": .string(fromTag), "sdp": .string(sdp)], flags)
    }

    /// `answer` from `toTag` to the offer of `fromTag`.
    public func answer(
        callID: String, fromTag: String, toTag: String, sdp: String, flags: [String: BencodeValue] = [:]
    ) throws -> RtpengineSDPReply {
        try sdpCommand(
            "answer", ["call-id": .string(callID), "from-tag": .string(fromTag), "to-tag": .string(toTag), "sdp": .string(sdp)], flags)
    }

    /// `delete` of the whole call; the reply (with its statistics, or a warning for an unknown call).
    @discardableResult
    public func delete(callID: String, flags: [String: BencodeValue] = [:]) throws -> [String: BencodeValue] {
        try request(flags.merging(["command": "delete", "call-id": .string(callID)]) { _, fixed in fixed })
    }

    /// `query`: the call's tags, streams, endpoints and packet counters.
    public func query(callID: String) throws -> [String: BencodeValue] {
        try request(["command": "query", "call-id": .string(callID)])
    }

    private func sdpCommand(
        _ command: String, _ fixed: [String: BencodeValue], _ flags: [String: BencodeValue]
    ) throws -> RtpengineSDPReply {
        var message = flags
        for (key, value) in fixed { message[key] = value }
        message["command"] = .string(command)
        let reply = try request(message)
        guard let sdp = reply["sdp"]?.stringValue else {
            throw RtpengineError.malformedReply(command: command, detail: "no sdp in \(BencodeValue.dictionary(reply))")
        }
        return RtpengineSDPReply(sdp: sdp, result: reply)
    }

    /// The SDES suites rtpengine 10.5 offers by default, strongest first.
    public static let sdesSuites = [
        "AEAD_AES_256_GCM", "AEAD_AES_128_GCM", "AES_256_CM_HMAC_SHA1_80", "AES_256_CM_HMAC_SHA1_32",
        "AES_192_CM_HMAC_SHA1_80", "AES_192_CM_HMAC_SHA1_32", "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32",
        "F8_128_HMAC_SHA1_80", "F8_128_HMAC_SHA1_32", "NULL_HMAC_SHA1_80", "NULL_HMAC_SHA1_32",
    ]

    /// An `SDES` flag list that leaves only `suites` in rtpengine's offers. rtpengine 10.5 has no
    /// `only-` flag (it logs "Unknown 'SDES' flag"), so every other suite is excluded with `no-`.
    /// `pad` keeps the base64 padding of the inline keys, as RFC 4568 writes them.
    public static func sdesOnly(_ suites: String...) -> BencodeValue {
        .list(sdesSuites.filter { !suites.contains($0) }.map { .string("no-\($0)") } + ["pad"])
    }
}
