/// One line a control client sends: `show <topic> [--json]`.
struct ControlRequest: Equatable {
    var topic: String
    var json: Bool

    static let usage = "expected 'show <topic> [--json]'"

    /// Parses the line without its line feed; a trailing carriage return is tolerated.
    static func parse(_ line: [UInt8]) -> Result<ControlRequest, ControlRequestError> {
        let trimmed = line.last == UInt8(ascii: "\r") ? Array(line.dropLast()) : line
        guard let text = String(validating: trimmed, as: UTF8.self) else { return .failure(ControlRequestError("the request is not UTF-8")) }
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard words.first == "show", words.count == 2 || (words.count == 3 && words[2] == "--json") else {
            return .failure(ControlRequestError(ControlRequest.usage))
        }
        return .success(ControlRequest(topic: String(words[1]), json: words.count == 3))
    }
}

struct ControlRequestError: Error, Equatable {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
