/// The messages the benchmarks use: what a Cisco 8845 sends when it registers and places a call.
enum BenchmarkMessages {
    static let sdp = crlf([
        "v=0",
        "o=Cisco-SIPUA 2734 0 IN IP4 10.1.1.50",
        "s=SIP Call",
        "t=0 0",
        "m=audio 24580 RTP/SAVP 0 8 18 101",
        "c=IN IP4 10.1.1.50",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31",
        "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^31",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:18 G729/8000",
        "a=fmtp:18 annexb=no",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=sendrecv",
        "",
    ])

    static let invite = crlf([
        "INVITE sip:2002@10.1.1.1;transport=tls SIP/2.0",
        "Via: SIP/2.0/TLS 10.1.1.50:51234;branch=z9hG4bK4b43c2ff8.1;rport",
        "From: \"Reception\" <sip:2001@10.1.1.1>;tag=00112233445500021d7d7e6c-1f2e3d4c",
        "To: <sip:2002@10.1.1.1>",
        "Call-ID: 00112233-44550002-7a5b1c2d-3e4f5a6b@10.1.1.50",
        "Max-Forwards: 70",
        "Session-ID: 8e2a4c0600105000a000001122334455;remote=00000000000000000000000000000000",
        "Date: Sun, 22 Nov 2026 18:00:00 GMT",
        "CSeq: 101 INVITE",
        "User-Agent: Cisco-CP8845/14.2.1",
        "Contact: <sip:2001@10.1.1.50:51234;transport=tls>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-001122334455>\";+u.sip!devicename.ccm.cisco.com=\"SEP001122334455\"",
        "Expires: 180",
        "Accept: application/sdp",
        "Allow: ACK,BYE,CANCEL,INVITE,NOTIFY,OPTIONS,REFER,REGISTER,UPDATE,SUBSCRIBE,INFO",
        "Remote-Party-ID: \"Reception\" <sip:2001@10.1.1.1>;party=calling;id-type=subscriber;privacy=off;screen=yes",
        "Supported: replaces,join,sdp-anat,norefersub,resource-priority,extended-refer,X-cisco-callinfo",
        "Allow-Events: kpml,dialog",
        "Content-Type: application/sdp",
        "Content-Disposition: session;handling=optional",
        "Content-Length: \(sdp.count)",
        "", "",
    ]) + sdp

    static let register = crlf([
        "REGISTER sip:10.1.1.1 SIP/2.0",
        "Via: SIP/2.0/TLS 10.1.1.50:51234;branch=z9hG4bK6f1a2b3c;rport",
        "From: <sip:2001@10.1.1.1>;tag=00112233445500031bb3f2c7-5d0c5cb1",
        "To: <sip:2001@10.1.1.1>",
        "Call-ID: 00112233-44550003-4d3e2f1a-0b9c8d7e@10.1.1.50",
        "Max-Forwards: 70",
        "Date: Sun, 22 Nov 2026 18:00:00 GMT",
        "CSeq: 101 REGISTER",
        "User-Agent: Cisco-CP8845/14.2.1",
        "Contact: <sip:2001@10.1.1.50:51234;transport=tls>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-001122334455>\";reg-id=1;expires=3600",
        "Supported: replaces,join,sdp-anat,norefersub,resource-priority,extended-refer,X-cisco-callinfo,X-cisco-serviceuri,X-cisco-escapecodes,X-cisco-service-control,X-cisco-srtp-fallback,X-cisco-monrec,X-cisco-config,X-cisco-sis-7.0.0,X-cisco-xsi-8.5.1",
        "Content-Length: 0",
        "", "",
    ])

    private static func crlf(_ lines: [String]) -> [UInt8] {
        Array(lines.joined(separator: "\r\n").utf8)
    }
}
