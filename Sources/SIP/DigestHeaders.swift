extension SIPHeaders {
    /// The Digest credentials for `realm` among the `Authorization` (or `Proxy-Authorization`)
    /// lines, or nil when none is for that realm (RFC 3261 §22.4: a request may carry one line per
    /// realm). Lines in another scheme (e.g. RFC 4475's `NoOneKnowsThisScheme`) are skipped; a
    /// Digest line that does not parse is an error naming the header.
    public func digestCredentials(
        for realm: String, in header: SIPHeaderName = .authorization
    ) throws(SIPParseError) -> DigestCredentials? {
        for line in lines(header) {
            guard DigestCredentials.authenticationScheme(of: line)?.lowercased() == "digest" else { continue }
            let credentials = try DigestCredentials(parsing: line, header: header)
            if credentials.realm == realm { return credentials }
        }
        return nil
    }

    /// The Digest challenges among the `WWW-Authenticate` (or `Proxy-Authenticate`) lines of a
    /// 401 or 407, skipping other schemes; a Digest line that does not parse is an error.
    public func digestChallenges(in header: SIPHeaderName = .wwwAuthenticate) throws(SIPParseError) -> [DigestChallenge] {
        var challenges: [DigestChallenge] = []
        for line in lines(header) {
            guard DigestCredentials.authenticationScheme(of: line)?.lowercased() == "digest" else { continue }
            challenges.append(try DigestChallenge(parsing: line, header: header))
        }
        return challenges
    }
}
