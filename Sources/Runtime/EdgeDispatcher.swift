import Edge
import SIP
import SIPTransport
import Synchronization

/// Hands what the transports receive to the edge core and carries its answers back.
final class EdgeDispatcher: SIPMessageReceiver {
    private let core: EdgeCore
    private let sender: SIPSender
    let strayResponses = Atomic<Int>(0)

    init(core: EdgeCore, sender: SIPSender) {
        self.core = core
        self.sender = sender
    }

    func receive(_ message: SIPMessage, from source: SIPSource) {
        switch message {
        case .request(let request):
            if let response = core.handle(request) {
                sender.sendResponse(response, to: source)
            }
        case .response:
            // The edge sends no requests yet, so no response can match one.
            strayResponses.add(1, ordering: .relaxed)
        }
    }
}
