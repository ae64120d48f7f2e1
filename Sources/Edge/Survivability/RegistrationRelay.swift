import SIP

/// Sends a REGISTER to the call manager and returns its final response. The trunk adds its own
/// Via and a Path naming the edge, so the call manager routes requests for the phone through the
/// edge. Throws when the call manager could not be reached (no answer in time, transport failure,
/// or a trunk that may not carry signalling yet).
public protocol RegistrationUpstream: Sendable {
    func relay(_ request: SIPRequest) async throws -> SIPResponse
}

/// The REGISTERs the edge sends upstream: a phone's, relayed; and its own on the phones' behalf
/// when it hands the registrations back. Pure.
public struct RegistrationRelay: Sendable {
    /// The call manager's domain: the Request-URI of REGISTERs sent upstream.
    public let domain: String

    public init(domain: String) {
        self.domain = domain
    }

    /// The phone's REGISTER as it goes upstream: Request-URI to the call manager's domain (a
    /// proxy's routing decision), Max-Forwards decremented, `Supported: path` so the call manager
    /// keeps the Path the trunk adds. Nil when Max-Forwards is exhausted.
    public func upstreamCopy(of request: SIPRequest) -> SIPRequest? {
        var copy = request
        let forwards = ((try? request.headers.maxForwards()) ?? nil) ?? 70
        guard forwards > 0 else { return nil }
        copy.headers.set(.maxForwards, String(forwards - 1))
        if let uri = try? URI(parsing: "sip:\(domain)") { copy.uri = uri }
        if !request.headers.tokens(.supported).contains(where: { $0.lowercased() == "path" }) {
            copy.headers.append(.supported, "path")
        }
        return copy
    }

    /// The expiry the call manager granted each Contact of a 2xx (its `expires` parameter, else
    /// the response's Expires header), keyed by the Contact URI's text.
    public func grantedExpires(in response: SIPResponse) -> [String: Int] {
        let header = (try? response.headers.expires()).flatMap { $0 }.map(Int.init)
        var granted: [String: Int] = [:]
        for case .address(let address) in (try? response.headers.contacts()) ?? [] {
            if let seconds = address.parameters.value("expires").flatMap({ Int($0) }) ?? header {
                granted[address.uri.description] = seconds
            }
        }
        return granted
    }

    /// The REGISTER that hands an address of record's live bindings back to the call manager.
    public func handBackRequest(addressOfRecord: String, bindings: [Binding], callID: String, cseq: UInt32, now: Int64) -> SIPRequest {
        let aor = "sip:\(addressOfRecord)@\(domain)"
        var extra: [(SIPHeaderName, String)] = bindings.map { binding in
            var contact = "<\(binding.contact)>;expires=\(max(1, binding.expiresAt - now))"
            if let instance = binding.instanceID, let regID = binding.regID { contact += ";+sip.instance=\(instance);reg-id=\(regID)" }
            return (.contact, contact)
        }
        extra.append((.supported, "path"))
        if let userAgent = bindings.first?.userAgent { extra.append((.userAgent, userAgent)) }
        let uri = (try? URI(parsing: "sip:\(domain)")) ?? .sip(SIPURI(host: domain))
        return SIPRequest(outOfDialog: .register, uri: uri, from: aor, to: aor, callID: callID, cseq: cseq, extra: extra)
    }
}
