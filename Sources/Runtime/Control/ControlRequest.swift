/// One line a control client sends: `show <topic> [<argument>] [--json]`.
struct ControlRequest: Equatable {
    var topic: String
    var argument: String? = nil
    var json: Bool

    static let usage = "expected 'show <topic> [<argument>] [--json]'"

    /// Parses the line without its line feed; a trailing carriage return is tolerated.
    static func parse(_ line: [UInt8]) -> Result<ControlRequest, ControlRequestError> {
        let trimmed = line.last == UInt8(ascii: "\r") ? Array(line.dropLast()) : line
        guard let text = String(validating: trimmed, as: UTF8.self) else { return .failure(ControlRequestError("the request is not UTF-8")) }
        var words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let json = words.last == "--json"
        if json { words.removeLast() }
        guard words.first == "show", words.count == 2 || words.count == 3 else {
            return .failure(ControlRequestError(ControlRequest.usage))
        }
        return .success(ControlRequest(topic: words[1], argument: words.count == 3 ? words[2] : nil, json: json))
    }
}

struct ControlRequestError: Error, Equatable {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
