import SIP

/// Who may register which address of record (the rules, in order):
/// - over TLS with a verified certificate, the certificate's identity must be an inventory device
///   and that device must own the line (`403` naming the mismatch otherwise);
/// - everything else proves itself with digest, challenge first and decide after: an unknown
///   line, a line whose device needs TLS (it has no password over a plain transport), a wrong
///   user name and a wrong password all get the same `401` and then the same `403 Forbidden`, at
///   the same cost, so no answer reveals which lines exist or which are secure phones.
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

    /// The check that needs no shared secret: the certificate's identity. `nil` means digest must
    /// decide (no certificate was presented). The TLS requirement is deliberately not checked
    /// here: telling it before credentials are checked would show which lines are secure phones.
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
        return nil
    }

    /// The digest account a request without a certificate is checked against: none for an
    /// unknown line or one whose device needs TLS, which are then refused like a wrong password.
    /// (Digest is only reached without a certificate: `checkIdentity` decides every request with one.)
    public static func digestAccount(of owner: Device?) -> DigestAccount? {
        guard let owner, !owner.security.requiresTLS else { return nil }
        return owner.digest
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
        let account = Self.digestAccount(of: owner)
        let refusal: RefusalKind = owner?.security.requiresTLS == true ? .tlsRequired : .wrongCredentials
        switch digest.verify(credentials, method: request.method.rawValue, password: account?.password, expectedUsername: account?.username, now: now) {
        case .authenticated:
            guard let owner, account != nil else { return .refused(policy.response(to: request, 403, reason: "Forbidden"), refusal) }
            return .authorised(owner, addressOfRecord: addressOfRecord)
        case .refused:
            return .refused(policy.response(to: request, 403, reason: "Forbidden"), refusal)
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
