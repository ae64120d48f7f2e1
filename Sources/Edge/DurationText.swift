extension Duration {
    /// For people: `625 ms`, `1.42 s`, not `1.4166666666666665 seconds`.
    public var readable: String {
        let milliseconds = self / .milliseconds(1)
        if milliseconds < 1000 { return "\(Int(milliseconds.rounded())) ms" }
        let hundredths = Int((milliseconds / 10).rounded())
        if hundredths % 100 == 0 { return "\(hundredths / 100) s" }
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100) s"
    }
}
