import Foundation
import Glibc
import Testing
import TrunkIPsec
import XFRM

@Suite("Trunk key file: format, hostile input, permissions")
struct TrunkKeyFileTests {
    let configuration = TrunkFixtures.configuration()

    func problems(_ text: String, configuration: TrunkProtectionConfiguration? = nil) -> [String] {
        do throws(TrunkKeyFileError) {
            _ = try TrunkKeyFile.parse(text: text, file: "k", configuration: configuration ?? self.configuration)
            return []
        } catch {
            return error.problems.map { "\($0.line): \($0.message)" }
        }
    }

    @Test(arguments: TrunkCipherSuite.allCases)
    func validFilesParseForEverySuite(suite: TrunkCipherSuite) throws {
        let keys = try TrunkFixtures.keys(suite: suite)
        #expect(keys.entries.count == 4)
        let out = try #require(keys.entry(peer: TrunkFixtures.manager4, direction: .outbound))
        #expect(out.spi == 0x1000)
        #expect(out.line == 4)
        switch out.algorithms {
        case .aead(let name, let key, let icv):
            #expect(suite.isAEAD)
            #expect(name == "rfc4106(gcm(aes))")
            #expect(key.count == suite.cipherKeyBytes)
            #expect(icv == 128)
        case .cipherAndAuthentication(let cipher, let cipherKey, let auth, let authKey, let truncation):
            #expect(!suite.isAEAD)
            #expect(cipher == "cbc(aes)" && auth == "hmac(sha256)")
            #expect(cipherKey.count == suite.cipherKeyBytes && authKey.count == 32 && truncation == 128)
        }
        // Descriptions never carry key material.
        let hexKey = TrunkFixtures.hex(bytes: suite.cipherKeyBytes, seed: 1).dropFirst(2)
        #expect(!keys.description.contains(hexKey))
    }

    @Test func quotedAlgorithmNamesAndCommentsAreAccepted() throws {
        let text = """
            # copied from a shell line
            outpost-ipsec-keys 1   # version
            sa 192.0.2.10 out spi 4096 aead 'rfc4106(gcm(aes))' \(TrunkFixtures.hex(bytes: 36, seed: 1)) 128
            sa 192.0.2.10 in spi 0x1001 aead "rfc4106(gcm(aes))" \(TrunkFixtures.hex(bytes: 36, seed: 2)) 128
            """
        let keys = try TrunkKeyFile.parse(text: text, file: "k", configuration: TrunkFixtures.configuration(managers: [TrunkFixtures.manager4]))
        #expect(keys.entries.map(\.spi) == [0x1000, 0x1001])
    }

    @Test func wrongKeyLengthsNameTheSuiteAndTheSize() {
        let short = TrunkFixtures.keyFile().replacingOccurrences(
            of: TrunkFixtures.hex(bytes: 36, seed: 1), with: TrunkFixtures.hex(bytes: 20, seed: 1))
        let found = problems(short)
        #expect(found == ["4: key is 20 bytes (40 hex digits); suite aes256gcm16 needs 36 bytes (32-byte AES-256 key followed by the 4-byte salt)"])

        let cbc = TrunkFixtures.configuration(suite: .aes128sha256)
        let wrongAuth = TrunkFixtures.keyFile(suite: .aes128sha256).replacingOccurrences(
            of: TrunkFixtures.hex(bytes: 32, seed: 101), with: TrunkFixtures.hex(bytes: 20, seed: 101))
        #expect(problems(wrongAuth, configuration: cbc) == ["4: authentication key is 20 bytes (40 hex digits); suite aes128-sha256 needs 32 bytes (HMAC-SHA-256 key, RFC 4868)"])
    }

    @Test func badHexIsRefusedWithoutEchoingTheKey() {
        var key = TrunkFixtures.hex(bytes: 36, seed: 1)
        key = String(key.prefix(10)) + "g" + String(key.dropFirst(11))
        let text = TrunkFixtures.keyFile().replacingOccurrences(of: TrunkFixtures.hex(bytes: 36, seed: 1), with: key)
        let found = problems(text)
        #expect(found == ["4: key is not hexadecimal: 'g' at digit 9"])
        #expect(!found.joined().contains(key.dropFirst(2).prefix(8)))

        let odd = TrunkFixtures.keyFile().replacingOccurrences(of: TrunkFixtures.hex(bytes: 36, seed: 1), with: TrunkFixtures.hex(bytes: 36, seed: 1) + "a")
        #expect(problems(odd).first?.contains("odd number of hex digits (73)") == true)
    }

    @Test func duplicateSPIsAndDuplicateEntriesAreRefused() {
        let duplicateSPI = TrunkFixtures.keyFile().replacingOccurrences(of: "spi 0x1001", with: "spi 0x1000")
        #expect(problems(duplicateSPI) == ["5: SPI 0x00001000 is already used on line 4; every SA needs its own SPI"])

        let duplicateEntry = TrunkFixtures.keyFile().replacingOccurrences(of: "sa 192.0.2.10 in", with: "sa 192.0.2.10 out")
        #expect(problems(duplicateEntry) == ["5: sa 192.0.2.10 out is given twice (first on line 4); one SA per call manager and direction"])
    }

    @Test func reservedSPIsUnknownPeersAndSyntax() {
        #expect(problems(TrunkFixtures.keyFile().replacingOccurrences(of: "spi 0x1000", with: "spi 0xff"))
            == ["4: SPI 0x000000ff is reserved (RFC 4303 reserves 0 to 255); use 0x100 or above"])
        #expect(problems(TrunkFixtures.keyFile().replacingOccurrences(of: "spi 0x1000", with: "spi 0x1ffffffff")).first?
            .contains("is not a 32-bit number") == true)
        #expect(problems(TrunkFixtures.keyFile().replacingOccurrences(of: "sa 192.0.2.10 out", with: "sa 192.0.2.99 out")).first
            == "4: 192.0.2.99 is not a call manager of the configuration (call_managers: 192.0.2.10, 2001:db8::10)")
        #expect(problems(TrunkFixtures.keyFile().replacingOccurrences(of: "sa 192.0.2.10 out", with: "sa 192.0.2.10 outbound")).first
            == "4: direction \"outbound\" must be out (edge to call manager) or in (call manager to edge)")
        #expect(problems("outpost-ipsec-keys 2\n") == ["1: unsupported key file version \"2\"; this edge reads version 1"])
        #expect(problems("sa 1.2.3.4 out\n") == ["1: expected \"outpost-ipsec-keys 1\" as the first line that is not a comment"])
        #expect(problems("# nothing\n") == ["0: is empty; a key file starts with \"outpost-ipsec-keys 1\""])
    }

    @Test func suiteMismatchAndICVAreRefused() {
        let cbcText = TrunkFixtures.keyFile(suite: .aes256sha256)
        #expect(problems(cbcText).first?.hasPrefix("4: transform \"enc ...\" does not match suite aes256gcm16, which expects \"aead rfc4106(gcm(aes)) 0x<72 hex digits> 128\"") == true)
        let icv = TrunkFixtures.keyFile().replacingOccurrences(of: " 128\nsa 192.0.2.10 in", with: " 96\nsa 192.0.2.10 in")
        #expect(problems(icv) == ["4: ICV length 96 is not supported; suite aes256gcm16 uses 128 bits"])
    }

    @Test func missingDirectionsIdenticalAndZeroKeysAreRefused() {
        let lines = TrunkFixtures.keyFile().split(separator: "\n").filter { !$0.contains("2001:db8::10 in") }
        #expect(problems(lines.joined(separator: "\n")) == ["0: no \"sa 2001:db8::10 in\" line: the edge has no key to receive from this call manager"])

        let same = TrunkFixtures.keyFile().replacingOccurrences(of: TrunkFixtures.hex(bytes: 36, seed: 2), with: TrunkFixtures.hex(bytes: 36, seed: 1))
        #expect(problems(same) == ["5: the in and out keys for 192.0.2.10 are identical (line 4); each direction needs its own key"])

        let zero = TrunkFixtures.keyFile().replacingOccurrences(of: TrunkFixtures.hex(bytes: 36, seed: 1), with: "0x" + String(repeating: "00", count: 36))
        #expect(problems(zero) == ["4: key is all zeros; generate random keys (outpost ipsec keygen)"])
    }

    @Test func everyProblemIsReportedAtOnce() {
        var text = TrunkFixtures.keyFile()
        text = text.replacingOccurrences(of: "spi 0x1001", with: "spi 0x1000")
        text = text.replacingOccurrences(of: "sa 2001:db8::10 out spi 0x1002", with: "sa 2001:db8::10 out spi 0x12")
        #expect(problems(text).count == 2)
    }

    // MARK: - The file on disk

    func write(_ text: String, mode: mode_t) throws -> String {
        let path = "/tmp/outpost-keys-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, mode)
        return path
    }

    @Test func a0600FileLoads() throws {
        let path = try write(TrunkFixtures.keyFile(), mode: 0o600)
        defer { unlink(path) }
        let keys = try TrunkKeyFile.load(path: path, configuration: configuration)
        #expect(keys.entries.count == 4)
    }

    @Test(arguments: [(mode_t(0o644), "every user on the system"), (0o640, "the file's group"), (0o604, "every user on the system"), (0o660, "the file's group")])
    func readablePermissionsAreRefused(mode: mode_t, who: String) throws {
        let path = try write(TrunkFixtures.keyFile(), mode: mode)
        defer { unlink(path) }
        #expect {
            try TrunkKeyFile.load(path: path, configuration: configuration)
        } throws: { error in
            let text = (error as? TrunkKeyFileError)?.description ?? ""
            return text == "\(path): mode 0\(String(mode, radix: 8)) lets \(who) access the trunk keys; run chmod 600 \(path)"
        }
    }

    @Test func symlinksDirectoriesAndMissingFilesAreRefused() throws {
        let path = try write(TrunkFixtures.keyFile(), mode: 0o600)
        defer { unlink(path) }
        let link = path + ".link"
        symlink(path, link)
        defer { unlink(link) }
        #expect(throws: TrunkKeyFileError(file: link, problems: [.init(line: 0, message: "is a symbolic link; point key_file at the real file")])) {
            try TrunkKeyFile.load(path: link, configuration: configuration)
        }
        #expect(throws: TrunkKeyFileError(file: "/tmp", problems: [.init(line: 0, message: "is not a regular file")])) {
            try TrunkKeyFile.read(path: "/tmp")
        }
        #expect(throws: TrunkKeyFileError(file: "/nonexistent/k", problems: [.init(line: 0, message: "cannot open: No such file or directory (ENOENT)")])) {
            try TrunkKeyFile.read(path: "/nonexistent/k")
        }
    }

    @Test func aFileOwnedBySomeoneElseIsRefused() throws {
        guard geteuid() == 0 else { return }
        let path = try write(TrunkFixtures.keyFile(), mode: 0o600)
        defer { unlink(path) }
        chown(path, 1234, 1234)
        #expect {
            try TrunkKeyFile.read(path: path)
        } throws: { error in
            (error as? TrunkKeyFileError)?.description == "\(path): is owned by uid 1234; it must belong to root or to uid 0, which runs outpost"
        }
    }
}
