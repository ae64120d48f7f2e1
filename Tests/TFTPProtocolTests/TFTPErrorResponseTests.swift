import Testing
import TFTPProtocol

@Suite struct TFTPErrorResponseTests {
    @Test func parseErrorsAnswerWithIllegalOperation() {
        #expect(TFTPParseError.duplicateOption("BLKSIZE").errorPacket == .error(code: .illegalOperation, message: "duplicate option"))
        #expect(TFTPParseError.unknownMode("x").errorPacket == .error(code: .illegalOperation, message: "unknown transfer mode 'x'"))
        #expect(TFTPParseError.unknownMode("\u{1}").description == "unknown transfer mode")
        #expect(TFTPParseError.missingTerminator(.filename).description == "filename is not NUL-terminated")
        #expect(TFTPParseError.oversize(length: 600, limit: 512).description == "packet of 600 bytes exceeds 512")
    }

    @Test func filenameErrorsAnswerWithAccessViolation() {
        #expect(TFTPFilenameError.parentReference.errorPacket == .error(code: .accessViolation, message: "'..' in filename"))
        #expect(TFTPFilenameError.absolute.errorPacket == .error(code: .accessViolation, message: "absolute filename"))
    }

    @Test func mailModeRefused() {
        #expect(TFTPMode.mail.refusal == .error(code: .illegalOperation, message: "transfer mode 'mail' is not supported"))
        #expect(TFTPMode.octet.refusal == nil)
        #expect(TFTPMode.netascii.refusal == nil)
    }

    @Test func errorPacketsFitAndRoundTrip() throws {
        for error in [TFTPParseError.truncated(length: 1, needed: 2), .emptyFilename, .unknownOpcode(9)] {
            let packet = error.errorPacket
            #expect(try TFTPPacket.parse(packet.serialized) == packet)
        }
    }
}
