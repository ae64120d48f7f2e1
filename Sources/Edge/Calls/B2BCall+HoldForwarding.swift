import Logging
import SDP
import SIP
import SIPDialog

/// Hold and resume passed from one leg to the other.
extension B2BCall {
    /// A hold or resume on one leg offered to the other, as one user agent to the next: the
    /// edge sends that phone what the holding phone now does (sendonly, inactive, sendrecv), so
    /// it shows the hold and the relay's directions follow its answer. A failure leaves the call
    /// as it is (the relay already forwards only what the holding leg allows).
    func forwardDirection(_ direction: MediaDirection, from side: CallSide) async {
        guard phase == .answered || phase == .confirmed, let winner else { return }
        let toCaller = side == .callee
        let leg = toCaller ? 0 : forks[winner].relayLeg
        guard !offerInProgress.contains(leg),
            var dialog = toCaller ? caller.dialog : forks[winner].dialog,
            let flow = toCaller ? caller.origin.flow : forks[winner].flow,
            let base = toCaller ? caller.answer : forks[winner].offer,
            let current = toCaller ? caller.stream : forks[winner].stream
        else { return }
        offerInProgress.insert(leg)
        defer { offerInProgress.remove(leg) }
        var offer = LegMedia.withDirection(base, direction)
        offer.origin = offer.origin.incrementingVersion()
        if toCaller { caller.answer = offer } else { forks[winner].offer = offer }
        var headers: [(SIPHeaderName, String)] = [(.contentType, "application/sdp")]
        if let contact = contact(on: flow, secure: dialog.isSecure) { headers.insert((.contact, contact.description), at: 0) }
        do {
            let reInvite = try dialog.makeRequest(.invite, headers: headers, body: offer.serialized())
            store(dialog, leg: leg, forkIndex: toCaller ? nil : winner)
            let final = try await environment.signalling.invite(reInvite, over: flow, sent: { _ in }, provisional: { _ in })
            guard final.isSuccess else {
                logger.notice("the other leg refused the hold or resume", metadata: ["leg": "\(leg)", "status": "\(final.statusCode)"])
                return
            }
            if let sequence = try? reInvite.headers.cseq().sequence, let ack = try? dialog.makeAck(forInviteSequence: sequence) {
                environment.signalling.ack(ack, over: flow)
            }
            guard phase == .answered || phase == .confirmed else { return }
            if toCaller {
                let policy = LegMedia.policy(
                    codecs: [current.codec], security: caller.security, suites: current.srtp.map { [$0.suite] } ?? CryptoSuite.supported,
                    address: mediaAddress(on: flow))
                try await applyCallerAnswer(final.body, to: offer, policy: policy)
            } else {
                try await acceptCalleeAnswer(winner, body: final.body)
            }
            logger.info("hold or resume passed on", metadata: ["leg": "\(leg)", "direction": "\(direction)"])
        } catch {
            logger.notice("the hold or resume could not be passed on", metadata: ["leg": "\(leg)", "error": "\(error)"])
        }
    }
}
