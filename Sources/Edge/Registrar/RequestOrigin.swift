/// Where a request came from, as the domain sees it: the flow, and for TLS the names the
/// peer's verified certificate carries.
public struct RequestOrigin: Sendable, Hashable {
    public var flow: BindingFlow
    /// The certificate's subject CN, SAN URIs and DNS names; nil when no certificate was verified
    /// (plain UDP/TCP, or a TLS listener that does not ask for one).
    public var certificateNames: [String]?

    public init(flow: BindingFlow, certificateNames: [String]? = nil) {
        self.flow = flow
        self.certificateNames = certificateNames
    }
}
