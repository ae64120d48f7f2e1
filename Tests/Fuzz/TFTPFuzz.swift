// libFuzzer entry for the TFTP packet parser, compiled together with Sources/TFTPProtocol as one
// module. Any crash, hang or sanitizer report is a finding; so is a packet whose serialized form
// does not parse back to an equal packet with the same bytes. Parsed requests also go through
// option negotiation and filename normalisation, which must not trap on any input.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTFTPParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let packet: TFTPPacket
    do {
        packet = try TFTPPacket.parse(bytes)
    } catch {
        // The answer to a bad datagram must itself be a valid packet.
        guard (try? TFTPPacket.parse(error.errorPacket.serialized)) != nil else {
            fatalError("ERROR answer to a parse failure does not parse")
        }
        return 0
    }
    let serialized = packet.serialized
    guard serialized == bytes else {
        fatalError("serialized form differs from the parsed bytes")
    }
    guard let reparsed = try? TFTPPacket.parse(serialized) else {
        fatalError("serialized form of a parsed packet does not parse")
    }
    guard reparsed == packet else {
        fatalError("re-parsed packet differs")
    }
    switch packet {
    case .readRequest(let request), .writeRequest(let request):
        _ = TFTPNegotiation.negotiate(request, isRead: true, transferSize: UInt64(size))
        _ = TFTPNegotiation.negotiate(request, isRead: false, transferSize: nil)
        do {
            _ = try TFTPFilename.normalise(request.filename)
        } catch {
            _ = error.errorPacket.serialized
        }
    case .data(_, let payload):
        let decoded = Netascii.decode(payload)
        guard Netascii.decode(Netascii.encode(decoded)) == decoded else {
            fatalError("netascii round trip differs")
        }
    default:
        break
    }
    return 0
}
