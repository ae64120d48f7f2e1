// libFuzzer entry for the SDP target, compiled into the same module as Sources/SDP:
//
//   swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name SDP \
//       Sources/SDP/*.swift Tests/Fuzz/SDPFuzz.swift -o /tmp/sdpfuzz
//   /tmp/sdpfuzz -max_total_time=60
//
// Any input may be refused with an error; what must never happen is a crash, or a description
// that does not survive serialize → parse → serialize unchanged.

private let fuzzPolicy = MediaPolicy(
    codecs: [.pcmu, .pcma, .g722, .opus],
    srtp: .optional,
    connectionAddress: "192.0.2.1",
    keyGenerator: { count in [UInt8](repeating: 0xA5, count: count) })

private let fuzzOrigin = Origin(sessionID: 1, sessionVersion: 1, address: "192.0.2.1")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let parsed = try? SessionDescription(parsing: input) else { return 0 }

    let wire = parsed.serialized()
    guard let reparsed = try? SessionDescription(parsing: wire) else {
        fatalError("the serialized form does not parse:\n\(String(decoding: wire, as: UTF8.self))")
    }
    guard reparsed == parsed, reparsed.serialized() == wire else {
        fatalError("the round trip is not stable:\n\(String(decoding: wire, as: UTF8.self))")
    }

    for media in parsed.media {
        _ = media.rtpMaps
        _ = media.telephoneEvents
        _ = media.rtcp
        _ = media.ptime
        _ = media.maxptime
        _ = parsed.direction(of: media)
        for attribute in media.attributes where attribute.name == "crypto" {
            guard let crypto = try? CryptoAttribute(parsing: attribute.value ?? "") else { continue }
            guard let again = try? CryptoAttribute(parsing: crypto.value), again == crypto else {
                fatalError("a=crypto does not round-trip: \(crypto.value)")
            }
        }
    }

    let ports = [UInt16](repeating: 40_000, count: parsed.media.count)
    if let negotiated = try? parsed.makeAnswer(policy: fuzzPolicy, localPorts: ports, origin: fuzzOrigin) {
        let answerWire = negotiated.answer.serialized()
        guard let answer = try? SessionDescription(parsing: answerWire), answer == negotiated.answer else {
            fatalError("the answer does not round-trip:\n\(String(decoding: answerWire, as: UTF8.self))")
        }
        guard answer.media.count == parsed.media.count else { fatalError("the answer changed the m= line count") }
    }
    return 0
}
