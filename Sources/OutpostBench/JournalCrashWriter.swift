import Dispatch
import Edge
import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// The child process of the journal's kill -9 test: writes bindings as fast as the journal
/// takes them and prints `acked <line> <cseq>` the moment each write is acknowledged, so the
/// test knows exactly which writes a crash must not lose.
public enum JournalCrashWriter {
    public static func run(stateDirectory: String, writes: Int, lines: Int) throws {
        let journal = try SQLiteBindingJournal(stateDirectory: stateDirectory)
        let slots = DispatchSemaphore(value: 256)
        for sequence in 0..<writes {
            slots.wait()
            let binding = JournalLoad.binding(line: "line-\(sequence % lines)", sequence: sequence)
            journal.write(addressOfRecord: binding.addressOfRecord, bindings: [binding]) { result in
                if case .success = result {
                    // Straight to the descriptor: a buffered line would not be an acknowledgement.
                    let text = Array("acked \(binding.addressOfRecord) \(binding.cseq)\n".utf8)
                    _ = text.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
                }
                slots.signal()
            }
        }
        journal.close()
    }
}
