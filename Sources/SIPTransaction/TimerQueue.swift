/// Deadlines of armed transaction timers, earliest first. Cancelling a timer does not search the
/// heap: the owner forgets the timer's ticket, and entries whose ticket is no longer current are
/// dropped when they reach the top.
struct TimerQueue<Instant: InstantProtocol> {
    struct Entry {
        var deadline: Instant
        /// Orders timers with the same deadline by when they were armed, and tells a current
        /// entry from one that was cancelled or re-armed.
        var ticket: UInt64
        var transaction: TransactionID
        var timer: TransactionTimer
    }

    private var heap: [Entry] = []

    var top: Entry? { heap.first }
    var count: Int { heap.count }

    mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func popTop() -> Entry? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var first = parent
            if left < heap.count, precedes(heap[left], heap[first]) { first = left }
            if right < heap.count, precedes(heap[right], heap[first]) { first = right }
            guard first != parent else { break }
            heap.swapAt(parent, first)
            parent = first
        }
        return top
    }

    private func precedes(_ lhs: Entry, _ rhs: Entry) -> Bool {
        lhs.deadline < rhs.deadline || (lhs.deadline == rhs.deadline && lhs.ticket < rhs.ticket)
    }
}
