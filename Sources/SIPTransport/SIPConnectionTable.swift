import NIOCore
import Synchronization

/// The open sockets SIP can send on: stream connections and datagram listeners, by id. A
/// response or a request to a registered phone goes back over the connection it came on.
public final class SIPConnectionTable: Sendable {
    public struct Entry: Sendable {
        public let channel: any Channel
        public let transport: SIPTransportKind
    }

    private let entries = Mutex<[SIPConnectionID: Entry]>([:])
    private let nextID = Atomic<UInt64>(1)

    public init() {}

    public func register(_ channel: any Channel, transport: SIPTransportKind) -> SIPConnectionID {
        let id = SIPConnectionID(rawValue: nextID.add(1, ordering: .relaxed).oldValue)
        entries.withLock { $0[id] = Entry(channel: channel, transport: transport) }
        return id
    }

    public func remove(_ id: SIPConnectionID) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }

    /// The id a channel was registered under (a connection the edge opened looks up its own).
    public func id(of channel: any Channel) -> SIPConnectionID? {
        entries.withLock { entries in entries.first { $0.value.channel === channel }?.key }
    }

    /// A listening socket of `transport` (a datagram socket not connected to one peer), to send
    /// requests from.
    public func firstListener(of transport: SIPTransportKind) -> SIPConnectionID? {
        entries.withLock { entries in
            entries.filter { $0.value.transport == transport && $0.value.channel.remoteAddress == nil }.min { $0.key.rawValue < $1.key.rawValue }?.key
        }
    }

    public func entry(_ id: SIPConnectionID) -> Entry? {
        entries.withLock { $0[id] }
    }

    public func count(of transport: SIPTransportKind) -> Int {
        entries.withLock { $0.values.filter { $0.transport == transport }.count }
    }
}
