import Logging
import SIP
import Synchronization

/// The survivable registrar: relays REGISTERs to the call manager while the trunk is up and
/// keeps every binding; answers them itself when it is not; hands the bindings back on failback.
/// A binding is durable (journal) before the `200 OK` that acknowledges it is returned.
public final class Registrar: Sendable {
    private struct State {
        var table: LocationTable
        var digest: DigestAuthority
        var limiter: SourceRateLimiter
        var guessing: GuessingGuard
        var handBackSequence: UInt32 = 0
    }

    public let settings: RegistrarSettings
    /// The devices allowed to register; a reload replaces it (`replaceInventory`).
    public var inventory: DeviceInventory { currentInventory.withLock { $0 } }
    private let currentInventory: Mutex<DeviceInventory>
    public let statistics = RegistrarStatistics()
    private let state: Mutex<State>
    private let journal: any BindingJournal
    private let processor: RegistrationProcessor
    private let authoriser: RegistrationAuthoriser
    private let policy: RequestPolicy
    private let upstream: (any RegistrationUpstream)?
    private let relay: RegistrationRelay?
    private let survivability: SurvivabilityController?
    private let wallClock: @Sendable () -> Int64
    private let logger: Logger
    private let handBackCallID = SIPIdentifiers.callID()

    /// Without `upstream` (no trunk configured) the edge is always the registrar. `hashing`
    /// computes the digests and signs the nonces (Runtime gives OpenSSL's, FIPS mode or not).
    public init(
        settings: RegistrarSettings, hashing: DigestHashing, ratePerSource: Int, inventory: DeviceInventory, policy: RequestPolicy, journal: any BindingJournal,
        restored: [Binding], upstream: (any RegistrationUpstream)? = nil, upstreamDomain: String? = nil,
        survivability: SurvivabilityController? = nil, logger: Logger, wallClock: @escaping @Sendable () -> Int64
    ) {
        self.settings = settings
        self.currentInventory = Mutex(inventory)
        self.policy = policy
        self.journal = journal
        self.upstream = upstream
        self.relay = upstreamDomain.map(RegistrationRelay.init(domain:))
        self.survivability = survivability
        self.logger = logger
        self.wallClock = wallClock
        self.processor = RegistrationProcessor(settings: settings, policy: policy)
        self.authoriser = RegistrationAuthoriser(policy: policy, realm: settings.realm)
        let now = wallClock()
        // A connection number belongs to the process that saved it; the phone reconnects.
        let known = restored.filter { inventory.device(named: $0.device) != nil }.map { binding -> Binding in
            var binding = binding
            binding.flow.markStale()
            return binding
        }
        self.state = Mutex(
            State(
                table: LocationTable(known, now: now), digest: DigestAuthority(
                    realm: settings.realm, lifetime: settings.nonceLifetime, algorithms: settings.digestAlgorithms, hashing: hashing),
                limiter: SourceRateLimiter(ratePerSecond: ratePerSource), guessing: GuessingGuard(settings: settings.guessing)))
    }

    public var mode: RegistrarMode {
        guard upstream != nil, let survivability else { return .survivable }
        return survivability.mode
    }

    /// Every live binding.
    public func bindings() -> [Binding] {
        let now = wallClock()
        return state.withLock { $0.table.all(now: now) }
    }

    /// A live binding `matches` accepts, if any.
    public func binding(where matches: (Binding) -> Bool) -> Binding? {
        let now = wallClock()
        return state.withLock { $0.table.first(now: now, where: matches) }
    }

    public func bindings(for addressOfRecord: String) -> [Binding] {
        let now = wallClock()
        return state.withLock { $0.table.bindings(for: addressOfRecord, now: now) }
    }

    /// A reload changed the inventory. Bindings of devices that are gone, or of lines their device
    /// no longer has, are removed (durably, as an unregistration would be); every other binding
    /// stays. Returns the lines whose bindings were removed.
    @discardableResult
    public func replaceInventory(_ new: DeviceInventory) -> [String] {
        currentInventory.withLock { $0 = new }
        let now = wallClock()
        let removed = state.withLock { state -> [String] in
            var removed: [String] = []
            for (aor, bindings) in Dictionary(grouping: state.table.all(now: now), by: \.addressOfRecord) {
                let owner = new.device(line: aor)?.name
                let kept = bindings.filter { $0.device == owner }
                guard kept.count != bindings.count else { continue }
                _ = enqueue(aor, kept, in: &state)
                removed.append(aor)
            }
            return removed.sorted()
        }
        if !removed.isEmpty {
            logger.notice("bindings removed: their device or line left the inventory", metadata: ["lines": "\(removed.joined(separator: " "))"])
        }
        return removed
    }

    /// The edge closed `connections` (their peer's certificate no longer verifies): requests to
    /// the phones that registered over them must not look for those flows. Kept in memory only,
    /// as a restart marks every flow stale anyway. Returns the number of bindings marked.
    @discardableResult
    public func markFlowsGone(over connections: Set<UInt64>) -> Int {
        guard !connections.isEmpty else { return 0 }
        return state.withLock { $0.table.markFlowsGone(over: connections) }
    }

    /// The answer to a REGISTER, once the binding is durable or the call manager has spoken.
    public func handle(_ request: SIPRequest, origin: RequestOrigin) async -> SIPResponse {
        await withCheckedContinuation { continuation in handle(request, origin: origin) { continuation.resume(returning: $0) } }
    }

    /// The same, with the answer passed to `reply` on whichever thread completes it: a REGISTER
    /// the edge answers itself needs no task, only the journal's completion.
    public func handle(_ request: SIPRequest, origin: RequestOrigin, reply: @escaping @Sendable (SIPResponse) -> Void) {
        let admitted = state.withLock { $0.limiter.admit(origin.flow.remoteAddress, now: .now) }
        guard admitted else {
            statistics.increment(.rateLimited)
            var answer = policy.response(to: request, 503, reason: "Service Unavailable (too many REGISTERs from \(origin.flow.remoteAddress))")
            answer.headers.append(.retryAfter, "5")
            return reply(answer)
        }
        if mode == .normal, upstream != nil {
            Task {
                if let relayed = await relayUpstream(request, origin: origin) { return reply(relayed) }
                answerLocally(request, origin: origin, reply: reply)
            }
            return
        }
        answerLocally(request, origin: origin, reply: reply)
    }

    /// Normal mode: identity checks here, then the call manager decides. Nil means the edge must
    /// answer itself (unknown line, or the call manager could not be reached).
    private func relayUpstream(_ request: SIPRequest, origin: RequestOrigin) async -> SIPResponse? {
        guard let upstream, let relay, case .success(let addressOfRecord) = authoriser.addressOfRecord(of: request),
            let owner = inventory.device(line: addressOfRecord)
        else { return nil }
        if case .refused(let answer, let kind)? = authoriser.checkIdentity(request, addressOfRecord: addressOfRecord, origin: origin, inventory: inventory) {
            refused(kind, answer, addressOfRecord: addressOfRecord, origin: origin)
            return answer
        }
        // A secure phone's line without its certificate is answered here exactly as an unknown
        // line is (challenge, then 403), so the call manager's answer cannot tell them apart.
        if origin.certificateNames == nil, owner.security.requiresTLS { return nil }
        let upstreamRequest: SIPRequest
        switch relay.upstreamCopy(of: request) {
        case .success(let copy): upstreamRequest = copy
        case .failure(.tooManyHops):
            statistics.increment(.tooManyHops)
            return policy.response(to: request, 483, reason: "Too Many Hops")
        case .failure(.loop):
            statistics.increment(.loops)
            return policy.response(to: request, 482, reason: "Loop Detected (the REGISTER already passed through this edge)")
        }
        statistics.increment(.relayed)
        let response: SIPResponse
        do {
            response = relay.downstreamCopy(of: try await upstream.relay(upstreamRequest), answering: request)
        } catch {
            statistics.increment(.relayFailures)
            survivability?.transportFailed(cause: "REGISTER for \(addressOfRecord) not answered upstream: \(error)")
            return nil
        }
        survivability?.probeAnswered()
        guard response.isSuccess else { return response }
        statistics.increment(.relayedAccepted)
        let now = wallClock()
        let receipt = state.withLock { state -> WriteReceipt? in
            let outcome = processor.process(
                request, addressOfRecord: addressOfRecord, device: owner, origin: origin,
                current: state.table.bindings(for: addressOfRecord, now: now), now: now, acceptedUpstream: true,
                grantedExpires: relay.grantedExpires(in: response))
            guard case .commit(let bindings, _) = outcome else { return nil }
            return enqueue(addressOfRecord, bindings, in: &state)
        }
        return await durable(receipt) ? response : storeFailure(request)
    }

    private func answerLocally(_ request: SIPRequest, origin: RequestOrigin, reply: @escaping @Sendable (SIPResponse) -> Void) {
        let now = wallClock()
        let line = (try? authoriser.addressOfRecord(of: request).get()) ?? "?"
        let source = origin.flow.remoteAddress
        // Only digest answers are counted and slowed: a certificate decides without them.
        let answersChallenge = origin.certificateNames == nil && request.headers[.authorization] != nil
        let (outcome, receipt, lockouts) = state.withLock { state -> (RegistrationProcessor.Outcome, WriteReceipt?, [GuessingGuard.Lockout]) in
            if answersChallenge, case .refuse = state.guessing.admit(account: line, source: source, now: now) {
                // The same answer as a wrong password, so a guesser cannot tell it was not checked.
                statistics.increment(.guessesRefused)
                return (.respond(policy.response(to: request, 403, reason: "Forbidden")), nil, [])
            }
            switch authoriser.authorise(request, origin: origin, inventory: inventory, digest: &state.digest, now: now) {
            case .refused(let answer, let kind):
                refused(kind, answer, addressOfRecord: line, origin: origin)
                let failed = answersChallenge && (kind == .wrongCredentials || kind == .tlsRequired)
                return (.respond(answer), nil, failed ? state.guessing.recordFailure(account: line, source: source, now: now) : [])
            case .authorised(let device, let addressOfRecord):
                if answersChallenge { state.guessing.recordSuccess(account: addressOfRecord, source: source) }
                let outcome = processor.process(
                    request, addressOfRecord: addressOfRecord, device: device, origin: origin,
                    current: state.table.bindings(for: addressOfRecord, now: now), now: now)
                guard case .commit(let bindings, _) = outcome else { return (outcome, nil, []) }
                statistics.increment(bindings.isEmpty ? .unregistered : .registered)
                return (outcome, enqueue(addressOfRecord, bindings, in: &state), [])
            }
        }
        for lockout in lockouts {
            statistics.increment(.lockouts)
            logger.critical(
                "password guessing: \(lockout.key) locked out",
                metadata: [
                    "failures": "\(lockout.failures)", "seconds": "\(lockout.until - now)", "aor": "\(line)", "source": "\(source)",
                ])
        }
        switch outcome {
        case .respond(let answer):
            if answer.statusCode != 401, answer.statusCode != 403 {
                statistics.increment(answer.statusCode == 200 ? .queried : answer.statusCode == 423 ? .intervalTooBrief : .badRequests)
            }
            reply(answer)
        case .commit(_, let answer):
            receipt?.whenComplete { [self] result in
                if case .failure(let error) = result {
                    logger.error("binding not stored", metadata: ["error": "\(error)"])
                    return reply(storeFailure(request))
                }
                reply(answer)
            }
        }
    }

    /// Why the edge re-registers its bindings with the call manager.
    public enum UpstreamReRegistration: String, Sendable {
        /// Failback after an outage.
        case handBack = "hand-back"
        /// The periodic refresh in normal mode.
        case refresh
    }

    /// Failback: re-registers every address of record's live bindings upstream, one REGISTER
    /// each; returns how many were accepted and how many failed. Bindings stay local either way,
    /// so no phone ends up registered nowhere.
    public func handBack() async -> (accepted: Int, failed: Int) {
        await reRegisterUpstream(.handBack)
    }

    /// Re-registers every address of record's live bindings upstream, one REGISTER each, and
    /// marks those the call manager accepted; returns how many were accepted and how many failed.
    public func reRegisterUpstream(_ reason: UpstreamReRegistration) async -> (accepted: Int, failed: Int) {
        guard let upstream, let relay else { return (0, 0) }
        let now = wallClock()
        let groups = Dictionary(grouping: bindings(), by: \.addressOfRecord)
        var accepted = 0, failed = 0
        for (addressOfRecord, live) in groups.sorted(by: { $0.key < $1.key }) {
            let sequence = state.withLock { state -> UInt32 in
                state.handBackSequence += 1
                return state.handBackSequence
            }
            let request = relay.handBackRequest(
                addressOfRecord: addressOfRecord, bindings: live, callID: "\(handBackCallID)-\(addressOfRecord)", cseq: sequence, now: now)
            do {
                let response = try await upstream.relay(request)
                guard response.isSuccess else {
                    failed += 1
                    statistics.increment(reason == .handBack ? .handBackFailures : .upstreamRefreshFailures)
                    logger.warning(
                        "re-registration refused upstream",
                        metadata: ["aor": "\(addressOfRecord)", "status": "\(response.statusCode)", "reason": "\(reason.rawValue)"])
                    continue
                }
                accepted += 1
                statistics.increment(reason == .handBack ? .handedBack : .upstreamRefreshed)
                let receipt = state.withLock { state -> WriteReceipt? in
                    var changed = false
                    let updated = state.table.bindings(for: addressOfRecord, now: now).map { binding -> Binding in
                        var binding = binding
                        if !binding.acceptedUpstream, live.contains(where: { $0.key == binding.key }) {
                            binding.acceptedUpstream = true
                            changed = true
                        }
                        return binding
                    }
                    return changed ? enqueue(addressOfRecord, updated, in: &state) : nil
                }
                _ = await durable(receipt)
            } catch {
                failed += 1
                statistics.increment(reason == .handBack ? .handBackFailures : .upstreamRefreshFailures)
                logger.warning(
                    "re-registration not answered upstream", metadata: ["aor": "\(addressOfRecord)", "error": "\(error)", "reason": "\(reason.rawValue)"])
            }
        }
        return (accepted, failed)
    }

    /// Drops expired bindings from memory and the journal.
    public func purgeExpired() async {
        let now = wallClock()
        let changed = state.withLock { state -> [String] in
            let changed = state.table.purge(now: now)
            for aor in changed { _ = enqueue(aor, state.table.bindings(for: aor, now: now), in: &state) }
            state.digest.forgetExpired(now: now)
            return changed
        }
        statistics.increment(.expired, by: changed.count)
    }

    /// Under the state lock, so journal writes keep the order of the table's updates.
    private func enqueue(_ addressOfRecord: String, _ bindings: [Binding], in state: inout State) -> WriteReceipt {
        state.table.replace(addressOfRecord, with: bindings)
        let receipt = WriteReceipt()
        journal.write(addressOfRecord: addressOfRecord, bindings: bindings) { receipt.complete($0) }
        return receipt
    }

    private func durable(_ receipt: WriteReceipt?) async -> Bool {
        guard let receipt else { return true }
        if case .failure(let error) = await receipt.wait() {
            logger.error("binding not stored", metadata: ["error": "\(error)"])
            return false
        }
        return true
    }

    private func storeFailure(_ request: SIPRequest) -> SIPResponse {
        statistics.increment(.storeFailures)
        return policy.response(to: request, 500, reason: "Server Internal Error (the registration could not be stored)")
    }

    /// Counts a refusal; identity refusals are logged at notice level with what the peer showed,
    /// since the answer itself says nothing to the peer (a TLS-only line is told only `403`).
    private func refused(_ kind: RegistrationAuthoriser.RefusalKind, _ answer: SIPResponse, addressOfRecord: String, origin: RequestOrigin) {
        count(kind)
        switch kind {
        case .certificateMismatch:
            logger.notice(
                "REGISTER refused: certificate identity",
                metadata: [
                    "aor": "\(addressOfRecord)", "certificate": "\(origin.certificateNames?.joined(separator: ",") ?? "")",
                    "reason": "\(answer.reasonPhrase)", "source": "\(origin.flow.remoteAddress)",
                ])
        case .tlsRequired:
            logger.notice(
                "REGISTER refused: the line's device profile requires TLS with its certificate",
                metadata: ["aor": "\(addressOfRecord)", "transport": "\(origin.flow.transport)", "source": "\(origin.flow.remoteAddress)"])
        default: break
        }
    }

    private func count(_ kind: RegistrationAuthoriser.RefusalKind) {
        switch kind {
        case .badRequest: statistics.increment(.badRequests)
        case .challenged: statistics.increment(.challenged)
        case .staleNonce: statistics.increment(.staleNonces)
        case .replayed: statistics.increment(.replays)
        case .wrongCredentials: statistics.increment(.wrongCredentials)
        case .certificateMismatch: statistics.increment(.certificateMismatches)
        case .tlsRequired: statistics.increment(.tlsRequired)
        }
    }
}
