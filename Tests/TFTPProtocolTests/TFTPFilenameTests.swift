import Testing
import TFTPProtocol

@Suite struct TFTPFilenameTests {
    @Test(arguments: [
        ("SEP001122334455.cnf.xml", "SEP001122334455.cnf.xml"),
        ("a/b/c.cfg", "a/b/c.cfg"),
        ("./a/./b", "a/b"),
        ("y000000000000.cfg", "y000000000000.cfg"),
        ("dir/file with space", "dir/file with space"),
    ])
    func acceptedNames(name: String, normalised: String) throws {
        #expect(try TFTPFilename.normalise(name) == normalised)
    }

    @Test(arguments: [
        ("", TFTPFilenameError.empty),
        (".", .empty),
        ("./.", .empty),
        ("/etc/passwd", .absolute),
        ("//x", .absolute),
        ("..", .parentReference),
        ("a/../../etc/passwd", .parentReference),
        ("a/..", .parentReference),
        ("a\\b", .backslash),
        ("..\\windows", .backslash),
        ("a//b", .emptyComponent),
        ("a/", .emptyComponent),
        ("a\u{0}b", .nonPrintable(offset: 1)),
        ("\u{7F}", .nonPrintable(offset: 0)),
        ("a\nb", .nonPrintable(offset: 1)),
        ("é", .nonPrintable(offset: 0)),
    ])
    func refusedNames(name: String, error: TFTPFilenameError) {
        #expect(throws: error) { try TFTPFilename.normalise(name) }
    }

    @Test func overLongNamesRefused() throws {
        let name = String(repeating: "a", count: 256)
        #expect(throws: TFTPFilenameError.tooLong(length: 256, limit: 255)) { try TFTPFilename.normalise(name) }
        #expect(try TFTPFilename.normalise(String(name.dropLast())) == String(name.dropLast()))
        #expect(throws: TFTPFilenameError.tooLong(length: 5, limit: 4)) { try TFTPFilename.normalise("abcde", maximumLength: 4) }
    }
}

@Suite struct NetasciiTests {
    @Test func encodeLineEndsAndBareCR() {
        #expect(Netascii.encode(Array("a\nb\rc".utf8)) == [0x61, 0x0D, 0x0A, 0x62, 0x0D, 0x00, 0x63])
        #expect(Netascii.encode([UInt8]()) == [])
        #expect(Netascii.encodedCount(Array("a\nb\rc".utf8)) == 7)
    }

    @Test func decodeLineEndsAndBareCR() {
        #expect(Netascii.decode([0x61, 0x0D, 0x0A, 0x62, 0x0D, 0x00, 0x63]) == Array("a\nb\rc".utf8))
        // A CR followed by neither LF nor NUL is kept; a CR at the very end is kept.
        #expect(Netascii.decode([0x0D, 0x61]) == [0x0D, 0x61])
        #expect(Netascii.decode([0x61, 0x0D]) == [0x61, 0x0D])
    }

    @Test func roundTrip() {
        let samples: [[UInt8]] = [Array("line1\nline2\r\nx\r".utf8), [0x0D, 0x0D, 0x0A, 0x00, 0x0A], Array(0...255)]
        for sample in samples {
            #expect(Netascii.decode(Netascii.encode(sample)) == sample)
            #expect(Netascii.encode(sample).count == Netascii.encodedCount(sample))
        }
    }

    @Test func crAtTheEndOfABlockWaitsForTheNextBlock() {
        var decoder = NetasciiDecoder()
        #expect(decoder.decode([0x61, 0x0D]) == [0x61])
        #expect(decoder.decode([0x0A, 0x62]) == [0x0A, 0x62])
        #expect(decoder.decode([0x63, 0x0D]) == [0x63])
        #expect(decoder.decode([0x00]) == [0x0D])
        #expect(decoder.decode([0x0D]) == [])
        #expect(decoder.decode([0x64]) == [0x0D, 0x64])
        #expect(decoder.decode([0x0D]) == [])
        #expect(decoder.finish() == [0x0D])
        #expect(decoder.finish() == [])
    }

    @Test func encodedStreamSplitAtEveryBoundaryDecodesTheSame() {
        let original = Array("a\r\nb\rc\n\r".utf8)
        let encoded = Netascii.encode(original)
        for split in 0...encoded.count {
            var decoder = NetasciiDecoder()
            let out = decoder.decode(encoded[..<split]) + decoder.decode(encoded[split...]) + decoder.finish()
            #expect(out == original)
        }
    }
}
