import SIP

/// Who may register which address of record (the rules, in order):
/// - over TLS with a verified certificate, the certificate's identity must be an inventory device
///   and that device must own the line (`403` naming the mismatch otherwise);
/// - without a certificate, a device whose profile needs TLS is refused (`403`);
/// - everything else proves itself with digest; an unknown user and a wrong password get the
///   same `403 Forbidden`, so the answer does not reveal which users exist.
public struct RegistrationAuthoriser: Sendable {
    public enum Decision: Sendable, Equatable {
        case authorised(Device, addressOfRecord: String)
        case refused(SIPResponse, RefusalKind)
    }

    public enum RefusalKind: Sendable, Equatable {
        case badRequest, challenged, staleNonce, replayed, wrongCredentials, certificateMismatch, tlsRequired
    }

    public let policy: RequestPolicy
    public let realm: String

    public init(policy: RequestPolicy, realm: String) {
        self.policy = policy
        self.realm = realm
    }

    /// The line a REGISTER is for: the user part of its To URI.
    public func addressOfRecord(of request: SIPRequest) -> Result<String, RegistrationFault> {
        let to: NameAddress
        do { to = try request.headers.to() } catch { return .failure(RegistrationFault(reason: error.reasonPhrase)) }
        guard let user = to.uri.sipURI?.user, !user.isEmpty else {
            return .failure(RegistrationFault(reason: "Bad To: the address of record has no user part"))
        }
        return .success(user)
    }

    /// The inventory device a verified certificate names: its CN, a SAN URI's user part, or a name.
    public static func device(forCertificateNames names: [String], in inventory: DeviceInventory) -> Device? {
        for name in names {
            if let device = inventory.device(named: name) { return device }
            if let uri = try? URI(parsing: name), let user = uri.sipURI?.user, let device = inventory.device(named: user) { return device }
        }
        return nil
    }

    /// The checks that need no shared secret: certificate identity and the TLS requirement.
    /// `nil` means digest must decide (no certificate was presented).
    public func checkIdentity(_ request: SIPRequest, addressOfRecord: String, origin: RequestOrigin, inventory: DeviceInventory) -> Decision? {
        let owner = inventory.device(line: addressOfRecord)
        if let names = origin.certificateNames {
            guard let identified = Self.device(forCertificateNames: names, in: inventory) else {
                let shown = names.first ?? "(none)"
                return .refused(
                    policy.response(to: request, 403, reason: "Forbidden (certificate identity \(shown) is not in the inventory)"),
                    .certificateMismatch)
            }
            guard owner?.name == identified.name else {
                return .refused(
                    policy.response(to: request, 403, reason: "Forbidden (certificate identity \(identified.name) does not own line \(addressOfRecord))"),
                    .certificateMismatch)
            }
            return .authorised(identified, addressOfRecord: addressOfRecord)
        }
        if let owner, owner.security.requiresTLS {
            return .refused(
                policy.response(to: request, 403, reason: "Forbidden (this device's \(owner.security.rawValue) profile requires TLS with its certificate)"),
                .tlsRequired)
        }
        return nil
    }

    /// The full decision for a REGISTER the edge answers itself.
    public func authorise(
        _ request: SIPRequest, origin: RequestOrigin, inventory: DeviceInventory, digest: inout DigestAuthority, now: Int64
    ) -> Decision {
        let addressOfRecord: String
        switch self.addressOfRecord(of: request) {
        case .failure(let fault): return .refused(policy.response(to: request, 400, reason: fault.reason), .badRequest)
        case .success(let user): addressOfRecord = user
        }
        if let decided = checkIdentity(request, addressOfRecord: addressOfRecord, origin: origin, inventory: inventory) { return decided }
        let credentials: DigestCredentials?
        do {
            credentials = try request.headers.digestCredentials(for: realm)
        } catch {
            return .refused(policy.response(to: request, 400, reason: error.reasonPhrase), .badRequest)
        }
        guard let credentials else { return .refused(challenge(request, digest: digest, now: now, stale: false), .challenged) }
        let owner = inventory.device(line: addressOfRecord)
        switch digest.verify(
            credentials, method: request.method.rawValue, password: owner?.digest?.password, expectedUsername: owner?.digest?.username, now: now)
        {
        case .authenticated:
            guard let owner else { return .refused(policy.response(to: request, 403, reason: "Forbidden"), .wrongCredentials) }
            return .authorised(owner, addressOfRecord: addressOfRecord)
        case .refused:
            return .refused(policy.response(to: request, 403, reason: "Forbidden"), .wrongCredentials)
        case .challengeAgain(let stale):
            return .refused(challenge(request, digest: digest, now: now, stale: stale), stale ? .staleNonce : .challenged)
        case .replayed:
            return .refused(challenge(request, digest: digest, now: now, stale: false), .replayed)
        }
    }

    private func challenge(_ request: SIPRequest, digest: DigestAuthority, now: Int64, stale: Bool) -> SIPResponse {
        var answer = policy.response(to: request, 401, reason: "Unauthorized")
        for challenge in digest.challenges(now: now, stale: stale) { answer.headers.append(.wwwAuthenticate, challenge.description) }
        return answer
    }
}

public struct RegistrationFault: Error, Sendable, Equatable {
    public let reason: String
}
