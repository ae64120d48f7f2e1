import SIP

/// What the edge tells peers about itself in Allow, Accept, Supported and Server.
public struct EdgeCapabilities: Sendable {
    /// Methods the edge serves now; grows as registrar and calls arrive.
    public var allowedMethods: [SIPMethod]
    public var acceptedContentTypes: [String]
    public var supportedExtensions: [String]
    public var serverName: String

    public init(
        allowedMethods: [SIPMethod] = [.options],
        acceptedContentTypes: [String] = ["application/sdp"],
        supportedExtensions: [String] = ["path", "outbound"],
        serverName: String = "Outpost"
    ) {
        self.allowedMethods = allowedMethods
        self.acceptedContentTypes = acceptedContentTypes
        self.supportedExtensions = supportedExtensions
        self.serverName = serverName
    }
}

/// The checks RFC 3261 §8.2 asks of a UAS before it looks at a request's method, and the answers
/// for what the edge does not serve. Pure: a request in, a response (or nothing) out.
public struct RequestPolicy: Sendable {
    public let capabilities: EdgeCapabilities

    /// Methods SIP defines that the edge recognises but does not serve (`405`); any other method
    /// is unknown (`501`), as RFC 3261 §8.2.1 distinguishes.
    static let recognisedMethods: Set<SIPMethod> = [
        .invite, .ack, .bye, .cancel, .register, .options, .info, .update, .prack, .subscribe, .notify, .refer,
        .message, .publish,
    ]

    /// Allow's value, joined once rather than for every response.
    private let allow: String

    public init(capabilities: EdgeCapabilities) {
        self.capabilities = capabilities
        self.allow = capabilities.allowedMethods.map(\.rawValue).joined(separator: ", ")
    }

    public enum Decision: Equatable, Sendable {
        /// The request passed the checks; the method's own handler answers it.
        case serve
        /// The policy answered it.
        case respond(SIPResponse)
        /// Nothing is sent (an ACK, which never has a response).
        case absorb
    }

    public func evaluate(_ request: SIPRequest) -> Decision {
        if request.method == .ack { return .absorb }
        guard request.uri.sipURI != nil || request.uri.scheme == "tel" else {
            return .respond(response(to: request, 416, reason: "Unsupported URI Scheme (\(request.uri.scheme))"))
        }
        guard Self.recognisedMethods.contains(request.method) else {
            return .respond(response(to: request, 501, reason: "Not Implemented"))
        }
        let unsupported = request.headers.tokens(.require).filter { !capabilities.supportedExtensions.contains($0) }
        if !unsupported.isEmpty, request.method != .cancel {
            var answer = response(to: request, 420, reason: "Bad Extension")
            answer.headers.append(.unsupported, unsupported.joined(separator: ", "))
            return .respond(answer)
        }
        guard capabilities.allowedMethods.contains(request.method) else {
            if request.method == .cancel {
                return .respond(response(to: request, 481, reason: "Call/Transaction Does Not Exist"))
            }
            return .respond(response(to: request, 405, reason: "Method Not Allowed"))
        }
        return .serve
    }

    /// The answer to OPTIONS (RFC 3261 §11.2): what the edge can do, with no body.
    public func optionsResponse(to request: SIPRequest) -> SIPResponse {
        var answer = response(to: request, 200, reason: "OK")
        answer.headers.append(.accept, capabilities.acceptedContentTypes.joined(separator: ", "))
        answer.headers.append(.supported, capabilities.supportedExtensions.joined(separator: ", "))
        return answer
    }

    /// Every response carries Allow and Server, so peers learn what they may ask for.
    public func response(to request: SIPRequest, _ status: Int, reason: String) -> SIPResponse {
        var answer = SIPResponse(respondingTo: request, statusCode: status, reasonPhrase: reason, toTag: SIPIdentifiers.tag())
        answer.headers.append(.allow, allow)
        answer.headers.append(.server, capabilities.serverName)
        return answer
    }
}
