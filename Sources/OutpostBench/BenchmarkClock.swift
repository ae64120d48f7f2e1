/// Runs a body repeatedly for a fixed time and reports operations per second.
struct Throughput {
    let seconds: Double

    /// `body` returns a value folded into a checksum so the optimizer cannot drop the work.
    func measure(_ body: () -> Int) -> (perSecond: Double, checksum: Int) {
        let clock = ContinuousClock()
        var checksum = 0
        for _ in 0..<1000 { checksum &+= body() }
        var operations = 0
        let start = clock.now
        let deadline = start.advanced(by: .milliseconds(Int64(seconds * 1000)))
        while clock.now < deadline {
            for _ in 0..<256 { checksum &+= body() }
            operations += 256
        }
        let elapsed = start.duration(to: clock.now)
        let total = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return (Double(operations) / total, checksum)
    }
}

enum BenchmarkFormat {
    /// Said in every bench's first line: a debug build's figures mean nothing.
    static var build: String {
        #if DEBUG
        "DEBUG build: figures are not meaningful, use `swift build -c release`"
        #else
        "release build"
        #endif
    }

    static func rate(_ value: Double) -> String {
        let rounded = Int(value.rounded())
        var digits = Array(String(rounded))
        var index = digits.count - 3
        while index > 0 {
            digits.insert(",", at: index)
            index -= 3
        }
        return String(digits)
    }

    static func padded(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

