import Edge
import Foundation
import Runtime
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The binding journal's promise, tested the hard way: a process writing bindings is killed
/// with SIGKILL at a random moment, and every write it had acknowledged must be on disk.
@Suite(.serialized) struct JournalCrashTests {
    /// The writer is `outpost-bench-child journal-writer`, built next to `outpost`.
    static var writer: String {
        URL(fileURLWithPath: BinaryTests.binary).deletingLastPathComponent().appendingPathComponent("outpost-bench-child").path
    }

    @Test(arguments: 0..<3)
    func noAcknowledgedBindingIsLostToAKill(round: Int) async throws {
        let state = NSTemporaryDirectory() + "journal-crash-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.writer)
        process.arguments = ["journal-writer", "--state-dir", state, "--lines", "50"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = OutputCollector(handle: pipe.fileHandleForReading)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        // Wait for a random number of acknowledgements, then kill without warning.
        let target = Int.random(in: 200...5000)
        let deadline = ContinuousClock.now + .seconds(60)
        while output.current.utf8.count(where: { $0 == UInt8(ascii: "\n") }) < target, ContinuousClock.now < deadline, process.isRunning {
            try await Task.sleep(for: .milliseconds(1))
        }
        try await Task.sleep(for: .microseconds(Int.random(in: 0...20_000)))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)

        var acknowledged: [String: UInt32] = [:]
        var count = 0
        // Only whole lines: a line cut by the kill was not fully reported.
        for line in output.finish(waitingAtMost: .seconds(10)).split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[0] == "acked", let cseq = UInt32(fields[2]) else {
                Issue.record("unexpected output line '\(line)'")
                continue
            }
            acknowledged[String(fields[1]), default: 0] = max(acknowledged[String(fields[1]), default: 0], cseq)
            count += 1
        }
        #expect(count >= target)

        let stored = try SQLiteBindingJournal(stateDirectory: state).loadBindings()
        let storedCSeq = Dictionary(stored.map { ($0.addressOfRecord, $0.cseq) }, uniquingKeysWith: max)
        for (line, cseq) in acknowledged {
            // Writes of a line are applied in order, so the stored one is the last acknowledged or a later one.
            #expect((storedCSeq[line] ?? 0) >= cseq, "line \(line): acknowledged CSeq \(cseq), stored \(storedCSeq[line].map(String.init) ?? "nothing")")
        }
        print("journal crash round \(round): killed after \(count) acknowledged writes; \(stored.count) lines stored")
    }
}
