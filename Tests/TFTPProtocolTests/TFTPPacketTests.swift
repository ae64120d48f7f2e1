import Testing
import TFTPProtocol

private func bytes(_ parts: [UInt8]...) -> [UInt8] { parts.flatMap { $0 } }
private func text(_ s: String) -> [UInt8] { Array(s.utf8) + [0] }

@Suite struct TFTPPacketTests {
    @Test func readRequestRoundTrip() throws {
        let wire = bytes([0, 1], text("SEP001122334455.cnf.xml"), text("octet"), text("blksize"), text("1468"), text("tsize"), text("0"))
        let packet = try TFTPPacket.parse(wire)
        let request = TFTPRequest(
            filename: "SEP001122334455.cnf.xml", mode: .octet,
            options: [TFTPOption(name: "blksize", value: "1468"), TFTPOption(name: "tsize", value: "0")])
        #expect(packet == .readRequest(request))
        #expect(packet.serialized == wire)
        #expect(packet.opcode == .readRequest)
    }

    @Test func writeRequestWithoutOptions() throws {
        let wire = bytes([0, 2], text("upload.bin"), text("netascii"))
        #expect(try TFTPPacket.parse(wire) == .writeRequest(TFTPRequest(filename: "upload.bin", mode: .netascii)))
        #expect(try TFTPPacket.parse(wire).serialized == wire)
    }

    @Test func modeAndOptionNamesAreCaseInsensitiveAndKeepSpelling() throws {
        let wire = bytes([0, 1], text("f"), text("OcTeT"), text("BLKSIZE"), text("1024"))
        guard case .readRequest(let request) = try TFTPPacket.parse(wire) else { Issue.record("not RRQ"); return }
        #expect(request.mode == .octet)
        #expect(request.modeSpelling == "OcTeT")
        #expect(request.option("blksize") == "1024")
        #expect(request.options[0].canonicalName == "blksize")
        #expect(TFTPPacket.readRequest(request).serialized == wire)
    }

    @Test func mailModeParsesButIsNotSupported() throws {
        guard case .readRequest(let request) = try TFTPPacket.parse(bytes([0, 1], text("f"), text("mail"))) else {
            Issue.record("not RRQ"); return
        }
        #expect(request.mode == .mail)
        #expect(!request.mode.isSupported)
        #expect(TFTPMode.octet.isSupported && TFTPMode.netascii.isSupported)
    }

    @Test func dataAckErrorOackRoundTrip() throws {
        let cases: [(TFTPPacket, [UInt8])] = [
            (.data(block: 0x0102, payload: [1, 2, 3]), [0, 3, 1, 2, 1, 2, 3]),
            (.data(block: 7, payload: []), [0, 3, 0, 7]),
            (.acknowledgement(block: 0xFFFF), [0, 4, 0xFF, 0xFF]),
            (.error(code: .fileNotFound, message: "File not found."), bytes([0, 5, 0, 1], text("File not found."))),
            (.error(code: .optionNegotiationFailed, message: ""), [0, 5, 0, 8, 0]),
            (.optionAcknowledgement([TFTPOption(name: "blksize", value: "1468")]), bytes([0, 6], text("blksize"), text("1468"))),
        ]
        for (packet, wire) in cases {
            #expect(packet.serialized == wire)
            #expect(try TFTPPacket.parse(wire) == packet)
        }
    }

    @Test func errorCodesHaveStandardMeanings() {
        #expect(TFTPErrorCode.allCases.map(\.rawValue) == Array(0...8))
        #expect(TFTPErrorCode.notDefined.meaning == "Not defined, see error message (if any).")
        #expect(TFTPErrorCode.fileNotFound.meaning == "File not found.")
        #expect(TFTPErrorCode.accessViolation.meaning == "Access violation.")
        #expect(TFTPErrorCode.diskFull.meaning == "Disk full or allocation exceeded.")
        #expect(TFTPErrorCode.illegalOperation.meaning == "Illegal TFTP operation.")
        #expect(TFTPErrorCode.unknownTransferID.meaning == "Unknown transfer ID.")
        #expect(TFTPErrorCode.fileAlreadyExists.meaning == "File already exists.")
        #expect(TFTPErrorCode.noSuchUser.meaning == "No such user.")
        #expect(TFTPErrorCode.optionNegotiationFailed.meaning == "Option negotiation failed.")
        #expect(TFTPPacket.error(.diskFull) == .error(code: .diskFull, message: "Disk full or allocation exceeded."))
    }

    @Test func largestDataPacketAccepted() throws {
        let payload = [UInt8](repeating: 0xAB, count: 65464)
        let packet = TFTPPacket.data(block: 1, payload: payload)
        #expect(try TFTPPacket.parse(packet.serialized) == packet)
    }

    @Test(arguments: [
        ([] as [UInt8], TFTPParseError.truncated(length: 0, needed: 2)),
        ([0], .truncated(length: 1, needed: 2)),
        ([0, 3, 0], .truncated(length: 3, needed: 4)),
        ([0, 4], .truncated(length: 2, needed: 4)),
        ([0, 5, 0], .truncated(length: 3, needed: 4)),
        ([0, 0], .unknownOpcode(0)),
        ([0, 7, 0, 0], .unknownOpcode(7)),
        ([0xFF, 0xFF], .unknownOpcode(0xFFFF)),
        ([0, 1], .missingTerminator(.filename)),
        ([0, 1, 0x61], .missingTerminator(.filename)),
        ([0, 1, 0x61, 0], .missingTerminator(.mode)),
        ([0, 1, 0x61, 0, 0x6F, 0x63], .missingTerminator(.mode)),
        ([0, 1, 0, 0x6F, 0x63, 0x74, 0x65, 0x74, 0], .emptyFilename),
        ([0, 2, 0x61, 0, 0x78, 0], .unknownMode("x")),
        ([0, 1, 0xFF, 0, 0x6F, 0x63, 0x74, 0x65, 0x74, 0], .invalidText(.filename)),
        ([0, 4, 0, 1, 0], .trailingBytes(count: 1)),
        ([0, 5, 0, 9, 0], .unknownErrorCode(9)),
        ([0, 5, 0, 1], .missingTerminator(.errorMessage)),
        ([0, 5, 0, 1, 0x78], .missingTerminator(.errorMessage)),
        ([0, 5, 0, 1, 0x78, 0, 0], .trailingBytes(count: 1)),
        ([0, 6], .emptyOptionAcknowledgement),
        ([0, 6, 0x61, 0], .missingOptionValue(name: "a")),
        ([0, 6, 0x61, 0, 0x31], .missingTerminator(.optionValue)),
        ([0, 6, 0x61], .missingTerminator(.optionName)),
        ([0, 6, 0, 0x31, 0], .emptyOptionName),
    ])
    func malformedPacketsRefused(wire: [UInt8], error: TFTPParseError) {
        #expect(throws: error) { try TFTPPacket.parse(wire) }
    }

    @Test func oddOptionListRefused() {
        let wire = bytes([0, 1], text("f"), text("octet"), text("blksize"), text("512"), text("tsize"))
        #expect(throws: TFTPParseError.missingOptionValue(name: "tsize")) { try TFTPPacket.parse(wire) }
    }

    @Test func duplicateOptionsRefusedCaseInsensitively() {
        let wire = bytes([0, 1], text("f"), text("octet"), text("blksize"), text("512"), text("BlkSize"), text("1024"))
        #expect(throws: TFTPParseError.duplicateOption("BlkSize")) { try TFTPPacket.parse(wire) }
        let oack = bytes([0, 6], text("tsize"), text("1"), text("TSIZE"), text("1"))
        #expect(throws: TFTPParseError.duplicateOption("TSIZE")) { try TFTPPacket.parse(oack) }
    }

    @Test func oversizePacketsRefused() {
        let longName = String(repeating: "a", count: 600)
        let request = bytes([0, 1], text(longName), text("octet"))
        #expect(throws: TFTPParseError.oversize(length: request.count, limit: 512)) { try TFTPPacket.parse(request) }
        let oack = bytes([0, 6], text(longName), text("1"))
        #expect(throws: TFTPParseError.oversize(length: oack.count, limit: 512)) { try TFTPPacket.parse(oack) }
        let data = [0, 3, 0, 1] + [UInt8](repeating: 0, count: 65465)
        #expect(throws: TFTPParseError.oversize(length: 65469, limit: 65468)) { try TFTPPacket.parse(data) }
        let exactly512 = bytes([0, 1], text(String(repeating: "a", count: 512 - 2 - 1 - 6)), text("octet"))
        #expect(exactly512.count == 512)
        #expect((try? TFTPPacket.parse(exactly512)) != nil)
    }

    @Test func everyPrefixOfAValidRequestIsRefusedWithoutCrashing() throws {
        let wire = bytes([0, 1], text("a/b.cfg"), text("octet"), text("blksize"), text("1468"), text("windowsize"), text("4"))
        // A prefix is a valid request only when it ends after the mode or after an option's value.
        let head = 2 + 8 + 6
        let complete: Set<Int> = [head, head + 8 + 5]
        for length in 0..<wire.count {
            let prefix = Array(wire[..<length])
            if complete.contains(length) {
                #expect(try TFTPPacket.parse(prefix).serialized == prefix)
            } else {
                #expect(throws: TFTPParseError.self) { try TFTPPacket.parse(prefix) }
            }
        }
        #expect((try? TFTPPacket.parse(wire)) != nil)
    }

    @Test func deterministicGarbageNeverCrashesAndRoundTrips() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
        for _ in 0..<20000 {
            let length = Int(next() % 40)
            var wire = (0..<length).map { _ in UInt8(truncatingIfNeeded: next() % 5 == 0 ? 0 : next()) }
            if length >= 2 { wire[0] = 0; wire[1] = UInt8(next() % 8) }
            if let packet = try? TFTPPacket.parse(wire) {
                #expect(packet.serialized == wire)
            }
        }
    }
}
