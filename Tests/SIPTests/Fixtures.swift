/// Realistic messages as phones send them, in canonical form (so serialization is byte-exact).
enum Fixtures {
    static let register = lines(
        "REGISTER sip:10.1.1.1 SIP/2.0",
        "Via: SIP/2.0/TLS 10.1.1.50:51234;branch=z9hG4bK6f1a2b3c;rport",
        "From: \"Reception\" <sip:2001@10.1.1.1>;tag=a1b2c3d4",
        "To: <sip:2001@10.1.1.1>",
        "Call-ID: 0011223344556677-00000001@10.1.1.50",
        "Max-Forwards: 70",
        "CSeq: 101 REGISTER",
        "Contact: <sip:2001@10.1.1.50:51234;transport=tls>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-001122334455>\";reg-id=1",
        "User-Agent: Cisco-CP8845/14.2.1",
        "Expires: 3600",
        "Supported: outbound,path,gruu",
        "Content-Length: 0",
        "", "")

    static let sdpBody = lines(
        "v=0",
        "o=Cisco-SIPUA 2734 0 IN IP4 10.1.1.50",
        "s=SIP Call",
        "t=0 0",
        "m=audio 24580 RTP/SAVP 0 8 101",
        "c=IN IP4 10.1.1.50",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=sendrecv",
        "")

    static let invite = lines(
        "INVITE sip:2002@10.1.1.1;transport=tls SIP/2.0",
        "Via: SIP/2.0/TLS 10.1.1.50:51234;branch=z9hG4bK4b43c2ff8.1;rport",
        "From: \"Reception\" <sip:2001@10.1.1.1>;tag=00112233445500021d7d7e6c-1f2e3d4c",
        "To: <sip:2002@10.1.1.1>",
        "Call-ID: 00112233-44550002-7a5b1c2d-3e4f5a6b@10.1.1.50",
        "Max-Forwards: 70",
        "Session-ID: 8e2a4c0600105000a000001122334455;remote=00000000000000000000000000000000",
        "CSeq: 101 INVITE",
        "User-Agent: Cisco-CP8845/14.2.1",
        "Contact: <sip:2001@10.1.1.50:51234;transport=tls>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-001122334455>\"",
        "Expires: 180",
        "Accept: application/sdp",
        "Allow: ACK,BYE,CANCEL,INVITE,NOTIFY,OPTIONS,REFER,REGISTER,UPDATE,SUBSCRIBE,INFO",
        "Supported: replaces,join,sdp-anat,norefersub,resource-priority,extended-refer,X-cisco-callinfo",
        "Content-Type: application/sdp",
        "Content-Disposition: session;handling=optional",
        "Content-Length: \(sdpBody.count)",
        "", "") + sdpBody

    static func lines(_ lines: String...) -> [UInt8] {
        Array(lines.joined(separator: "\r\n").utf8)
    }
}
