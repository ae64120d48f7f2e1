import Logging
import SDP
import SIP
import SIPDialog

/// RFC 3262 on both sides of a call.
extension B2BCall {
    /// A callee's reliable provisional: PRACKed once per RSeq in its early dialog. Returns
    /// whether it is new (a retransmission is not passed on again).
    func acknowledgeReliably(_ index: Int, _ response: SIPResponse) -> Bool {
        guard let text = response.headers[.rseq], let rseq = UInt32(text.trimmingWhitespace), let invite = forks[index].sentInvite,
            let flow = forks[index].flow
        else {
            logger.notice("a reliable provisional without a usable RSeq is ignored", metadata: ["status": "\(response.statusCode)"])
            return false
        }
        guard rseq > forks[index].lastRSeq else { return false }
        forks[index].lastRSeq = rseq
        do {
            var early = forks[index].earlyDialog
            if early == nil || early?.id.remoteTag != ((try? response.headers.to().tag) ?? nil) {
                early = try Dialog(asUACFor: invite, response: response)
            }
            guard var dialog = early else { return false }
            let prack = try dialog.makeRequest(.prack, headers: [(.rack, "\(rseq) \(forks[index].inviteSequence) INVITE")])
            forks[index].earlyDialog = dialog
            let signalling = environment.signalling
            let deadline = environment.settings.requestDeadline
            let logger = self.logger
            Task {
                do {
                    let answer = try await signalling.request(prack, over: flow, deadline: deadline)
                    if !answer.isSuccess { logger.notice("PRACK refused", metadata: ["status": "\(answer.statusCode)"]) }
                } catch {
                    logger.notice("PRACK not answered", metadata: ["error": "\(error)"])
                }
            }
        } catch {
            logger.warning("cannot PRACK the callee's provisional", metadata: ["error": "\(error)"])
        }
        return true
    }

    /// A provisional to the caller: reliable (RSeq, retransmitted until PRACKed, §3) when the
    /// caller requires it, otherwise as is; never forced on a caller that does not ask.
    func sendProvisional(_ provisional: SIPResponse) {
        guard caller.requiresReliableProvisionals else {
            caller.reply(provisional)
            return
        }
        var reliable = provisional
        caller.lastRSeq += 1
        let rseq = caller.lastRSeq
        reliable.headers.append(.require, "100rel")
        reliable.headers.append(.rseq, "\(rseq)")
        caller.unacknowledged[rseq] = reliable
        caller.reply(reliable)
        let send = caller.reply
        let message = reliable
        Task {
            var interval = Duration.milliseconds(500)
            var waited = Duration.zero
            while waited < .seconds(32) {
                try? await Task.sleep(for: interval)
                guard self.isUnacknowledged(rseq) else { return }
                send(message)
                waited += interval
                interval = min(interval * 2, .seconds(4))
            }
        }
    }

    func isUnacknowledged(_ rseq: UInt32) -> Bool {
        phase == .proceeding && caller.unacknowledged[rseq] != nil
    }

    /// The caller's PRACK: it names an RSeq the edge sent reliably, or it gets 481.
    func prack(_ request: SIPRequest, reply: @escaping @Sendable (SIPResponse) -> Void) {
        let fields = (request.headers[.rack] ?? "").split(separator: " ")
        guard fields.count == 3, let rseq = UInt32(fields[0]), caller.unacknowledged.removeValue(forKey: rseq) != nil else {
            reply(response(to: request, 481, "Call/Transaction Does Not Exist", tagged: false))
            return
        }
        reply(response(to: request, 200, "OK", tagged: false))
    }

    /// §3: a 2xx waits for the PRACK of a reliable provisional that carried the answer.
    func waitForPRACKOfEarlyAnswer() async {
        let deadline = ContinuousClock.now + .seconds(8)
        while phase == .proceeding, caller.unacknowledged.values.contains(where: { !$0.body.isEmpty }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
