import SIP

/// Sends a REGISTER to the call manager and returns its final response. The trunk adds its own
/// Via and a Path naming the edge, so the call manager routes requests for the phone through the
/// edge. The response comes back as the call manager sent it, the trunk's Via on top. Throws when no call manager could be
/// reached (no answer in time, transport failure, or a trunk that may not carry signalling yet).
public protocol RegistrationUpstream: Sendable {
    func relay(_ request: SIPRequest) async throws -> SIPResponse
}

/// The REGISTERs the edge sends upstream: a phone's, relayed; and its own on the phones' behalf
/// when it hands the registrations back. Pure.
///
/// Both use one address-of-record domain, the call manager's: a phone addresses its REGISTER to
/// the edge (`To: sip:2001@<edge>`), and a call manager that keys bindings by domain would
/// otherwise hold the relayed and the handed-back binding of one phone as two.
public struct RegistrationRelay: Sendable {
    /// The call manager's domain: the Request-URI and the address-of-record host upstream.
    public let domain: String

    public init(domain: String) {
        self.domain = domain
    }

    /// Why a phone's REGISTER is not relayed.
    public enum Refusal: Error, Equatable, Sendable {
        /// Max-Forwards reached zero (RFC 3261 §16.3 step 3).
        case tooManyHops
        /// The request already passed through this edge (a Via with one of its branches).
        case loop
    }

    /// The phone's REGISTER as it goes upstream: Request-URI and address of record in the call
    /// manager's domain (a proxy's routing decision), Max-Forwards decremented,
    /// `Supported: path` so the call manager keeps the Path the trunk adds.
    public func upstreamCopy(of request: SIPRequest) -> Result<SIPRequest, Refusal> {
        let forwards = ((try? request.headers.maxForwards()) ?? nil) ?? 70
        guard forwards > 0 else { return .failure(.tooManyHops) }
        if let vias = try? request.headers.vias(), vias.contains(where: { $0.branch.map(SIPIdentifiers.isOwnBranch) ?? false }) {
            return .failure(.loop)
        }
        var copy = request
        copy.headers.set(.maxForwards, String(forwards - 1))
        if let uri = try? URI(parsing: "sip:\(domain)") { copy.uri = uri }
        for name in [SIPHeaderName.to, .from] {
            guard var address = try? request.headers.addresses(name).first, case .sip(var uri) = address.uri else { continue }
            uri.host = domain
            uri.port = nil
            address.uri = .sip(uri)
            copy.headers.set(name, address.description)
        }
        if !request.headers.tokens(.supported).contains(where: { $0.lowercased() == "path" }) {
            copy.headers.append(.supported, "path")
        }
        return .success(copy)
    }

    /// The call manager's answer as it goes back to the phone (RFC 3261 §16.7 step 3): the
    /// trunk's own Via removed, and the phone's own From and To restored (with the To tag the
    /// call manager chose), so the phone sees the answer to what it sent. A phone that finds a
    /// foreign Via on top (baresip) discards the response and believes it is unregistered.
    public func downstreamCopy(of response: SIPResponse, answering request: SIPRequest) -> SIPResponse {
        var copy = response
        if let top = try? response.headers.topVia(), let branch = top.branch, SIPIdentifiers.isOwnBranch(branch) {
            copy.headers.removeFirstValue(.via)
        }
        if let from = request.headers[.from] { copy.headers.set(.from, from) }
        if var to = try? request.headers.to() {
            to.tag = (try? response.headers.to())?.tag
            copy.headers.set(.to, to.description)
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

    /// The REGISTER that re-registers an address of record's live bindings with the call manager
    /// (at hand-back, and as the periodic upstream refresh).
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
