/// One header line: its name and its value with folding resolved and outer white space trimmed.
public struct SIPHeaderField: Hashable, Sendable {
    public var name: SIPHeaderName
    public var value: String

    public init(_ name: SIPHeaderName, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// The header fields of a message, in the order received; unknown headers are kept verbatim.
public struct SIPHeaders: Hashable, Sendable, RandomAccessCollection, ExpressibleByArrayLiteral {
    public private(set) var fields: [SIPHeaderField]

    public init(_ fields: [SIPHeaderField] = []) { self.fields = fields }

    public init(arrayLiteral elements: (SIPHeaderName, String)...) {
        self.fields = elements.map { SIPHeaderField($0.0, $0.1) }
    }

    public var startIndex: Int { fields.startIndex }
    public var endIndex: Int { fields.endIndex }
    public subscript(position: Int) -> SIPHeaderField { fields[position] }

    /// The value of the first line with this name.
    public subscript(name: SIPHeaderName) -> String? {
        fields.first { $0.name == name }?.value
    }

    public func contains(_ name: SIPHeaderName) -> Bool { fields.contains { $0.name == name } }

    /// Every line with this name, as written.
    public func lines(_ name: SIPHeaderName) -> [String] {
        fields.compactMap { $0.name == name ? $0.value : nil }
    }

    /// Every value with this name: for list headers each comma-separated element of each line,
    /// split outside quotes and angle brackets; for other headers each line.
    public func values(_ name: SIPHeaderName) -> [String] {
        var result: [String] = []
        for field in fields where field.name == name {
            if name.isList { result.append(contentsOf: HeaderList.split(field.value)) } else { result.append(field.value) }
        }
        return result
    }

    public mutating func append(_ name: SIPHeaderName, _ value: String) {
        fields.append(SIPHeaderField(name, value))
    }

    public mutating func insert(_ name: SIPHeaderName, _ value: String, at index: Int = 0) {
        fields.insert(SIPHeaderField(name, value), at: index)
    }

    /// Replaces every line with this name by one line, in the place of the first.
    public mutating func set(_ name: SIPHeaderName, _ value: String) {
        if let first = fields.firstIndex(where: { $0.name == name }) {
            fields[first].value = value
            var index = fields.count - 1
            while index > first {
                if fields[index].name == name { fields.remove(at: index) }
                index -= 1
            }
        } else {
            fields.append(SIPHeaderField(name, value))
        }
    }

    public mutating func remove(_ name: SIPHeaderName) {
        fields.removeAll { $0.name == name }
    }

    /// Removes the first value of a list header (the top Via of a response being forwarded).
    public mutating func removeFirstValue(_ name: SIPHeaderName) {
        guard let index = fields.firstIndex(where: { $0.name == name }) else { return }
        var elements = HeaderList.split(fields[index].value)
        elements.removeFirst()
        if elements.isEmpty { fields.remove(at: index) } else { fields[index].value = elements.joined(separator: ", ") }
    }
}

/// Splits a list header value at commas outside quoted strings and `<...>`.
enum HeaderList {
    static func split(_ value: String) -> [String] {
        var elements: [String] = []
        var copy = value
        copy.withUTF8 { bytes in
            var depth = 0
            var inQuotes = false
            var start = 0
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                if inQuotes {
                    if byte == 0x5C { index += 1 } else if byte == 0x22 { inQuotes = false }
                } else {
                    switch byte {
                    case 0x22: inQuotes = true
                    case 0x3C: depth += 1
                    case 0x3E: depth = max(0, depth - 1)
                    case 0x2C where depth == 0:
                        elements.append(trimmed(bytes, start, index))
                        start = index + 1
                    default: break
                    }
                }
                index += 1
            }
            elements.append(trimmed(bytes, start, min(index, bytes.count)))
        }
        return elements.filter { !$0.isEmpty }
    }

    private static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
        var from = start
        var to = end
        while from < to, Grammar.isWhitespace(bytes[from]) { from += 1 }
        while to > from, Grammar.isWhitespace(bytes[to - 1]) { to -= 1 }
        return UnsafeBufferPointer(rebasing: bytes[from..<to]).text
    }
}

extension SIPHeaders {
    /// Rewrites the first Via value, keeping any others on the same line.
    public mutating func replaceTopVia(with via: Via) {
        guard let index = fields.firstIndex(where: { $0.name == .via }) else {
            insert(.via, via.description)
            return
        }
        var elements = HeaderList.split(fields[index].value)
        elements[0] = via.description
        fields[index].value = elements.joined(separator: ", ")
    }
}
