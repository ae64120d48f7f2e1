// libFuzzer entry for the SIP message parser, compiled together with Sources/SIP as one module
// by Tests/Fuzz/run-fuzzers. Any crash, hang or sanitizer report is a finding; so is a message
// whose canonical form does not parse back to the same canonical form.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSIPParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let message = try? SIPMessageParser.parse(bytes) else { return 0 }
    let canonical = message.serialized
    guard let reparsed = try? SIPMessageParser.parse(canonical) else {
        fatalError("canonical form of a parsed message does not parse")
    }
    guard reparsed.serialized == canonical else {
        fatalError("canonical form is not stable")
    }
    _ = try? message.headers.vias()
    _ = try? message.headers.contacts()
    _ = try? message.headers.addresses(.route)
    return 0
}
