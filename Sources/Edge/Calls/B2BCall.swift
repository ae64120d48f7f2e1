import Logging
import SDP
import SIP
import SIPDialog

/// What a call needs from the edge around it.
struct CallEnvironment: Sendable {
    let settings: CallSettings
    let signalling: any CallSignalling
    let records: any CallRecordStore
    let wallClock: @Sendable () -> Int64
    let logger: Logger
    /// Called once the call has ended and its record is written, with how it ended: `answered`,
    /// or the status the caller got.
    let ended: @Sendable (B2BCall, _ result: String) -> Void
    /// Whether the call manager answers now (the edge is not survivable).
    let callManagerReachable: @Sendable () -> Bool
    /// The relay address and port the call offered the call manager, by which the call the call
    /// manager sends back to a branch phone is known as the other half of the same conversation.
    let offeredToCallManager: @Sendable (B2BCall, String) -> Void
}

/// One call through the edge: the caller's leg, a fork per binding of the callee, and the media
/// session that anchors them. Every SIP event of the call is handled here, in order.
actor B2BCall {
    enum Phase: Sendable, Equatable {
        case proceeding
        case answered
        case confirmed
        case ended
    }

    nonisolated let recordID: String
    nonisolated let callerDialog: DialogKey
    nonisolated let callerBranch: String
    nonisolated let forkDialogs: [DialogKey]
    let environment: CallEnvironment
    let media: any MediaSession
    var caller: CallerLeg
    var forks: [CalleeFork]
    var winner: Int?
    private(set) var phase: Phase = .proceeding
    private var record: CallRecord
    private var sentRinging = false
    private var earlyMediaFork: Int?
    var offerInProgress: Set<Int> = []
    private var successRetransmission: Task<Void, Never>?
    private var ringTimer: Task<Void, Never>?
    /// RFC 4028 per leg (by relay leg): the edge's next refresh, or the deadline of the peer's.
    var sessionTimers: [Int: Task<Void, Never>] = [:]
    private var securityLevel: CallSecurity
    /// The other half of a call between two branch phones that went through the call manager:
    /// when the WAN fails, a hang-up on one half ends the other here, since the call manager
    /// can no longer carry the BYE.
    private weak var peer: B2BCall?

    init(
        recordID: String, caller: CallerLeg, forks: [CalleeFork], forkDialogs: [DialogKey], media: any MediaSession, record: CallRecord,
        environment: CallEnvironment
    ) {
        self.recordID = recordID
        self.caller = caller
        self.callerDialog = DialogKey(callID: (try? caller.invite.headers.callID()) ?? "", localTag: caller.localTag)
        self.callerBranch = (try? caller.invite.headers.topVia().branch) ?? nil ?? ""
        self.forks = forks
        self.forkDialogs = forkDialogs
        self.media = media
        self.record = record
        self.environment = environment
        self.securityLevel = record.security
    }

    var logger: Logger {
        var logger = environment.logger
        logger[metadataKey: "call"] = "\(recordID)"
        return logger
    }

    // MARK: Setup

    /// Sends the INVITE of every fork and waits for their outcome.
    func start() {
        caller.reply(response(to: caller.invite, 100, "Trying", tagged: false))
        for index in forks.indices {
            Task { await self.runFork(index) }
        }
        let timeout = environment.settings.ringTimeout
        ringTimer = Task {
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            await self.ringTimedOut()
        }
    }

    private func runFork(_ index: Int) async {
        let fork = forks[index]
        do {
            let flow = try await flow(toward: fork.destination)
            forks[index].flow = flow
            while true {
                let invite = try await makeInvite(for: index, over: flow)
                guard phase == .proceeding, forks[index].isPending else { return }
                let box = forks[index].sent
                let final = try await environment.signalling.invite(
                    invite, over: flow,
                    sent: { sent in
                        box.record(sent)
                        Task { await self.forkSent(index) }
                    },
                    provisional: { response in Task { await self.forkProvisional(index, response) } })
                // RFC 4028 §7.3: once more with the callee's Min-SE.
                let asked = forks[index].askedInterval ?? environment.settings.sessionExpires
                if forks[index].inviteSequence == 1, let longer = SessionTimer.retryInterval(after: final, asked: asked), phase == .proceeding {
                    forks[index].askedInterval = longer
                    forks[index].inviteSequence += 1
                    continue
                }
                await forkFinal(index, final)
                return
            }
        } catch {
            logger.notice("call leg failed", metadata: ["device": "\(fork.deviceName)", "error": "\(error)"])
            let status = error is CallLegFailure ? (error as! CallLegFailure).status : 480
            var failure = SIPResponse(statusCode: status, reasonPhrase: "\(error)".prefix(120).description)
            failure.headers.append(.reason, CallTermination.failure(status, "\(error)").reasonHeader)
            await forkFinal(index, failure)
        }
    }

    private func flow(toward destination: CalleeFork.Destination) async throws -> BindingFlow {
        switch destination {
        case .phone(let binding):
            return try await environment.signalling.flow(toward: binding)
        case .callManager:
            do { return try await environment.signalling.callManagerFlow() } catch {
                throw CallLegFailure(status: 503, "the call manager cannot be reached: \(error)")
            }
        }
    }

    /// A fork given up while its INVITE was on its way is cancelled once it has gone.
    private func forkSent(_ index: Int) {
        if phase != .proceeding || !forks[index].isPending, forks[index].finalResponse == nil {
            cancelFork(index, reason: forks[index].cancelReason ?? CallTermination.normalClearing("the call was answered elsewhere").reasonHeader)
        }
    }

    /// Sends a fork's CANCEL once: now if its INVITE has gone out, else when it has.
    private func cancelFork(_ index: Int, reason: String) {
        forks[index].cancelReason = reason
        guard !forks[index].cancelSent, let invite = forks[index].sentInvite, let flow = forks[index].flow else { return }
        forks[index].cancelSent = true
        let signalling = environment.signalling
        Task { await signalling.cancel(invite, over: flow, reason: reason) }
    }

    private func makeInvite(for index: Int, over flow: BindingFlow) async throws -> SIPRequest {
        let fork = forks[index]
        let requestURI: URI
        let route: [String]
        switch fork.destination {
        case .phone(let binding):
            guard let contactURI = try? URI(parsing: binding.contact) else {
                throw CallLegFailure(status: 480, "the phone's registered Contact \(binding.contact) is not a URI")
            }
            requestURI = contactURI
            route = binding.path
        case .callManager:
            requestURI = .sip(SIPURI(user: record.callee.number, host: callManagerDomain(flow)))
            route = []
        }
        guard let ourContact = contact(on: flow, secure: requestURI.sipURI?.isSecure ?? false) else {
            throw CallLegFailure(status: 480, "no local address on the flow to \(flow.remoteAddress)")
        }
        // Toward a phone the edge is the phone's registrar and names itself; toward the call
        // manager the parties are addresses of record in its domain.
        let partyHost = fork.isCallManager ? callManagerDomain(flow) : hostForURI(ourContact)
        let address = mediaAddress(on: flow)
        let relay = try await media.update(
            leg: fork.relayLeg,
            MediaLegDescription(
                address: nil, port: 0, payloadFormats: [],
                srtp: fork.security == .plain ? nil : MediaLegDescription.SRTP(suite: environment.settings.offeredSuite, peerKeySalt: nil)))
        let relayKey = relay.keySalt ?? []
        let policy = LegMedia.policy(
            codecs: caller.offer.map(LegMedia.codecs(offeredIn:)) ?? LegMedia.delayedOfferCodecs, security: fork.security, suites: [environment.settings.offeredSuite], address: address,
            keyGenerator: { count in Array(relayKey.prefix(count)) })
        let offer = try SessionDescription.makeOffer(
            policy: policy, localPort: UInt16(relay.port), origin: Origin(sessionID: randomSessionID(), sessionVersion: 1, address: address))
        forks[index].offer = offer
        forks[index].policy = policy
        if fork.isCallManager { environment.offeredToCallManager(self, LegMedia.mediaKey(address: address, port: relay.port)) }

        var headers = SIPHeaders()
        let maxForwards = ((try? caller.invite.headers.maxForwards()) ?? nil ?? 70) - 1
        headers.append(.maxForwards, "\(max(0, maxForwards))")
        let callerIdentity = NameAddress(
            displayName: record.caller.displayName, uri: URI.sip(SIPURI(user: caller.line, host: partyHost)),
            parameters: [GenericParameter("tag", forkDialogs[index].localTag)])
        headers.append(.from, callerIdentity.description)
        headers.append(.to, "<sip:\(record.callee.number)@\(partyHost)>")
        headers.append(.callID, forkDialogs[index].callID)
        headers.append(.cseq, "\(fork.inviteSequence) INVITE")
        for hop in route { headers.append(.route, hop) }
        headers.append(.contact, ourContact.description)
        headers.append(.allow, "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, PRACK")
        headers.append(.supported, "timer, 100rel")
        headers.append(.sessionExpires, "\(fork.askedInterval ?? environment.settings.sessionExpires)")
        headers.append(.minSE, "\(environment.settings.minimumSessionExpires)")
        headers.append(.userAgent, environment.settings.serverName)
        headers.append(.contentType, "application/sdp")
        let body = offer.serialized()
        headers.append(.contentLength, "\(body.count)")
        return SIPRequest(method: .invite, uri: requestURI, headers: headers, body: body)
    }

    private func callManagerDomain(_ flow: BindingFlow) -> String {
        environment.settings.trunk?.domain ?? flow.remoteAddress
    }

    /// Joins this call to the other half of the same conversation (see `peer`).
    func link(_ other: B2BCall) {
        peer = other
        record.otherHalf = other.recordID
    }

    private func forkProvisional(_ index: Int, _ response: SIPResponse) async {
        guard phase == .proceeding, forks[index].isPending, response.statusCode > 100 else { return }
        if response.headers.tokens(.require).contains(where: { $0.lowercased() == "100rel" }) {
            guard acknowledgeReliably(index, response) else { return }
        }
        forks[index].state = .early
        if record.ringingAt == nil { record.ringingAt = environment.wallClock() }
        // Early media needs the caller's offer: a delayed-offer caller hears ringing, since an
        // offer in a 183 would need PRACK; the callee's answer is kept for its 2xx.
        if !response.body.isEmpty, caller.offer == nil, forks[index].stream == nil {
            do { try await acceptCalleeAnswer(index, body: response.body) } catch {
                logger.warning("the callee's early answer is unusable", metadata: ["error": "\(error)"])
            }
        }
        if !response.body.isEmpty, earlyMediaFork == nil, caller.offer != nil {
            earlyMediaFork = index
            do {
                try await acceptCalleeAnswer(index, body: response.body)
                guard phase == .proceeding, let answer = try await answerCaller(from: index) else { return }
                var progress = dialogResponse(183, "Session Progress")
                attach(answer, to: &progress)
                sendProvisional(progress)
                return
            } catch {
                logger.warning("early media refused", metadata: ["error": "\(error)"])
                earlyMediaFork = nil
            }
        }
        if !sentRinging, earlyMediaFork == nil {
            sentRinging = true
            sendProvisional(dialogResponse(180, "Ringing"))
        }
    }

    private func forkFinal(_ index: Int, _ final: SIPResponse) async {
        guard forks[index].isPending else { return }
        forks[index].finalResponse = final
        if final.isSuccess {
            await forkAnswered(index, final)
        } else {
            forks[index].state = .finished(status: final.statusCode)
            if phase == .proceeding, winner == nil, !forks.contains(where: \.isPending) { await refuseCaller() }
        }
    }

    private func forkAnswered(_ index: Int, _ final: SIPResponse) async {
        guard let invite = forks[index].sentInvite, let flow = forks[index].flow else { return }
        var dialog: Dialog
        do {
            if var early = forks[index].earlyDialog, (try? final.headers.to().tag) == early.id.remoteTag {
                // The PRACKs counted in its CSeq.
                _ = try early.received(finalResponse: final)
                dialog = early
            } else {
                dialog = try Dialog(asUACFor: invite, response: final)
            }
            environment.signalling.ack(try dialog.makeAck(forInviteSequence: forks[index].inviteSequence), over: flow)
        } catch {
            logger.warning("unusable 2xx from callee", metadata: ["error": "\(error)"])
            forks[index].state = .finished(status: 502)
            if phase == .proceeding, winner == nil, !forks.contains(where: \.isPending) { await refuseCaller() }
            return
        }
        guard phase == .proceeding, winner == nil else {
            // A second phone answered in the same moment: it is thanked and hung up on.
            forks[index].state = .finished(status: 200)
            forks[index].dialog = dialog
            await hangUp(fork: index, CallTermination.normalClearing("the call was answered elsewhere"))
            return
        }
        forks[index].state = .answered
        forks[index].dialog = dialog
        forks[index].sessionTimer = SessionTimer.answered(final)
        winner = index
        ringTimer?.cancel()
        do {
            if !final.body.isEmpty { try await acceptCalleeAnswer(index, body: final.body) }
            guard forks[index].stream != nil else {
                throw CallLegFailure(status: 488, "the callee's 2xx carried no usable answer")
            }
            let description = caller.offer == nil ? try await offerCaller(from: index) : try await answerCaller(from: index)
            guard let description else { throw CallLegFailure(status: 500, "no session description for the caller") }
            guard phase == .proceeding else {
                // The caller cancelled while the answer was being put together.
                await hangUp(fork: index, CallTermination.normalClearing("the caller cancelled"))
                return
            }
            await cancelLosingForks()
            var ok = dialogResponse(200, "OK")
            addSessionTimer(caller.sessionTimer, to: &ok)
            attach(description, to: &ok)
            caller.dialog = try Dialog(asUASFor: caller.invite, sending: ok)
            await waitForPRACKOfEarlyAnswer()
            guard phase == .proceeding else { return }
            phase = .answered
            caller.reply(ok)
            retransmitSuccess(ok)
            armSessionTimer(leg: 0)
            armSessionTimer(leg: forks[index].relayLeg)
            record.answeredAt = environment.wallClock()
            record.legs = legRecords()
            record.security = securityLevel
            try? await media.answered()
            do { try await environment.records.write(record) } catch {
                logger.error("call record not written at answer", metadata: ["error": "\(error)"])
            }
            logger.info("call answered", metadata: ["caller": "\(record.caller.number)", "callee": "\(record.callee.number)", "security": "\(securityLevel.rawValue)"])
        } catch {
            logger.warning("answered call could not be connected", metadata: ["error": "\(error)"])
            let termination = CallTermination.failure(488, "\(error)")
            await hangUp(fork: index, termination)
            await end(status: 488, reason: "\(error)", by: .edge, answerCaller: termination)
        }
    }

    /// The callee's SDP answer, to the offer the edge made it, put into the relay.
    func acceptCalleeAnswer(_ index: Int, body: [UInt8]) async throws {
        guard let offer = forks[index].offer, let policy = forks[index].policy else { return }
        let answer = try SessionDescription(parsing: body)
        let streams = try offer.negotiatedStreams(answer: answer, policy: policy)
        guard let stream = streams.first(where: { $0.mediaType == .audio }) else {
            throw CallLegFailure(status: 488, "the callee accepted no audio stream")
        }
        _ = try await media.update(
            leg: forks[index].relayLeg,
            LegMedia.relayDescription(
                of: stream, peerFormats: LegMedia.formats(of: answer, stream: stream.index), latchesPlainRTP: forks[index].security == .plain))
        forks[index].stream = stream
        noteSecurity()
    }

    /// The edge's answer to the caller's offer, with the codec the callee chose, the relay's
    /// port and the relay's own key for the caller's leg. Made once per call: the 2xx repeats
    /// the answer a 183 carried.
    private func answerCaller(from index: Int) async throws -> SessionDescription? {
        if let answer = caller.answer { return answer }
        guard let callerOffer = caller.offer else { return nil }
        guard let calleeStream = forks[index].stream else { return nil }
        let address = mediaAddress(on: caller.origin.flow)
        let policy = LegMedia.policy(codecs: [calleeStream.codec], security: caller.security, address: address)
        var ports = [UInt16](repeating: 0, count: callerOffer.media.count)
        ports[caller.audioIndex] = UInt16(media.ports[0])
        let negotiated = try callerOffer.makeAnswer(
            policy: policy, localPorts: ports, origin: Origin(sessionID: randomSessionID(), sessionVersion: caller.sdpVersion, address: address))
        guard let stream = negotiated.streams.first(where: { $0.index == caller.audioIndex }) else {
            throw CallLegFailure(status: 488, "the caller's audio stream cannot be answered")
        }
        let relay = try await media.update(
            leg: 0,
            LegMedia.relayDescription(
                of: stream, peerFormats: LegMedia.formats(of: callerOffer, stream: stream.index), latchesPlainRTP: caller.security == .plain))
        let answer = LegMedia.withRelayKey(negotiated.answer, stream: stream.index, key: relay.keySalt)
        caller.stream = stream
        caller.answer = answer
        noteSecurity()
        return answer
    }

    /// The edge's offer to a caller that sent none, in its 2xx: the codec the callee chose and the
    /// relay's key for the caller's leg. Made once; the ACK carries the answer.
    private func offerCaller(from index: Int) async throws -> SessionDescription? {
        if let pending = caller.pendingOffer { return pending.description }
        guard let calleeStream = forks[index].stream else { return nil }
        let address = mediaAddress(on: caller.origin.flow)
        let suite = environment.settings.offeredSuite
        let relay = try await media.update(
            leg: 0,
            MediaLegDescription(
                address: nil, port: 0, payloadFormats: [],
                srtp: caller.security == .plain ? nil : MediaLegDescription.SRTP(suite: suite, peerKeySalt: nil)))
        let relayKey = relay.keySalt ?? []
        let policy = LegMedia.policy(
            codecs: [calleeStream.codec], security: caller.security, suites: [suite], address: address,
            keyGenerator: { count in Array(relayKey.prefix(count)) })
        let offer = try SessionDescription.makeOffer(
            policy: policy, localPort: UInt16(relay.port),
            origin: Origin(sessionID: randomSessionID(), sessionVersion: caller.sdpVersion, address: address))
        caller.pendingOffer = (offer, policy)
        return offer
    }

    /// The caller's answer in its ACK to the edge's offer; without a usable one the call cannot
    /// carry media and ends with why.
    private func acceptCallerAnswer(_ ack: SIPRequest, to pending: (description: SessionDescription, policy: MediaPolicy)) async {
        do {
            guard !ack.body.isEmpty else { throw CallLegFailure(status: 488, "the ACK carried no answer to the edge's offer") }
            try await applyCallerAnswer(ack.body, to: pending.description, policy: pending.policy)
        } catch {
            let reason = (error as? NegotiationError)?.reason ?? "\(error)"
            logger.warning("the caller's answer in its ACK is unusable", metadata: ["error": "\(reason)"])
            let termination = CallTermination(status: 488, q850Cause: 88, text: "unusable answer in the ACK: \(reason)")
            await endByEdge(termination, recordedStatus: 488)
        }
    }

    /// The caller's answer to an offer of the edge's, put into the relay.
    func applyCallerAnswer(_ body: [UInt8], to offer: SessionDescription, policy: MediaPolicy) async throws {
        let answer = try SessionDescription(parsing: body)
        let streams = try offer.negotiatedStreams(answer: answer, policy: policy)
        guard let stream = streams.first(where: { $0.mediaType == .audio }) else {
            throw CallLegFailure(status: 488, "the caller's answer accepted no audio stream")
        }
        _ = try await media.update(
            leg: 0,
            LegMedia.relayDescription(
                of: stream, peerFormats: LegMedia.formats(of: answer, stream: stream.index), latchesPlainRTP: caller.security == .plain))
        caller.stream = stream
        caller.answer = offer
        noteSecurity()
    }

    private func cancelLosingForks() async {
        for index in forks.indices where index != winner {
            try? await media.setDirection(leg: forks[index].relayLeg, .inactive)
            guard forks[index].isPending else { continue }
            forks[index].state = .finished(status: 487)
            cancelFork(index, reason: CallTermination.normalClearing("the call was answered elsewhere").reasonHeader)
        }
    }

    /// Every fork refused: the caller hears the most telling refusal (RFC 3261 §16.7: a 6xx
    /// first, then busy over the rest, then the lowest class).
    private func refuseCaller() async {
        let finals = forks.compactMap(\.finalResponse)
        let chosen =
            finals.first { $0.statusCode >= 600 } ?? finals.first { $0.statusCode == 486 }
            ?? finals.min { $0.statusCode / 100 < $1.statusCode / 100 }
        let status = chosen?.statusCode ?? 480
        let phrase = chosen?.reasonPhrase ?? "Temporarily Unavailable"
        let reason = chosen?.headers[.reason] ?? CallTermination.failure(status, phrase).reasonHeader
        var refusal = response(to: caller.invite, status, phrase, tagged: true)
        refusal.headers.append(.reason, reason)
        if let warning = chosen?.headers[.warning] { refusal.headers.append(.warning, warning) }
        caller.reply(refusal)
        await end(status: status, reason: phrase, by: .callee, answerCaller: nil)
    }

    private func ringTimedOut() async {
        guard phase == .proceeding else { return }
        for index in forks.indices where forks[index].isPending {
            forks[index].state = .finished(status: 480)
            forks[index].finalResponse = SIPResponse(statusCode: 480, reasonPhrase: "No Answer")
            cancelFork(index, reason: CallTermination.failure(480, "no answer").reasonHeader)
        }
        let termination = CallTermination(status: 480, q850Cause: 19, text: "no answer within \(environment.settings.ringTimeout)")
        var refusal = response(to: caller.invite, 480, "No Answer", tagged: true)
        refusal.headers.append(.reason, termination.reasonHeader)
        caller.reply(refusal)
        await end(status: 480, reason: termination.text, by: .edge, answerCaller: nil)
    }

    // MARK: Requests from the legs

    /// The caller's CANCEL (its 200 is already sent): the forks are cancelled, the caller gets 487.
    func cancel(_ request: SIPRequest) async {
        guard phase == .proceeding else { return }
        let reason = request.headers[.reason] ?? CallTermination.failure(487, "the caller cancelled").reasonHeader
        for index in forks.indices where forks[index].isPending {
            forks[index].state = .finished(status: 487)
            cancelFork(index, reason: reason)
        }
        ringTimer?.cancel()
        caller.reply(response(to: caller.invite, 487, "Request Terminated", tagged: true))
        await end(status: 487, reason: "the caller cancelled", by: .caller, answerCaller: nil)
    }

    /// An ACK from the caller: for the 2xx (the call is up) or for a failure, which the
    /// transaction layer already absorbed.
    func ack(_ request: SIPRequest) async {
        guard phase == .answered, var dialog = caller.dialog, case .accepted = dialog.receive(request) else { return }
        caller.dialog = dialog
        successRetransmission?.cancel()
        successRetransmission = nil
        phase = .confirmed
        if let pending = caller.pendingOffer {
            caller.pendingOffer = nil
            await acceptCallerAnswer(request, to: pending)
        }
    }

    /// Resends the ACK of a fork whose 2xx came again.
    func acknowledgeAgain(_ response: SIPResponse) {
        let callID = (try? response.headers.callID()) ?? ""
        guard let index = forkIndex(ofCallID: callID), let dialog = forks[index].dialog, let flow = forks[index].flow,
            (try? response.headers.to().tag) == dialog.id.remoteTag,
            let ack = try? dialog.makeAck(forInviteSequence: forks[index].inviteSequence)
        else { return }
        environment.signalling.ack(ack, over: flow)
    }

    /// A request inside one of the call's dialogs.
    func inDialog(_ request: SIPRequest, from side: CallSide, reply: @escaping @Sendable (SIPResponse) -> Void) async {
        let forkIndex = side == .callee ? forkIndex(ofCallID: (try? request.headers.callID()) ?? "") : nil
        if request.method == .prack, side == .caller {
            prack(request, reply: reply)
            return
        }
        guard var dialog = side == .caller ? caller.dialog : forkIndex.flatMap({ forks[$0].dialog }) else {
            reply(response(to: request, 481, "Call/Transaction Does Not Exist", tagged: true))
            return
        }
        switch dialog.receive(request) {
        case .rejected(let error):
            reply(error.response(to: request))
            return
        case .accepted:
            if side == .caller { caller.dialog = dialog } else if let forkIndex { forks[forkIndex].dialog = dialog }
        }
        switch request.method {
        case .bye:
            await bye(request, from: side, reply: reply)
        case .invite, .update:
            await renegotiate(request, from: side, forkIndex: forkIndex, reply: reply)
        case .options, .info:
            reply(response(to: request, 200, "OK", tagged: false))
        default:
            reply(response(to: request, 405, "Method Not Allowed", tagged: false))
        }
    }

    private func forkIndex(ofCallID callID: String) -> Int? {
        forkDialogs.firstIndex { $0.callID == callID }
    }

    private func bye(_ request: SIPRequest, from side: CallSide, reply: @escaping @Sendable (SIPResponse) -> Void) async {
        guard phase == .answered || phase == .confirmed else {
            reply(response(to: request, 481, "Call/Transaction Does Not Exist", tagged: false))
            return
        }
        let text = side == .caller ? "the caller hung up" : "the callee hung up"
        let given = request.headers[.reason]
        let termination = CallTermination(status: 200, q850Cause: given.flatMap(CallTermination.q850Cause(inReason:)) ?? 16, text: text)
        // The record is durable before the phone hears its BYE was taken.
        let ok = response(to: request, 200, "OK", tagged: false)
        await end(status: 200, reason: text, by: side == .caller ? .caller : .callee, answerCaller: nil, cause: termination.q850Cause) {
            reply(ok)
        }
        let delivered: Bool
        let towardCallManager: Bool
        if side == .caller {
            if let winner { delivered = await hangUp(fork: winner, termination) } else { delivered = false }
            towardCallManager = winner.map { forks[$0].isCallManager } ?? false
        } else {
            delivered = await hangUpCaller(termination)
            towardCallManager = caller.isCallManager
        }
        if towardCallManager, !delivered, let peer {
            logger.notice("the call manager did not take the BYE: the other half of the call ends here")
            await peer.otherHalfEnded(termination)
        }
        peer = nil
    }

    /// A re-INVITE or UPDATE from either leg, answered by the edge for that leg alone: hold and
    /// resume change what the relay forwards; a new address or key is taken as it comes.
    private func renegotiate(
        _ request: SIPRequest, from side: CallSide, forkIndex: Int?, reply: @escaping @Sendable (SIPResponse) -> Void
    ) async {
        let leg = side == .caller ? 0 : forkIndex.map { forks[$0].relayLeg } ?? -1
        guard phase == .confirmed || phase == .answered, leg >= 0 else {
            reply(response(to: request, 491, "Request Pending", tagged: false))
            return
        }
        guard !offerInProgress.contains(leg) else {
            var pending = response(to: request, 491, "Request Pending", tagged: false)
            pending.headers.append(.retryAfter, "1")
            reply(pending)
            return
        }
        offerInProgress.insert(leg)
        defer { offerInProgress.remove(leg) }
        let previous = side == .caller ? caller.stream : forkIndex.flatMap { forks[$0].stream }
        let security = side == .caller ? caller.security : forkIndex.map { forks[$0].security } ?? .srtpRequired
        let flow = side == .caller ? caller.origin.flow : forkIndex.flatMap { forks[$0].flow }
        guard let previous, let flow else {
            reply(response(to: request, 500, "Server Internal Error (the leg has no media yet)", tagged: false))
            return
        }
        guard !request.body.isEmpty else {
            // An offer-less re-INVITE asks for the edge's offer; the edge repeats its last answer,
            // which keeps the session as it is.
            var ok = response(to: request, 200, "OK", tagged: false)
            if let contact = contact(on: flow, secure: request.uri.sipURI?.isSecure ?? false) { ok.headers.append(.contact, contact.description) }
            if request.method == .invite, side == .caller, let answer = caller.answer { attach(answer, to: &ok) }
            addSessionTimer(sessionTimer(ofLeg: leg), to: &ok)
            reply(ok)
            armSessionTimer(leg: leg)
            return
        }
        do {
            let offer = try SessionDescription(parsing: request.body)
            guard let audio = LegMedia.audioIndex(of: offer) else { throw CallLegFailure(status: 488, "the offer has no audio stream") }
            let address = mediaAddress(on: flow)
            let policy = LegMedia.policy(codecs: [previous.codec], security: security, address: address)
            var ports = [UInt16](repeating: 0, count: offer.media.count)
            ports[audio] = UInt16(media.ports[leg])
            let version: UInt64
            if side == .caller {
                caller.sdpVersion += 1
                version = caller.sdpVersion
            } else {
                version = 2
            }
            let negotiated = try offer.makeAnswer(
                policy: policy, localPorts: ports, origin: Origin(sessionID: randomSessionID(), sessionVersion: version, address: address),
                reusingKeysFrom: [previous])
            guard let stream = negotiated.streams.first(where: { $0.index == audio }) else {
                throw CallLegFailure(status: 488, "the audio stream cannot be answered")
            }
            let relay = try await media.update(
                leg: leg,
                LegMedia.relayDescription(
                    of: stream, peerFormats: LegMedia.formats(of: offer, stream: audio), latchesPlainRTP: security == .plain))
            let answer = LegMedia.withRelayKey(negotiated.answer, stream: audio, key: relay.keySalt)
            if side == .caller {
                caller.stream = stream
                caller.answer = answer
            } else if let forkIndex {
                forks[forkIndex].stream = stream
            }
            noteSecurity()
            var ok = response(to: request, 200, "OK", tagged: false)
            if let contact = contact(on: flow, secure: request.uri.sipURI?.isSecure ?? false) { ok.headers.append(.contact, contact.description) }
            addSessionTimer(sessionTimer(ofLeg: leg), to: &ok)
            attach(answer, to: &ok)
            reply(ok)
            armSessionTimer(leg: leg)
            if request.method == .invite, flow.transport == .udp { retransmitSuccess(ok, reply: reply) }
            logger.info("leg renegotiated", metadata: ["leg": "\(leg)", "direction": "\(stream.direction.reversed)"])
            let held = LegMedia.peerDirection(of: stream)
            if held != LegMedia.peerDirection(of: previous) {
                Task { await self.forwardDirection(held, from: side) }
            }
        } catch let error as NegotiationError {
            var refusal = response(to: request, 488, "Not Acceptable Here", tagged: false)
            refusal.headers.append(.warning, "\(error.warningCode) outpost \"\(error.reason)\"")
            reply(refusal)
        } catch {
            var refusal = response(to: request, 488, "Not Acceptable Here", tagged: false)
            refusal.headers.append(.warning, "399 outpost \"\(error)\"")
            reply(refusal)
        }
    }

    /// The relay lost a leg's media: the call ends with a Reason on both legs.
    func mediaTimedOut(leg: Int, reason: String) async {
        guard phase == .answered || phase == .confirmed else { return }
        let termination = CallTermination(status: 200, q850Cause: 41, text: "media timeout: \(reason)")
        await endByEdge(termination, recordedStatus: 200)
    }

    /// The edge is stopping: every call it carries is hung up with a reason.
    func shutDown(_ text: String) async {
        let termination = CallTermination(status: 503, q850Cause: 41, text: text)
        switch phase {
        case .proceeding:
            for index in forks.indices where forks[index].isPending {
                forks[index].state = .finished(status: 503)
                cancelFork(index, reason: termination.reasonHeader)
            }
            var refusal = response(to: caller.invite, 503, "Service Unavailable", tagged: true)
            refusal.headers.append(.reason, termination.reasonHeader)
            caller.reply(refusal)
            await end(status: 503, reason: text, by: .edge, answerCaller: nil, cause: 41)
        case .answered, .confirmed:
            await endByEdge(termination, recordedStatus: 200)
        case .ended:
            break
        }
    }

    // MARK: Ending

    func end(
        status: Int, reason: String, by: CallEndedBy, answerCaller termination: CallTermination?, cause: Int? = nil,
        onceDurable: (@Sendable () -> Void)? = nil
    ) async {
        guard phase != .ended else {
            onceDurable?()
            return
        }
        let wasUp = phase == .answered || phase == .confirmed
        if let termination, !wasUp {
            var refusal = response(to: caller.invite, termination.status, "Not Acceptable Here", tagged: true)
            refusal.headers.append(.reason, termination.reasonHeader)
            caller.reply(refusal)
        }
        phase = .ended
        ringTimer?.cancel()
        successRetransmission?.cancel()
        for task in sessionTimers.values { task.cancel() }
        sessionTimers = [:]
        record.legs = await measuredLegRecords()
        record.endedAt = environment.wallClock()
        record.endedBy = by
        record.endStatus = status
        record.q850Cause = cause ?? CallTermination.q850(forStatus: status)
        record.endReason = reason
        record.security = securityLevel
        do { try await environment.records.write(record) } catch {
            logger.error("call record not written", metadata: ["error": "\(error)"])
        }
        onceDurable?()
        await media.release()
        logger.info("call ended", metadata: ["status": "\(status)", "by": "\(by.rawValue)", "reason": "\(reason)"])
        environment.ended(self, record.answeredAt != nil ? "answered" : "\(status)")
    }

    /// Ends an answered call on the edge's account: the record is durable first, then both legs
    /// get a BYE with the termination's Reason.
    func endByEdge(_ termination: CallTermination, recordedStatus: Int) async {
        await end(status: recordedStatus, reason: termination.text, by: .edge, answerCaller: nil, cause: termination.q850Cause)
        if let winner { await hangUp(fork: winner, termination) }
        await hangUpCaller(termination)
    }

    /// Sends the fork its BYE; returns whether anything answered it.
    @discardableResult
    func hangUp(fork index: Int, _ termination: CallTermination) async -> Bool {
        guard var dialog = forks[index].dialog, let flow = forks[index].flow,
            let bye = try? dialog.makeRequest(.bye, headers: [(.reason, termination.reasonHeader)])
        else { return false }
        forks[index].dialog = dialog
        if forks[index].isCallManager, !environment.callManagerReachable() { return false }
        return (try? await environment.signalling.request(bye, over: flow, deadline: environment.settings.requestDeadline)) != nil
    }

    @discardableResult
    func hangUpCaller(_ termination: CallTermination) async -> Bool {
        guard var dialog = caller.dialog, let bye = try? dialog.makeRequest(.bye, headers: [(.reason, termination.reasonHeader)]) else {
            return false
        }
        caller.dialog = dialog
        if caller.isCallManager, !environment.callManagerReachable() { return false }
        return (try? await environment.signalling.request(bye, over: caller.origin.flow, deadline: environment.settings.requestDeadline)) != nil
    }

    /// The other half of the conversation was hung up and its BYE could not cross the call
    /// manager: this half ends too, with a BYE to its phone.
    func otherHalfEnded(_ termination: CallTermination) async {
        guard phase == .answered || phase == .confirmed else { return }
        let text = "the other party hung up while the call manager was unreachable"
        await end(status: 200, reason: text, by: .edge, answerCaller: nil, cause: termination.q850Cause)
        let onward = CallTermination(status: 200, q850Cause: termination.q850Cause, text: text)
        if caller.isCallManager {
            if let winner { await hangUp(fork: winner, onward) }
        } else {
            await hangUpCaller(onward)
        }
        peer = nil
    }

    // MARK: What the call looks like now

    func snapshot() async -> ActiveCall {
        let legs = await measuredLegRecords()
        return ActiveCall(
            id: recordID, caller: record.caller, callee: record.callee, dialled: record.dialled, phase: phase,
            setupAt: record.setupAt, answeredAt: record.answeredAt, security: securityLevel, legs: legs, otherHalf: peer?.recordID)
    }

    /// The leg records with the relay's measurements of each leg so far.
    private func measuredLegRecords() async -> [CallLegRecord] {
        let qualities = (try? await media.quality()) ?? []
        var legs = legRecords()
        for index in legs.indices {
            let relayLeg = index == 0 ? 0 : (winner.map { forks[$0].relayLeg } ?? 1)
            if relayLeg < qualities.count { legs[index].quality = qualities[relayLeg] }
        }
        return legs
    }

    private func legRecords() -> [CallLegRecord] {
        var legs = [legRecord(role: .caller, device: caller.deviceName, flow: caller.origin.flow, stream: caller.stream)]
        if let winner {
            legs.append(legRecord(role: .callee, device: forks[winner].deviceName, flow: forks[winner].flow, stream: forks[winner].stream))
        } else if let first = forks.first(where: { $0.stream != nil }) ?? forks.first {
            legs.append(legRecord(role: .callee, device: first.deviceName, flow: first.flow, stream: first.stream))
        }
        return legs
    }

    private func legRecord(role: CallLegRecord.Role, device: String, flow: BindingFlow?, stream: NegotiatedStream?) -> CallLegRecord {
        CallLegRecord(
            role: role, device: device, transport: flow?.transport.rawValue ?? "-",
            remote: flow.map { "\($0.transport.rawValue.lowercased()):\($0.remoteAddress):\($0.remotePort)" } ?? "-",
            suite: stream?.srtp?.suite.name, codec: stream.map { "\($0.codec.encoding)/\($0.codec.clockRate)" })
    }

    /// Secure only while every leg is signalled over TLS and carries SRTP.
    private func noteSecurity() {
        var legs: [(BindingFlow?, NegotiatedStream?)] = [(caller.origin.flow, caller.stream)]
        if let winner { legs.append((forks[winner].flow, forks[winner].stream)) } else if let early = earlyMediaFork {
            legs.append((forks[early].flow, forks[early].stream))
        }
        let protectedTrunk = environment.settings.trunk?.signallingProtected ?? false
        let secure = legs.allSatisfy { flow, stream in
            let signalling = flow.map { $0.transport == .tls || (protectedTrunk && environment.signalling.isCallManager($0)) } ?? false
            return signalling && (stream.map { $0.srtp != nil } ?? true)
        }
        let level: CallSecurity = secure ? .secure : .nonSecure
        if level != securityLevel {
            logger.info("call security changed", metadata: ["from": "\(securityLevel.rawValue)", "to": "\(level.rawValue)"])
            securityLevel = level
        }
    }

    // MARK: Messages

    /// A response on the caller's dialog: our To tag and Contact, from the 180 on.
    private func dialogResponse(_ status: Int, _ phrase: String) -> SIPResponse {
        let contact = contact(on: caller.origin.flow, secure: caller.invite.uri.sipURI?.isSecure ?? false)
        var message = SIPResponse(
            creatingDialogFor: caller.invite, statusCode: status, reasonPhrase: phrase, localTag: caller.localTag,
            contact: contact ?? NameAddress(uri: caller.invite.uri))
        message.headers.append(.allow, "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, PRACK")
        message.headers.append(.server, environment.settings.serverName)
        return message
    }

    func response(to request: SIPRequest, _ status: Int, _ phrase: String, tagged: Bool) -> SIPResponse {
        var message = SIPResponse(respondingTo: request, statusCode: status, reasonPhrase: phrase, toTag: tagged ? caller.localTag : nil)
        message.headers.append(.server, environment.settings.serverName)
        return message
    }

    private func attach(_ description: SessionDescription, to message: inout SIPResponse) {
        message.body = description.serialized()
        message.headers.set(.contentType, "application/sdp")
        message.headers.set(.contentLength, "\(message.body.count)")
    }

    /// RFC 3261 §13.3.1.4: over UDP the UAS resends its 2xx, T1 doubling to T2, until the ACK.
    private func retransmitSuccess(_ ok: SIPResponse, reply: (@Sendable (SIPResponse) -> Void)? = nil) {
        guard caller.origin.flow.transport == .udp || reply != nil else { return }
        let send = reply ?? caller.reply
        let task = Task {
            var interval = Duration.milliseconds(500)
            var waited = Duration.zero
            while waited < .seconds(31) {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { return }
                send(ok)
                waited += interval
                interval = min(interval * 2, .seconds(4))
            }
        }
        if reply == nil { successRetransmission = task }
    }

    func contact(on flow: BindingFlow, secure: Bool) -> NameAddress? {
        guard let local = environment.signalling.localAddress(of: flow) else { return nil }
        let host = local.host.contains(":") ? "[\(local.host)]" : local.host
        var parameters: [URIParameter] = []
        if flow.transport != .udp { parameters.append(URIParameter("transport", flow.transport.rawValue.lowercased())) }
        return NameAddress(uri: .sip(SIPURI(isSecure: secure, user: "outpost", host: host, port: local.port, parameters: parameters)))
    }

    private func hostForURI(_ contact: NameAddress) -> String {
        guard let uri = contact.uri.sipURI else { return "outpost.invalid" }
        return uri.port.map { "\(uri.host):\($0)" } ?? uri.host
    }

    func mediaAddress(on flow: BindingFlow) -> String {
        if let configured = environment.settings.mediaAddress, configured != "0.0.0.0", configured != "::" { return configured }
        return environment.signalling.localAddress(of: flow)?.host ?? "0.0.0.0"
    }

    private func randomSessionID() -> UInt64 { UInt64.random(in: 1..<(1 << 62)) }
}

/// A leg could not be placed, with the status the caller should hear.
struct CallLegFailure: Error, CustomStringConvertible {
    let status: Int
    let description: String
    init(status: Int, _ description: String) {
        self.status = status
        self.description = description
    }
}

/// A call that is up or being set up, for `outpost show calls`.
public struct ActiveCall: Sendable, Hashable, Codable {
    public var id: String
    public var caller: CallParty
    public var callee: CallParty
    public var dialled: String
    public var phase: String
    public var setupAt: Int64
    public var answeredAt: Int64?
    public var security: CallSecurity
    public var legs: [CallLegRecord]
    /// For a call between branch phones that the call manager routed back: the edge's other call
    /// of the same conversation.
    public var otherHalf: String?

    init(
        id: String, caller: CallParty, callee: CallParty, dialled: String, phase: B2BCall.Phase, setupAt: Int64, answeredAt: Int64?,
        security: CallSecurity, legs: [CallLegRecord], otherHalf: String?
    ) {
        self.otherHalf = otherHalf
        self.id = id
        self.caller = caller
        self.callee = callee
        self.dialled = dialled
        self.phase = "\(phase)"
        self.setupAt = setupAt
        self.answeredAt = answeredAt
        self.security = security
        self.legs = legs
    }
}
