import SIP

/// The layer above the transports (transactions and the core). Called on the event loop of the
/// channel the message arrived on; it must not block.
public protocol SIPMessageReceiver: Sendable {
    func receive(_ message: SIPMessage, from source: SIPSource)
}
