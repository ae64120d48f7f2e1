import Logging
import SDP
import SIP
import Synchronization

/// The edge's back-to-back user agent: it takes a phone's INVITE, decides with the dial plan
/// where the call goes, places a leg of its own toward every phone of the dialled line, and keeps
/// the call's media on the relay. Every call is a `B2BCall`; this finds the call a request
/// belongs to and refuses, with a reason, what no call can take.
public final class CallRouter: Sendable {
    private struct Tables {
        /// Each leg's dialog by Call-ID and the edge's own tag in it: the two halves of a call the
        /// call manager routed back share a Call-ID and differ in which tag is the edge's.
        var byDialog: [DialogKey: (call: B2BCall, side: CallSide)] = [:]
        /// The caller's INVITE by Call-ID and top Via branch, which is how its CANCEL names it.
        var byInvite: [String: B2BCall] = [:]
        var calls: [String: B2BCall] = [:]
        /// Calls by the relay address they offered the call manager (`LegMedia.mediaKey`).
        var offeredToCallManager: [String: B2BCall] = [:]
    }

    public let settings: CallSettings
    private let registrar: Registrar
    private let signalling: any CallSignalling
    private let media: any MediaRelay
    private let records: any CallRecordStore
    private let dialPlan: Mutex<DialPlan>
    private let wallClock: @Sendable () -> Int64
    private let logger: Logger
    private let tables = Mutex(Tables())
    /// The edge is stopping: calls up may finish, new ones are refused.
    private let draining = Atomic<Bool>(false)
    public let statistics = CallStatistics()

    public init(
        settings: CallSettings, registrar: Registrar, signalling: any CallSignalling, media: any MediaRelay, records: any CallRecordStore,
        dialPlan: DialPlan, wallClock: @escaping @Sendable () -> Int64, logger: Logger
    ) {
        self.settings = settings
        self.registrar = registrar
        self.signalling = signalling
        self.media = media
        self.records = records
        self.dialPlan = Mutex(dialPlan)
        self.wallClock = wallClock
        self.logger = logger
        media.observe { [weak self] notice in
            guard let self, case .timeout(let callID, let leg, let reason) = notice else { return }
            guard let call = self.tables.withLock({ $0.calls[callID] }) else { return }
            Task { await call.mediaTimedOut(leg: leg, reason: reason) }
        }
    }

    /// The methods the router serves.
    public static let methods: [SIPMethod] = [.invite, .ack, .bye, .cancel, .update, .info, .prack]
    /// The extensions the call layer implements, which a caller may require (the request policy
    /// answers any other with 420, RFC 3261 §8.2.2.3).
    public static let extensions = ["100rel", "timer"]

    /// A new dial plan applies to calls placed from now on.
    public func replaceDialPlan(_ plan: DialPlan) {
        dialPlan.withLock { $0 = plan }
    }

    public var activeCallCount: Int { tables.withLock { $0.calls.count } }

    public func activeCalls() async -> [ActiveCall] {
        let calls = tables.withLock { Array($0.calls.values) }
        // Every call at once: each asks the relay, whose loop is busy carrying their media.
        let snapshots = await withTaskGroup(of: ActiveCall.self) { group in
            for call in calls { group.addTask { await call.snapshot() } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        return snapshots.sorted { $0.setupAt < $1.setupAt }
    }

    /// From now on every new call is refused with 503 and why; the calls up go on.
    public func beginDraining() { draining.store(true, ordering: .relaxed) }

    /// Hangs up every call with `reason` (the edge is stopping).
    public func shutDown(reason: String) async {
        let calls = tables.withLock { Array($0.calls.values) }
        for call in calls { await call.shutDown(reason) }
    }

    // MARK: Requests

    /// A request for the call layer; its answer goes to `reply`, now or later.
    public func handle(_ request: SIPRequest, from origin: RequestOrigin, reply: @escaping @Sendable (SIPResponse) -> Void) {
        let callID = (try? request.headers.callID()) ?? ""
        let toTag = (try? request.headers.to().tag) ?? nil
        switch request.method {
        case .cancel:
            let branch = ((try? request.headers.topVia().branch) ?? nil) ?? ""
            guard let call = tables.withLock({ $0.byInvite[callID + "\u{0}" + branch] }) else {
                statistics.count(.unknownDialog)
                reply(Self.answer(request, 481, "Call/Transaction Does Not Exist"))
                return
            }
            reply(Self.answer(request, 200, "OK"))
            Task { await call.cancel(request) }
        case .invite where toTag == nil:
            Task { await self.place(request, from: origin, reply: reply) }
        default:
            guard let toTag, let (call, side) = tables.withLock({ $0.byDialog[DialogKey(callID: callID, localTag: toTag)] }) else {
                statistics.count(.unknownDialog)
                reply(Self.answer(request, 481, "Call/Transaction Does Not Exist"))
                return
            }
            Task { await call.inDialog(request, from: side, reply: reply) }
        }
    }

    /// An ACK, which is answered by nothing.
    public func handleACK(_ ack: SIPRequest) {
        let key = DialogKey(callID: (try? ack.headers.callID()) ?? "", localTag: ((try? ack.headers.to().tag) ?? nil) ?? "")
        guard let (call, side) = tables.withLock({ $0.byDialog[key] }), side == .caller else { return }
        Task { await call.ack(ack) }
    }

    /// A 2xx to one of the edge's INVITEs seen again: its ACK was lost.
    public func handleRetransmittedSuccess(_ response: SIPResponse) {
        guard (try? response.headers.cseq().method) == .invite else { return }
        let key = DialogKey(callID: (try? response.headers.callID()) ?? "", localTag: ((try? response.headers.from().tag) ?? nil) ?? "")
        guard let (call, side) = tables.withLock({ $0.byDialog[key] }), side == .callee else { return }
        Task { await call.acknowledgeAgain(response) }
    }

    private func place(_ invite: SIPRequest, from origin: RequestOrigin, reply: @escaping @Sendable (SIPResponse) -> Void) async {
        statistics.count(.attempts)
        let outcome: Result<B2BCall, Refusal> =
            draining.load(ordering: .relaxed)
            ? .failure(Refusal(status: 503, phrase: "Service Unavailable", reason: "the edge is shutting down"))
            : await prepare(invite, from: origin, reply: reply)
        switch outcome {
        case .success(let call):
            await call.start()
        case .failure(let refusal):
            statistics.count(.refused)
            statistics.countResult("\(refusal.status)")
            logger.notice(
                "call refused",
                metadata: ["status": "\(refusal.status)", "reason": "\(refusal.reason)", "from": "\(origin.flow.transport.rawValue.lowercased()):\(origin.flow.remoteAddress):\(origin.flow.remotePort)"])
            var answer = Self.answer(invite, refusal.status, refusal.phrase)
            answer.headers.append(.reason, CallTermination.failure(refusal.status, refusal.reason).reasonHeader)
            if let warning = refusal.warning { answer.headers.append(.warning, "\(warning) outpost \"\(Self.quoted(refusal.reason))\"") }
            if refusal.status == 503 { answer.headers.append(.retryAfter, "30") }
            for (name, value) in refusal.headers { answer.headers.append(name, value) }
            reply(answer)
        }
    }

    struct Refusal: Error {
        var status: Int
        var phrase: String
        var reason: String
        var warning: Int?
        var headers: [(SIPHeaderName, String)] = []
    }

    private func prepare(
        _ invite: SIPRequest, from origin: RequestOrigin, reply: @escaping @Sendable (SIPResponse) -> Void
    ) async -> Result<B2BCall, Refusal> {
        let headers = invite.headers
        if let forwards = (try? headers.maxForwards()) ?? nil, forwards <= 0 {
            return .failure(Refusal(status: 483, phrase: "Too Many Hops", reason: "Max-Forwards reached 0"))
        }
        // A call between two branch phones through the call manager comes back carrying the
        // edge's own Via: that is the call manager's routing, not a loop (Max-Forwards still
        // bounds a real one).
        let fromCallManager = signalling.isCallManager(origin.flow)
        if !fromCallManager, let vias = try? headers.vias(),
            vias.dropFirst().contains(where: { $0.branch.map(SIPIdentifiers.isOwnBranch) ?? false })
        {
            return .failure(Refusal(status: 482, phrase: "Loop Detected", reason: "the INVITE has already passed through this edge"))
        }
        guard (try? headers.from().tag) ?? nil != nil, let callID = try? headers.callID(),
            let branch = (try? headers.topVia().branch) ?? nil
        else {
            return .failure(Refusal(status: 400, phrase: "Bad Request", reason: "the INVITE lacks a From tag, a Call-ID or a Via branch"))
        }
        let sessionTimer: SessionTimer?
        switch SessionTimer.answering(invite, minimum: settings.minimumSessionExpires, preferred: settings.sessionExpires) {
        case .tooSmall(let minimum):
            return .failure(
                Refusal(
                    status: 422, phrase: "Session Interval Too Small", reason: "the session interval is below the edge's minimum of \(minimum) s",
                    headers: [(.minSE, "\(minimum)")]))
        case .agreed(let agreed):
            sessionTimer = agreed
        }
        if tables.withLock({ $0.calls.count }) >= settings.maximumCalls {
            return .failure(Refusal(status: 503, phrase: "Service Unavailable", reason: "the edge carries its maximum of \(settings.maximumCalls) calls"))
        }
        let caller: (device: Device?, line: String)
        let security: LegMediaSecurity
        if fromCallManager {
            guard let trunk = settings.trunk else {
                return .failure(Refusal(status: 403, phrase: "Forbidden", reason: "the edge carries no calls from the call manager without a trunk"))
            }
            caller = (nil, (try? headers.from())?.uri.sipURI?.user ?? "anonymous")
            security = trunk.mediaSecurity
        } else {
            switch identifyCaller(invite, origin: origin) {
            case .success(let identified):
                caller = (identified.device, identified.line)
                security = LegMediaSecurity(identified.device.security)
            case .failure(let refusal): return .failure(refusal)
            }
        }

        var offer: SessionDescription?
        var audioIndex = 0
        if !invite.body.isEmpty {
            let parsed: SessionDescription
            do { parsed = try SessionDescription(parsing: invite.body) } catch {
                return .failure(Refusal(status: 400, phrase: "Bad Request", reason: "the SDP offer does not parse: \(error)"))
            }
            guard let index = LegMedia.audioIndex(of: parsed) else {
                return .failure(Refusal(status: 488, phrase: "Not Acceptable Here", reason: "the offer has no audio stream", warning: 304))
            }
            // The caller's offer is checked against its own leg's rules before any phone rings.
            do {
                var ports = [UInt16](repeating: 0, count: parsed.media.count)
                ports[index] = 9
                _ = try parsed.makeAnswer(
                    policy: LegMedia.policy(codecs: LegMedia.codecs(offeredIn: parsed), security: security, address: "0.0.0.0"), localPorts: ports,
                    origin: Origin(sessionID: 1, sessionVersion: 1, address: "0.0.0.0"))
            } catch {
                return .failure(Refusal(status: 488, phrase: "Not Acceptable Here", reason: error.reason, warning: error.warningCode))
            }
            offer = parsed
            audioIndex = index
        }

        // The call manager addresses a phone's Contact; the number it called is in To.
        let calledURI = fromCallManager ? ((try? headers.to())?.uri ?? invite.uri) : invite.uri
        guard let dialled = Self.dialled(calledURI) ?? Self.dialled(invite.uri) else {
            return .failure(Refusal(status: 484, phrase: "Address Incomplete", reason: "the Request-URI names no number"))
        }
        let inventory = registrar.inventory
        let mode = registrar.mode
        let destination: Result<Destination, Refusal> =
            fromCallManager ? fromCallManagerDestination(invite.uri, dialled: dialled) : phoneDestination(dialled, mode: mode)
        let target: Destination
        switch destination {
        case .success(let found): target = found
        case .failure(let refusal): return .failure(refusal)
        }

        let recordID = SIPIdentifiers.callID()
        let forks: [CalleeFork]
        if target.bindings.isEmpty, let trunk = settings.trunk {
            forks = [CalleeFork(destination: .callManager, device: nil, relayLeg: 1, security: trunk.mediaSecurity)]
        } else {
            forks = target.bindings.enumerated().map { offset, binding in
                let device = inventory.device(named: binding.device)
                return CalleeFork(
                    destination: .phone(binding), device: device, relayLeg: offset + 1,
                    security: device.map { LegMediaSecurity($0.security) } ?? .srtpRequired)
            }
        }
        let decision = target.decision
        let session: any MediaSession
        do { session = try await media.allocate(callID: recordID, legs: 1 + forks.count) } catch {
            return .failure(Refusal(status: 503, phrase: "Service Unavailable", reason: "no media ports: \(error)"))
        }
        let from = try? headers.from()
        let callerLine = caller.device?.lines.first { $0.number == caller.line }
        let calleeDevice = forks.first?.device
        let calleeLine = calleeDevice?.lines.first { $0.number == decision.number }?.number ?? calleeDevice?.lines.first?.number
        let record = CallRecord(
            id: recordID, callID: callID,
            caller: CallParty(
                device: caller.device?.name ?? CalleeFork.callManagerName, line: caller.device == nil ? nil : caller.line, number: caller.line,
                displayName: from?.displayName ?? callerLine?.displayName ?? caller.device?.displayName),
            callee: CallParty(
                device: forks.first?.isCallManager ?? false ? CalleeFork.callManagerName : calleeDevice?.name, line: calleeLine,
                number: calleeLine ?? decision.number,
                displayName: calleeDevice?.lines.first { $0.number == calleeLine }?.displayName ?? calleeDevice?.displayName),
            dialled: dialled, route: decision.rule ?? (fromCallManager ? CalleeFork.callManagerName : "default"), mode: mode.rawValue,
            setupAt: wallClock(),
            security: (origin.flow.transport == .tls || (fromCallManager && settings.trunk?.signallingProtected == true)) && security != .plain
                ? .secure : .nonSecure)
        let leg = CallerLeg(
            invite: invite, origin: origin, device: caller.device, line: caller.line, reply: reply, offer: offer, audioIndex: audioIndex,
            security: security, localTag: SIPIdentifiers.tag(), sessionTimer: sessionTimer)
        let forkDialogs = forks.map { _ in DialogKey(callID: SIPIdentifiers.callID(), localTag: SIPIdentifiers.tag()) }
        let registrar = self.registrar
        let environment = CallEnvironment(
            settings: settings, signalling: signalling, records: records, wallClock: wallClock, logger: logger,
            ended: { [weak self] call, result in self?.remove(call, result: result) },
            callManagerReachable: { registrar.mode != .survivable },
            offeredToCallManager: { [weak self] call, key in self?.tables.withLock { $0.offeredToCallManager[key] = call } })
        let call = B2BCall(
            recordID: recordID, caller: leg, forks: forks, forkDialogs: forkDialogs, media: session, record: record, environment: environment)
        let otherHalf = tables.withLock { tables -> B2BCall? in
            tables.calls[recordID] = call
            tables.byDialog[call.callerDialog] = (call, .caller)
            tables.byInvite[callID + "\u{0}" + branch] = call
            for key in forkDialogs { tables.byDialog[key] = (call, .callee) }
            guard fromCallManager, let offer, let key = LegMedia.mediaKey(of: offer) else { return nil }
            return tables.offeredToCallManager[key]
        }
        if let otherHalf {
            await call.link(otherHalf)
            await otherHalf.link(call)
            logger.info("call is the second half of a call through the call manager", metadata: ["call": "\(recordID)", "first": "\(otherHalf.recordID)"])
        }
        do { try await records.write(record) } catch {
            logger.error("call record not written at setup", metadata: ["error": "\(error)"])
        }
        logger.info(
            "call placed",
            metadata: ["call": "\(recordID)", "caller": "\(caller.line)", "dialled": "\(dialled)", "route": "\(record.route)", "forks": "\(forks.count)"])
        return .success(call)
    }

    private func remove(_ call: B2BCall, result: String) {
        tables.withLock { tables in
            tables.calls[call.recordID] = nil
            tables.byDialog[call.callerDialog] = nil
            tables.byInvite[call.callerDialog.callID + "\u{0}" + call.callerBranch] = nil
            for key in call.forkDialogs { tables.byDialog[key] = nil }
            tables.offeredToCallManager = tables.offeredToCallManager.filter { $0.value !== call }
        }
        statistics.count(.ended)
        statistics.countResult(result)
    }

    /// Where a call goes: the phones to ring (none: the call manager) and the dial plan's decision.
    private struct Destination {
        var bindings: [Binding]
        var decision: DialPlanDecision
    }

    /// A branch phone's call, by the dial plan.
    private func phoneDestination(_ dialled: String, mode: RegistrarMode) -> Result<Destination, Refusal> {
        let inventory = registrar.inventory
        let decision = dialPlan.withLock { plan in plan.route(dialled, mode: mode, isLocalLine: { inventory.device(line: $0) != nil }) }
        switch decision.target {
        case .local:
            let bindings = registrar.bindings(for: decision.number)
            guard !bindings.isEmpty else {
                if inventory.device(line: decision.number) == nil {
                    return .failure(Refusal(status: 404, phrase: "Not Found", reason: "no phone has line \(decision.number)"))
                }
                return .failure(Refusal(status: 480, phrase: "Temporarily Unavailable", reason: "line \(decision.number) has no registered phone"))
            }
            return .success(Destination(bindings: bindings, decision: decision))
        case .trunk:
            guard settings.trunk != nil else {
                return .failure(Refusal(status: 503, phrase: "Service Unavailable", reason: "\(decision.number) needs the call manager and no trunk is configured"))
            }
            guard mode != .survivable else {
                return .failure(
                    Refusal(status: 503, phrase: "Service Unavailable", reason: "the call manager is unreachable (the edge is survivable)"))
            }
            return .success(Destination(bindings: [], decision: decision))
        case .pstn(let group):
            return .failure(Refusal(status: 503, phrase: "Service Unavailable", reason: "PSTN group \(group) has no port"))
        case .refuse(let status, let reason):
            return .failure(Refusal(status: status, phrase: Self.phrase(for: status), reason: reason))
        }
    }

    /// A call the call manager sends a branch phone: its Request-URI is the Contact the phone
    /// registered (the edge's Path brought it here), or an address of record of a branch line.
    private func fromCallManagerDestination(_ uri: URI, dialled: String) -> Result<Destination, Refusal> {
        let bindings = registrar.bindings()
        let decision = DialPlanDecision(rule: nil, number: dialled, target: .local)
        if let target = uri.sipURI {
            let byContact = bindings.filter { binding in
                guard let contact = (try? URI(parsing: binding.contact))?.sipURI else { return false }
                return contact.host.lowercased() == target.host.lowercased() && (contact.port ?? 5060) == (target.port ?? 5060)
                    && contact.user == target.user
            }
            if !byContact.isEmpty { return .success(Destination(bindings: byContact, decision: decision)) }
        }
        let byLine = registrar.bindings(for: dialled)
        if !byLine.isEmpty { return .success(Destination(bindings: byLine, decision: decision)) }
        if registrar.inventory.device(line: dialled) == nil {
            return .failure(Refusal(status: 404, phrase: "Not Found", reason: "no branch phone has \(uri) or line \(dialled)"))
        }
        return .failure(Refusal(status: 480, phrase: "Temporarily Unavailable", reason: "line \(dialled) has no registered phone"))
    }

    /// The caller is the device its certificate names, or for a phone without one the device
    /// whose registered flow the INVITE came over. Anyone else is not the edge's to serve.
    private func identifyCaller(_ invite: SIPRequest, origin: RequestOrigin) -> Result<(device: Device, line: String), Refusal> {
        let inventory = registrar.inventory
        let device: Device
        if let names = origin.certificateNames {
            guard let named = RegistrationAuthoriser.device(forCertificateNames: names, in: inventory) else {
                return .failure(
                    Refusal(status: 403, phrase: "Forbidden", reason: "certificate identity \(names.first ?? "(none)") is not in the inventory"))
            }
            device = named
        } else {
            let flow = origin.flow
            let binding = registrar.binding { binding in
                binding.flow.transport == flow.transport && binding.flow.remoteAddress == flow.remoteAddress
                    && (binding.flow.remotePort == flow.remotePort || (flow.connection != nil && binding.flow.liveConnection == flow.connection))
            }
            guard let binding, let registered = inventory.device(named: binding.device) else {
                return .failure(
                    Refusal(
                        status: 403, phrase: "Forbidden",
                        reason: "\(flow.transport.rawValue.lowercased()):\(flow.remoteAddress):\(flow.remotePort) is not a registered phone's flow"))
            }
            device = registered
        }
        if device.security.requiresTLS, origin.flow.transport != .tls {
            return .failure(Refusal(status: 403, phrase: "Forbidden", reason: "device \(device.name) must call over TLS"))
        }
        let fromUser = (try? invite.headers.from())?.uri.sipURI?.user
        let line = device.lines.first { $0.number == fromUser }?.number ?? device.lines.first?.number ?? device.name
        return .success((device, line))
    }

    static func dialled(_ uri: URI) -> String? {
        if let sip = uri.sipURI { return sip.user.flatMap { $0.isEmpty ? nil : $0 } }
        guard uri.scheme == "tel" else { return nil }
        let text = uri.description.dropFirst(4)
        let number = text.prefix { $0 != ";" }
        return number.isEmpty ? nil : String(number)
    }

    static func answer(_ request: SIPRequest, _ status: Int, _ phrase: String) -> SIPResponse {
        SIPResponse(respondingTo: request, statusCode: status, reasonPhrase: phrase, toTag: SIPIdentifiers.tag())
    }

    static func phrase(for status: Int) -> String {
        switch status {
        case 403: "Forbidden"
        case 404: "Not Found"
        case 480: "Temporarily Unavailable"
        case 484: "Address Incomplete"
        case 486: "Busy Here"
        case 488: "Not Acceptable Here"
        case 503: "Service Unavailable"
        case 603: "Decline"
        default: "Refused"
        }
    }

    static func quoted(_ text: String) -> String {
        String(text.prefix(200).filter { $0 != "\"" && $0 != "\r" && $0 != "\n" })
    }
}

/// Calls by outcome, for `outpost show calls` and metrics.
public final class CallStatistics: Sendable {
    public enum Counter: String, CaseIterable, Sendable {
        case attempts
        case refused
        case ended
        /// BYE, CANCEL or re-INVITE for a dialog the edge does not hold.
        case unknownDialog = "unknown_dialog"
    }

    private let values = Mutex([Int](repeating: 0, count: Counter.allCases.count))
    private let results = Mutex<[String: Int]>([:])

    func count(_ counter: Counter) {
        let index = Counter.allCases.firstIndex(of: counter)!
        values.withLock { $0[index] += 1 }
    }

    /// `result` is `answered` or a SIP status code: a bounded set.
    func countResult(_ result: String) {
        results.withLock { $0[result, default: 0] += 1 }
    }

    /// Calls that ended or were refused, by how: `answered`, or the final status the caller got.
    public var byResult: [String: Int] { results.withLock { $0 } }

    public subscript(counter: Counter) -> Int { values.withLock { $0[Counter.allCases.firstIndex(of: counter)!] } }

    public func snapshot() -> [String: Int] {
        let current = values.withLock { $0 }
        return Dictionary(uniqueKeysWithValues: zip(Counter.allCases.map(\.rawValue), current))
    }
}
