import Dispatch
import Edge
import Foundation
import Runtime
import Synchronization

/// `outpost bench journal`: bindings persisted per second with group commit, next to one
/// transaction (one fsync) per write, on the same file system in the same run.
public struct JournalBenchmark: Sendable {
    public let secondsPerMeasurement: Double
    /// Threads issuing writes, like event loops answering REGISTERs.
    public let producers: Int
    /// Writes each producer may have waiting for their completion, like REGISTERs awaiting `200 OK`.
    public let inFlightPerProducer: Int
    /// Where the temporary databases go: the state directory's file system is the one that counts.
    public let directory: String

    public init(secondsPerMeasurement: Double, producers: Int = 2, inFlightPerProducer: Int = 512, directory: String) {
        self.secondsPerMeasurement = secondsPerMeasurement
        self.producers = producers
        self.inFlightPerProducer = inFlightPerProducer
        self.directory = directory
    }

    public func run() throws -> [String] {
        let grouped = try measure(maximumGroupSize: 4096)
        let baseline = try measure(maximumGroupSize: 1)
        return [
            "journal, group commit:                 \(BenchmarkFormat.rate(grouped.rate)) writes/s (mean group \(grouped.meanGroup) writes)",
            "journal, one transaction per write:    \(BenchmarkFormat.rate(baseline.rate)) writes/s (baseline)",
            "group commit / baseline:               \(String(format: "%.1f", grouped.rate / baseline.rate))x "
                + "(\(producers) producers, \(inFlightPerProducer) writes in flight each, synchronous=FULL, \(directory))",
        ]
    }

    private func measure(maximumGroupSize: Int) throws -> (rate: Double, meanGroup: Int) {
        let path = directory + "/bench-journal-\(UUID().uuidString).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
        let journal = try SQLiteBindingJournal(path: path, maximumGroupSize: maximumGroupSize)
        let failures = Atomic(0)
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start.advanced(by: .milliseconds(Int64(secondsPerMeasurement * 1000)))
        let issued = Atomic(0)
        DispatchQueue.concurrentPerform(iterations: producers) { producer in
            let slots = DispatchSemaphore(value: inFlightPerProducer)
            var sequence = 0
            while clock.now < deadline {
                slots.wait()
                let binding = JournalLoad.binding(line: "\(producer)-\(sequence % 10_000)", sequence: sequence)
                journal.write(addressOfRecord: binding.addressOfRecord, bindings: [binding]) { result in
                    if case .failure = result { failures.add(1, ordering: .relaxed) }
                    slots.signal()
                }
                sequence += 1
            }
            issued.add(sequence, ordering: .relaxed)
            // Every slot back means every write completed; then give them back, since libdispatch
            // refuses to free a semaphore below its initial value.
            for _ in 0..<inFlightPerProducer { slots.wait() }
            for _ in 0..<inFlightPerProducer { slots.signal() }
        }
        let elapsed = start.duration(to: clock.now)
        journal.close()
        guard failures.load(ordering: .relaxed) == 0 else {
            throw JournalBenchmarkError(reason: "\(failures.load(ordering: .relaxed)) writes failed")
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let meanGroup = journal.writesCommitted / max(journal.groupsCommitted, 1)
        return (Double(issued.load(ordering: .relaxed)) / seconds, meanGroup)
    }
}

struct JournalBenchmarkError: Error, CustomStringConvertible {
    let reason: String
    var description: String { "bench journal: \(reason)" }
}

/// Bindings shaped like a phone's: what the benchmark and the crash test write.
public enum JournalLoad {
    public static func binding(line: String, sequence: Int) -> Binding {
        Binding(
            addressOfRecord: line, contact: "sip:\(line)@10.20.\(sequence % 250).\(sequence % 200 + 1):5061;transport=tls",
            device: "SEP00112233\(String(sequence % 256, radix: 16, uppercase: true))", expiresAt: 1_900_000_000 + Int64(sequence),
            qValue: 1000, instanceID: "<urn:uuid:00000000-0000-0000-0000-\(String(sequence, radix: 16))>", regID: 1,
            callID: "\(sequence)-reg@10.20.0.1", cseq: UInt32(truncatingIfNeeded: sequence),
            flow: BindingFlow(transport: .tls, remoteAddress: "10.20.0.1", remotePort: 40_000 + sequence % 20_000, connection: UInt64(sequence)),
            userAgent: "Cisco-CP8845/14.2.1", registeredAt: 1_800_000_000 + Int64(sequence))
    }
}
