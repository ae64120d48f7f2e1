// Realistic descriptions in canonical form (CRLF, RFC 8866 order), so that parse → serialize
// must give back the same bytes. Keys are made up but have the right length for their suite.

func sdp(_ lines: String...) -> String {
    lines.map { $0 + "\r\n" }.joined()
}

enum Fixtures {
    /// Cisco 88xx, SRTP (deviceSecurityMode 3): RTP/SAVP with the four suites.
    static let ciscoOffer = sdp(
        "v=0",
        "o=Cisco-SIPUA 28016 0 IN IP4 10.20.30.41",
        "s=SIP Call",
        "b=AS:4064",
        "t=0 0",
        "m=audio 26930 RTP/SAVP 114 9 124 0 8 116 18 101",
        "c=IN IP4 10.20.30.41",
        "b=TIAS:64000",
        "a=rtpmap:114 opus/48000/2",
        "a=fmtp:114 maxplaybackrate=16000;sprop-maxcapturerate=16000;maxaveragebitrate=64000;stereo=0;sprop-stereo=0;usedtx=0",
        "a=rtpmap:9 G722/8000",
        "a=rtpmap:124 ISAC/16000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:116 iLBC/8000",
        "a=fmtp:116 mode=20",
        "a=rtpmap:18 G729/8000",
        "a=fmtp:18 annexb=yes",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=crypto:1 AEAD_AES_256_GCM inline:HogGGnYz/Gkihby1bhM0PqujUKWBWm5AFoK4a9Efjkzaqiu0XkKMzh/mkxM=|2^48",
        "a=crypto:2 AEAD_AES_128_GCM inline:uWCI5F4r1ocBcdSptEaBFKy7VpgdvvaytvifRA==|2^48",
        "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:aW1tyLf+b/xb+PSIakSGEVU0+dBLsi+I4vkGhlJL|2^31",
        "a=crypto:4 AES_CM_128_HMAC_SHA1_32 inline:vtVVHbpoQygyTczLfq3eYWEFnoYgay7xs7ApYK1Y|2^31",
        "a=sendrecv",
        "a=trafficclass:conversational.audio.avconf.aq:admitted"
    )

    /// Yealink T5x with `srtp_encryption = 1` (optional): RTP/AVP carrying a=crypto.
    static let yealinkOffer = sdp(
        "v=0",
        "o=- 20014 20014 IN IP4 192.168.1.50",
        "s=SDP data",
        "c=IN IP4 192.168.1.50",
        "t=0 0",
        "m=audio 11800 RTP/AVP 0 8 18 9 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:18 G729/8000",
        "a=fmtp:18 annexb=no",
        "a=rtpmap:9 G722/8000",
        "a=fmtp:101 0-15",
        "a=rtpmap:101 telephone-event/8000",
        "a=ptime:20",
        "a=sendrecv",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:9FlYal4HiCm/wV4BB4yK1TRWUEheUzXxJxJqNJ+z",
        "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:cqby5gMp7Pr3EOqGet6VaN9ziqQS9edZZX2Vj64s"
    )

    /// baresip with SDES (mediaenc srtp-mand), RFC 3605 a=rtcp and rtcp-mux.
    static let baresipOffer = sdp(
        "v=0",
        "o=- 1883574731 2106458931 IN IP4 192.168.1.10",
        "s=-",
        "c=IN IP4 192.168.1.10",
        "t=0 0",
        "a=tool:baresip 3.10.1",
        "m=audio 10002 RTP/SAVP 96 9 0 8 101",
        "b=AS:109",
        "a=rtpmap:96 opus/48000/2",
        "a=fmtp:96 stereo=1;sprop-stereo=1;useinbandfec=1",
        "a=rtpmap:9 G722/8000/1",
        "a=rtpmap:0 PCMU/8000/1",
        "a=rtpmap:8 PCMA/8000/1",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=rtcp-rsize",
        "a=sendrecv",
        "a=label:1",
        "a=rtcp:10003 IN IP4 192.168.1.10",
        "a=rtcp-mux",
        "a=ssrc:1873239463 cname:4c5b7a2e-6e5d-4c1e-9a1d-2f0c1d9f3b7a",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PX6FGwMeIxc7Ifl7XRSdRrKT1tkBgu1ethVHLAMQ",
        "a=ptime:20"
    )

    /// RFC 4568 §8.1, offer (folded lines joined).
    static let rfc4568Offer = sdp(
        "v=0",
        "o=sam 2890844526 2890842807 IN IP4 10.47.16.5",
        "s=SRTP Discussion",
        "i=A discussion of Secure RTP",
        "u=http://www.example.com/seminars/srtp.pdf",
        "e=marge@example.com (Marge Simpson)",
        "c=IN IP4 168.2.17.12",
        "t=2873397496 2873404696",
        "m=audio 49170 RTP/SAVP 0",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4 FEC_ORDER=FEC_SRTP",
        "a=crypto:2 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4;inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4 FEC_ORDER=FEC_SRTP",
        "m=video 51372 RTP/SAVP 31",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:4",
        "m=application 32416 udp wb",
        "a=orient:portrait"
    )

    /// RFC 4568 §8.1, answer.
    static let rfc4568Answer = sdp(
        "v=0",
        "o=jill 25690844 8070842634 IN IP4 10.47.16.5",
        "s=SRTP Discussion",
        "i=A discussion of Secure RTP",
        "u=http://www.example.com/seminars/srtp.pdf",
        "e=homer@example.com (Homer Simpson)",
        "c=IN IP4 168.2.17.11",
        "t=2873397526 2873405696",
        "m=audio 32640 RTP/SAVP 0",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4",
        "m=video 49170 RTP/SAVP 31",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:YUJDZGVmZ2hpSktMbW9QUXJzVHVWd3l6MTIzNDU2|1066:4",
        "m=application 32416 udp wb",
        "a=orient:portrait"
    )

    /// RFC 3264 §10.1, offer (note the empty s=).
    static let rfc3264Offer = sdp(
        "v=0",
        "o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com",
        "s=",
        "c=IN IP4 host.atlanta.example.com",
        "t=0 0",
        "m=audio 49170 RTP/AVP 0 8 97",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:97 iLBC/8000",
        "m=video 51372 RTP/AVP 31 32",
        "a=rtpmap:31 H261/90000",
        "a=rtpmap:32 MPV/90000"
    )

    /// RFC 3264 §10.1, answer.
    static let rfc3264Answer = sdp(
        "v=0",
        "o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com",
        "s=",
        "c=IN IP4 host.biloxi.example.com",
        "t=0 0",
        "m=audio 49174 RTP/AVP 0",
        "a=rtpmap:0 PCMU/8000",
        "m=video 49170 RTP/AVP 32",
        "a=rtpmap:32 MPV/90000"
    )

    /// Lines out of RFC 8866 order (t= before c=, as printed in RFC 3264 §10.2) and a video
    /// stream the offerer disabled. Not canonical: the serializer moves c= before t=.
    static let outOfOrderOffer = sdp(
        "v=0",
        "o=carol 28908764872 28908764872 IN IP4 100.3.6.6",
        "s=-",
        "t=0 0",
        "c=IN IP4 192.0.2.4",
        "m=audio 49170 RTP/AVP 0 1 3",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:1 1016/8000",
        "a=rtpmap:3 GSM/8000",
        "m=video 0 RTP/AVP 31 34",
        "a=rtpmap:31 H261/90000",
        "a=rtpmap:34 H263/90000"
    )

    /// RFC 8866 §5 style session with every session-level line type, multicast, repeat and zone.
    static let fullSession = sdp(
        "v=0",
        "o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1",
        "s=Call to John Smith",
        "i=SDP Offer #1",
        "u=http://www.jdoe.example.com/home.html",
        "e=Jane Doe <jane@jdoe.example.com>",
        "p=+1 617 555-6011",
        "c=IN IP4 233.252.0.1/127/3",
        "b=CT:128",
        "t=3724394400 3724398000",
        "r=7d 1h 0 25h",
        "z=2882844526 -1h 2898848070 0",
        "t=3724480800 3724484400",
        "k=prompt",
        "a=recvonly",
        "m=audio 49170/2 RTP/AVP 0",
        "i=Main audio",
        "c=IN IP6 ff1e:db8::1/3",
        "b=AS:64",
        "k=clear:secret",
        "m=video 51372 RTP/AVP 99",
        "c=IN IP6 2001:db8::2",
        "a=rtpmap:99 h263-1998/90000"
    )

    static let canonical: [(name: String, text: String)] = [
        ("Cisco", ciscoOffer),
        ("Yealink", yealinkOffer),
        ("baresip", baresipOffer),
        ("RFC 4568 offer", rfc4568Offer),
        ("RFC 4568 answer", rfc4568Answer),
        ("RFC 3264 offer", rfc3264Offer),
        ("RFC 3264 answer", rfc3264Answer),
        ("full session", fullSession),
    ]
}
