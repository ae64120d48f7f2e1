import Logging
import SDP
import SIP
import SIPDialog

/// RFC 4028 session timers on each leg of a call.
extension B2BCall {
    func sessionTimer(ofLeg leg: Int) -> SessionTimer? {
        leg == 0 ? caller.sessionTimer : forks.first { $0.relayLeg == leg }?.sessionTimer
    }

    func addSessionTimer(_ timer: SessionTimer?, to message: inout SIPResponse) {
        guard let timer else { return }
        message.headers.append(.sessionExpires, timer.headerValue)
        if timer.refresher == .uac { message.headers.append(.require, "timer") }
    }

    /// Starts the leg's timer again from now: a refresh was sent or taken.
    func armSessionTimer(leg: Int) {
        sessionTimers[leg]?.cancel()
        guard phase == .answered || phase == .confirmed, let timer = sessionTimer(ofLeg: leg) else { return }
        let wait = timer.edgeRefreshes ? timer.refreshAfter : timer.expiresAfter
        sessionTimers[leg] = Task {
            try? await Task.sleep(for: wait)
            guard !Task.isCancelled else { return }
            await self.sessionTimerFired(leg: leg)
        }
    }

    func sessionTimerFired(leg: Int) async {
        guard phase == .answered || phase == .confirmed, let timer = sessionTimer(ofLeg: leg) else { return }
        if timer.edgeRefreshes {
            if await refreshSession(leg: leg, timer) {
                armSessionTimer(leg: leg)
                return
            }
            await endForSessionTimer("the session refresh to leg \(leg) went unanswered")
        } else {
            await endForSessionTimer("no session refresh on leg \(leg) within its \(timer.interval) s interval")
        }
    }

    /// An UPDATE without a body where the peer allows it, else a re-INVITE repeating the edge's
    /// session description. Only a timeout, `408` or `481` ends the session (§10).
    func refreshSession(leg: Int, _ timer: SessionTimer) async -> Bool {
        let forkIndex = leg == 0 ? nil : forks.firstIndex { $0.relayLeg == leg }
        guard var dialog = leg == 0 ? caller.dialog : forkIndex.flatMap({ forks[$0].dialog }),
            let flow = leg == 0 ? caller.origin.flow : forkIndex.flatMap({ forks[$0].flow })
        else { return false }
        let peerAllows = (leg == 0 ? caller.invite.headers : forkIndex.flatMap { forks[$0].finalResponse?.headers } ?? SIPHeaders()).tokens(.allow)
        var headers: [(SIPHeaderName, String)] = [(.sessionExpires, timer.headerValue), (.supported, "timer")]
        if timer.refresher == .uac { headers.append((.require, "timer")) }
        let signalling = environment.signalling
        let deadline = environment.settings.requestDeadline
        do {
            let final: SIPResponse
            if peerAllows.contains(where: { $0.uppercased() == "UPDATE" }) {
                let update = try dialog.makeRequest(.update, headers: headers)
                store(dialog, leg: leg, forkIndex: forkIndex)
                final = try await signalling.request(update, over: flow, deadline: deadline)
            } else {
                guard var description = leg == 0 ? caller.answer : forkIndex.flatMap({ forks[$0].offer }) else { return false }
                // The peer's own re-INVITE meanwhile gets 491 (glare, RFC 3261 §14.1).
                offerInProgress.insert(leg)
                defer { offerInProgress.remove(leg) }
                description.origin = description.origin.incrementingVersion()
                if leg == 0 { caller.answer = description } else if let forkIndex { forks[forkIndex].offer = description }
                headers += [(.contentType, "application/sdp")]
                let reInvite = try dialog.makeRequest(.invite, headers: headers, body: description.serialized())
                store(dialog, leg: leg, forkIndex: forkIndex)
                final = try await signalling.invite(reInvite, over: flow, sent: { _ in }, provisional: { _ in })
                if final.isSuccess, let sequence = try? reInvite.headers.cseq().sequence,
                    let ack = try? dialog.makeAck(forInviteSequence: sequence)
                {
                    signalling.ack(ack, over: flow)
                }
                if final.isSuccess, !final.body.isEmpty, let forkIndex { try? await acceptCalleeAnswer(forkIndex, body: final.body) }
            }
            return ![408, 481].contains(final.statusCode)
        } catch {
            logger.notice("session refresh failed", metadata: ["leg": "\(leg)", "error": "\(error)"])
            return false
        }
    }

    func store(_ dialog: Dialog, leg: Int, forkIndex: Int?) {
        if leg == 0 { caller.dialog = dialog } else if let forkIndex { forks[forkIndex].dialog = dialog }
    }

    func endForSessionTimer(_ text: String) async {
        let termination = CallTermination(status: 200, q850Cause: 102, text: "session timer: \(text)")
        logger.notice("session timer expired", metadata: ["reason": "\(text)"])
        await endByEdge(termination, recordedStatus: 200)
    }
}
