import NIOCore
import SIP

/// RFC 3261 §18.2.1 and RFC 3581 §4: a server notes where a request really came from in its top
/// Via, so responses find their way back through NAT.
enum ViaAnnotation {
    static func annotate(_ request: inout SIPRequest, remote: SocketAddress) {
        guard let ip = remote.ipAddress else { return }
        annotate(&request, remoteIP: ip, remotePort: remote.port)
    }

    /// With the address already as text: a connection's peer does not change between messages.
    static func annotate(_ request: inout SIPRequest, remoteIP ip: String, remotePort: Int?) {
        guard var via = try? request.headers.topVia() else { return }
        var changed = false
        if via.host.trimmingCharacters(in: "[]") != ip || via.requestsRport {
            via.parameters.set("received", ip)
            changed = true
        }
        if via.requestsRport, let port = remotePort {
            via.parameters.set("rport", String(port))
            changed = true
        }
        if changed { request.headers.replaceTopVia(with: via) }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text.removeFirst() }
        while let last = text.last, set.contains(last) { text.removeLast() }
        return String(text)
    }
}
