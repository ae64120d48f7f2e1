import SIP

extension SIPResponse {
    /// A 1xx or 2xx with which a UAS creates a dialog (§12.1.1): the §8.2.6 copy with our To tag
    /// (a 101-199 carries it too), every Record-Route line of the request as written and in the
    /// same order, so the caller learns the same path we did, and our Contact as the caller's
    /// remote target.
    public init(
        creatingDialogFor request: SIPRequest, statusCode: Int, reasonPhrase: String? = nil, localTag: String, contact: NameAddress
    ) {
        self.init(respondingTo: request, statusCode: statusCode, reasonPhrase: reasonPhrase, toTag: localTag)
        for route in request.headers.lines(.recordRoute) { headers.append(.recordRoute, route) }
        headers.append(.contact, contact.description)
    }
}
