import SIP

/// RFC 3261 §10.3 steps 6–8 for one authorised REGISTER: the address of record's new binding
/// set and the answer, computed from the request and the current set. Pure.
public struct RegistrationProcessor: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// Nothing changes; answer now (a query, or a refusal).
        case respond(SIPResponse)
        /// Make `bindings` the address of record's set durably, then send `response`.
        case commit(bindings: [Binding], response: SIPResponse)
    }

    public let settings: RegistrarSettings
    public let policy: RequestPolicy

    public init(settings: RegistrarSettings, policy: RequestPolicy) {
        self.settings = settings
        self.policy = policy
    }

    public func process(
        _ request: SIPRequest, addressOfRecord: String, device: Device, origin: RequestOrigin, current: [Binding], now: Int64,
        acceptedUpstream: Bool = false, grantedExpires: [String: Int] = [:]
    ) -> Outcome {
        let contacts: [ContactValue]
        let headerExpires: UInt32?
        let callID: String
        let cseq: CSeq
        do {
            contacts = try request.headers.contacts()
            headerExpires = try request.headers.expires()
            callID = try request.headers.callID()
            cseq = try request.headers.cseq()
        } catch {
            return .respond(policy.response(to: request, 400, reason: error.reasonPhrase))
        }
        if contacts.isEmpty { return .respond(success(request, bindings: current, now: now)) }

        if contacts == [.wildcard] {
            guard headerExpires == 0 else {
                return .respond(policy.response(to: request, 400, reason: "Bad Contact: '*' needs Expires: 0"))
            }
            if current.contains(where: { $0.callID == callID && cseq.sequence <= $0.cseq }) {
                return .respond(policy.response(to: request, 500, reason: "Server Internal Error (CSeq \(cseq.sequence) is not newer)"))
            }
            return .commit(bindings: [], response: success(request, bindings: [], now: now))
        }

        var bindings = current
        for case .address(let address) in contacts {
            let expires: Int
            switch requestedExpires(address, header: headerExpires) {
            case .failure(let fault): return .respond(policy.response(to: request, 400, reason: fault.reason))
            case .success(let seconds): expires = seconds
            }
            if expires != 0, expires < settings.minimumExpires {
                var answer = policy.response(to: request, 423, reason: "Interval Too Brief")
                answer.headers.append(.minExpires, String(settings.minimumExpires))
                return .respond(answer)
            }
            var granted = min(expires, settings.maximumExpires)
            let contact = address.uri.description
            if let upstream = grantedExpires[contact] { granted = min(granted, upstream) }
            let regID = address.parameters.value("reg-id").flatMap { Int($0) }
            let binding = Binding(
                addressOfRecord: addressOfRecord, contact: contact, device: device.name, expiresAt: now + Int64(granted),
                qValue: address.parameters.value("q").flatMap(Self.thousandths), instanceID: address.parameters.value("+sip.instance"),
                regID: regID, callID: callID, cseq: cseq.sequence, flow: origin.flow, path: request.headers.values(.path),
                userAgent: request.headers[.userAgent], registeredAt: now, acceptedUpstream: acceptedUpstream)
            if let index = bindings.firstIndex(where: { $0.key == binding.key }) {
                if bindings[index].callID == callID, cseq.sequence <= bindings[index].cseq {
                    return .respond(policy.response(to: request, 500, reason: "Server Internal Error (CSeq \(cseq.sequence) is not newer)"))
                }
                if granted == 0 { bindings.remove(at: index) } else { bindings[index] = binding }
            } else if granted > 0 {
                bindings.append(binding)
            }
        }
        guard bindings.count <= settings.maximumBindingsPerAddress else {
            return .respond(policy.response(to: request, 403, reason: "Forbidden (more than \(settings.maximumBindingsPerAddress) contacts for \(addressOfRecord))"))
        }
        bindings.sort { ($0.qValue ?? 1000, $0.registeredAt) > ($1.qValue ?? 1000, $1.registeredAt) }
        return .commit(bindings: bindings, response: success(request, bindings: bindings, now: now))
    }

    /// The 200: every current binding with its remaining time, Path echoed (RFC 3327 §5.3) and
    /// `Require: outbound` when a flow was registered (RFC 5626 §6).
    func success(_ request: SIPRequest, bindings: [Binding], now: Int64) -> SIPResponse {
        var answer = policy.response(to: request, 200, reason: "OK")
        for binding in bindings {
            var value = "<\(binding.contact)>;expires=\(max(0, binding.expiresAt - now))"
            if let instance = binding.instanceID, let regID = binding.regID { value += ";+sip.instance=\(instance);reg-id=\(regID)" }
            answer.headers.append(.contact, value)
        }
        let supported = Set(request.headers.tokens(.supported).map { $0.lowercased() })
        if supported.contains("path") {
            for path in request.headers.values(.path) { answer.headers.append(.path, path) }
        }
        if supported.contains("outbound"), bindings.contains(where: { $0.regID != nil && $0.instanceID != nil }) {
            answer.headers.append(.require, "outbound")
        }
        return answer
    }

    /// The Contact's `expires`, else the Expires header, else the default. Larger values than
    /// 2^32-1 mean 2^32-1 (RFC 3261 §20.19) and are then capped at the maximum.
    private func requestedExpires(_ address: NameAddress, header: UInt32?) -> Result<Int, ExpiresFault> {
        guard let text = address.parameters.value("expires") else { return .success(header.map(Int.init) ?? settings.defaultExpires) }
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return .failure(ExpiresFault(reason: "Bad Contact: expires '\(text.prefix(20))' is not a number"))
        }
        return .success(Int(UInt32(text) ?? UInt32.max))
    }

    private static func thousandths(_ text: String) -> Int? {
        guard let value = Double(text), (0...1).contains(value) else { return nil }
        return Int((value * 1000).rounded())
    }
}

struct ExpiresFault: Error {
    let reason: String
}

