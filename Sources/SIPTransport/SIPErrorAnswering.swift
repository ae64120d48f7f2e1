import SIP

/// Turns a message that failed to parse into the response RFC 3261 asks for, when it can be
/// addressed at all: `505` for another SIP version, `513` for an oversize message, else `400`
/// with a reason phrase naming the faulty element.
enum SIPErrorAnswering {
    static func response(for error: SIPParseError, bytes: UnsafeRawBufferPointer) -> SIPResponse? {
        guard let headers = SIPMessageParser.salvageRequestHeaders(bytes.bindMemory(to: UInt8.self)) else { return nil }
        let status = error.element == "SIP-Version" ? 505 : 400
        return SIPResponse(respondingTo: headers, statusCode: status, reasonPhrase: error.reasonPhrase, toTag: SIPIdentifiers.tag())
    }

    static func tooLarge(headerSection: UnsafeRawBufferPointer, limit: Int) -> SIPResponse? {
        guard let headers = SIPMessageParser.salvageRequestHeaders(headerSection.bindMemory(to: UInt8.self)) else { return nil }
        return SIPResponse(
            respondingTo: headers, statusCode: 513, reasonPhrase: "Message Too Large (limit \(limit) bytes)",
            toTag: SIPIdentifiers.tag())
    }
}
