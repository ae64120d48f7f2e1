import Dispatch
import Edge
import Foundation
import Runtime
import Storage
import Synchronization
import Testing

@Suite struct SQLiteBindingJournalTests {
    private final class TemporaryDirectory: Sendable {
        let path = NSTemporaryDirectory() + "journal-test-\(UUID().uuidString)"
        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        var journalPath: String { path + "/" + SQLiteBindingJournal.fileName }
    }

    private static func write(_ journal: SQLiteBindingJournal, _ addressOfRecord: String, _ bindings: [Binding]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            journal.write(addressOfRecord: addressOfRecord, bindings: bindings) { continuation.resume(with: $0) }
        }
    }

    private static let everyField = Binding(
        addressOfRecord: "2001", contact: "<sip:2001@10.0.0.7:5061;transport=tls>;+sip.instance=\"x\" — Zürich ☎️", device: "SEP001122334455",
        expiresAt: 1_900_000_000, qValue: 500, instanceID: "<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>", regID: 2,
        callID: "a84b4c76e66710@pc33.example.com", cseq: UInt32.max,
        flow: BindingFlow(transport: .tls, remoteAddress: "2001:db8::7", remotePort: 65_535, connection: UInt64.max),
        path: ["<sip:edge.example.com;lr>", "line\nfeed \\ back\\nslash", "\r\n", ""], userAgent: "Téléphone 内线/1.0",
        registeredAt: 1_899_999_000, acceptedUpstream: true)

    private static let noOptionalField = Binding(
        addressOfRecord: "2001", contact: "sip:2001@10.0.0.8", device: "softphone", expiresAt: 0, callID: "", cseq: 0,
        flow: BindingFlow(transport: .udp, remoteAddress: "10.0.0.8", remotePort: 5060), registeredAt: 0)

    @Test func everyFieldRoundTripsIncludingAbsentOnesAndUnicode() async throws {
        let directory = try TemporaryDirectory()
        let journal = try SQLiteBindingJournal(stateDirectory: directory.path)
        var emptyPathEntry = Self.noOptionalField
        emptyPathEntry.addressOfRecord = "2002"
        emptyPathEntry.path = [""]
        try await Self.write(journal, "2001", [Self.everyField, Self.noOptionalField])
        try await Self.write(journal, "2002", [emptyPathEntry])
        #expect(try journal.loadBindings() == [Self.everyField, Self.noOptionalField, emptyPathEntry])
        journal.close()
        // And from a fresh start, as after a restart.
        #expect(try SQLiteBindingJournal(stateDirectory: directory.path).loadBindings() == [Self.everyField, Self.noOptionalField, emptyPathEntry])
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.journalPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func writesToOneAddressOfRecordApplyInTheOrderIssued() async throws {
        let directory = try TemporaryDirectory()
        let journal = try SQLiteBindingJournal(stateDirectory: directory.path)
        var second = Self.noOptionalField
        second.contact = "sip:2001@10.0.0.9"
        second.cseq = 2
        let completions = Mutex<[Int]>([])
        let bothDone = DispatchSemaphore(value: 0)
        for (index, bindings) in [[Self.noOptionalField], [second]].enumerated() {
            journal.write(addressOfRecord: "2001", bindings: bindings) { result in
                if case .success = result { completions.withLock { $0.append(index) } }
                bothDone.signal()
            }
        }
        #expect(bothDone.wait(timeout: .now() + 30) == .success && bothDone.wait(timeout: .now() + 30) == .success)
        #expect(completions.withLock { $0 } == [0, 1])
        #expect(try journal.loadBindings() == [second])
        // An empty set removes the address of record.
        try await Self.write(journal, "2001", [])
        #expect(try journal.loadBindings() == [])
    }

    @Test func aCompletionRunsOnlyOnceAnotherConnectionCanReadTheWrite() async throws {
        let directory = try TemporaryDirectory()
        let journal = try SQLiteBindingJournal(stateDirectory: directory.path)
        let seenInCompletion = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[Binding], any Error>) in
            journal.write(addressOfRecord: "2001", bindings: [Self.everyField]) { result in
                continuation.resume(with: result.flatMap { Result { try SQLiteBindingJournal(path: directory.journalPath).loadBindings() } })
            }
        }
        #expect(seenInCompletion == [Self.everyField])
    }

    @Test func tenThousandWritesFromSeveralThreadsAllCompleteAndAllArePersisted() throws {
        let directory = try TemporaryDirectory()
        let journal = try SQLiteBindingJournal(stateDirectory: directory.path)
        let succeeded = Atomic(0)
        let completed = DispatchSemaphore(value: 0)
        let threads = 8
        let writesPerThread = 1250
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<writesPerThread {
                var binding = Self.noOptionalField
                binding.addressOfRecord = "\(thread)-\(index)"
                binding.cseq = UInt32(index)
                journal.write(addressOfRecord: binding.addressOfRecord, bindings: [binding]) { result in
                    if case .success = result { succeeded.add(1, ordering: .relaxed) }
                    completed.signal()
                }
            }
        }
        var waited = 0
        while waited < threads * writesPerThread, completed.wait(timeout: .now() + 60) == .success { waited += 1 }
        #expect(waited == threads * writesPerThread)
        #expect(succeeded.load(ordering: .relaxed) == threads * writesPerThread)
        let stored = try journal.loadBindings()
        #expect(stored.count == threads * writesPerThread)
        #expect(Set(stored.map(\.addressOfRecord)).count == threads * writesPerThread)
        #expect(journal.writesCommitted == threads * writesPerThread)
    }

    @Test func expiredBindingsArePurged() async throws {
        let directory = try TemporaryDirectory()
        let journal = try SQLiteBindingJournal(stateDirectory: directory.path)
        var early = Self.noOptionalField
        early.expiresAt = 100
        var late = Self.noOptionalField
        late.addressOfRecord = "2002"
        late.expiresAt = 200
        try await Self.write(journal, "2001", [early])
        try await Self.write(journal, "2002", [late])
        #expect(try journal.purgeExpired(before: 150) == 1)
        #expect(try journal.loadBindings() == [late])
    }

    @Test func theInventoryIsReplacedAndReadBack() throws {
        let directory = try TemporaryDirectory()
        let journal = try SQLiteBindingJournal(stateDirectory: directory.path)
        let devices = [
            Device(
                name: "SEP001122334455", mac: MACAddress("00:11:22:33:44:55"),
                lines: [DeviceLine(number: "2001", displayName: "Réception"), DeviceLine(number: "2002")], displayName: "Front desk",
                security: .encrypted),
            Device(name: "fax", lines: [DeviceLine(number: "2099")], security: .nonSecure, digest: DigestAccount(username: "fax", password: "s3cret")),
        ]
        try journal.writeInventory(devices)
        #expect(try journal.loadInventory() == devices)
        try journal.writeInventory([devices[1]])
        #expect(try journal.loadInventory() == [devices[1]])
    }

    @Test func aWriteAfterCloseFailsAndSaysWhy() throws {
        let directory = try TemporaryDirectory()
        let journal = try SQLiteBindingJournal(stateDirectory: directory.path)
        journal.close()
        let failure = Mutex<String?>(nil)
        journal.write(addressOfRecord: "2001", bindings: [Self.noOptionalField]) { result in
            if case .failure(let error) = result { failure.withLock { $0 = "\(error)" } }
        }
        #expect(failure.withLock { $0 } == "\(directory.journalPath): the binding journal is closed")
    }

    @Test func whenAGroupCannotBeCommittedEveryWriteInItGetsTheFailure() throws {
        let directory = try TemporaryDirectory()
        let journal = try SQLiteBindingJournal(stateDirectory: directory.path)
        try SQLiteConnection(path: directory.journalPath).execute("DROP TABLE bindings")
        let failures = Mutex<[String]>([])
        let completed = DispatchSemaphore(value: 0)
        for index in 0..<100 {
            var binding = Self.noOptionalField
            binding.addressOfRecord = "\(index)"
            journal.write(addressOfRecord: binding.addressOfRecord, bindings: [binding]) { result in
                if case .failure(let error) = result { failures.withLock { $0.append("\(error)") } }
                completed.signal()
            }
        }
        for _ in 0..<100 { #expect(completed.wait(timeout: .now() + 30) == .success) }
        #expect(failures.withLock { $0.count } == 100)
        #expect(failures.withLock { $0.allSatisfy { $0.contains("no such table: bindings") } }, "\(failures.withLock { $0.first ?? "" })")
        #expect(journal.writesCommitted == 0)
    }

    @Test func aDatabaseFromANewerEdgeIsRefused() throws {
        let directory = try TemporaryDirectory()
        _ = try SQLiteBindingJournal(stateDirectory: directory.path)
        try SQLiteConnection(path: directory.journalPath).execute("UPDATE schema_version SET version = 99")
        #expect(throws: BindingJournalError.newerSchema(file: directory.journalPath, version: 99)) {
            try SQLiteBindingJournal(stateDirectory: directory.path)
        }
    }

    @Test func aGarbageFileIsRefusedWithAnErrorNamingIt() throws {
        let directory = try TemporaryDirectory()
        try Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }).write(to: URL(fileURLWithPath: directory.journalPath))
        let error = try #require(throws: (any Error).self) { try SQLiteBindingJournal(stateDirectory: directory.path) }
        #expect("\(error)".contains(directory.journalPath), "\(error)")
        #expect("\(error)".contains("not a database"), "\(error)")
    }
}
