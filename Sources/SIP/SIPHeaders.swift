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
///
/// A parsed message keeps one copy of its received header section; each received value is a
/// range of it, and becomes a String only when someone reads it. Values set or added later, and
/// folded values, are held as text. Two header collections are equal when their names are equal
/// and their values are the same bytes, however each is held.
public struct SIPHeaders: Hashable, Sendable, RandomAccessCollection, ExpressibleByArrayLiteral {
    /// The received header section that `.received` values point into.
    private(set) var storage: [UInt8]
    private(set) var entries: [Entry]

    struct Entry: Sendable {
        var name: SIPHeaderName
        var value: Value
    }

    enum Value: Sendable {
        /// Bytes of `storage`, already checked to be UTF-8.
        case received(start: UInt32, end: UInt32)
        case text(String)
    }

    public init(_ fields: [SIPHeaderField] = []) {
        self.storage = []
        self.entries = fields.map { Entry(name: $0.name, value: .text($0.value)) }
    }

    public init(arrayLiteral elements: (SIPHeaderName, String)...) {
        self.storage = []
        self.entries = elements.map { Entry(name: $0.0, value: .text($0.1)) }
    }

    /// A parsed header section: `entries` point into `storage`.
    init(storage: [UInt8], entries: [Entry]) {
        self.storage = storage
        self.entries = entries
    }

    /// Every field, each value as text.
    public var fields: [SIPHeaderField] { indices.map { self[$0] } }

    public var startIndex: Int { 0 }
    public var endIndex: Int { entries.count }
    public subscript(position: Int) -> SIPHeaderField { SIPHeaderField(entries[position].name, value(at: position)) }

    /// The value of the field at `index` as text.
    func value(at index: Int) -> String {
        switch entries[index].value {
        case .text(let text):
            return text
        case .received(let start, let end):
            // Checked to be UTF-8 when parsed, so decoding repairs nothing.
            return storage.withUnsafeBufferPointer { buffer in
                String(decoding: UnsafeBufferPointer(rebasing: buffer[Int(start)..<Int(end)]), as: UTF8.self)
            }
        }
    }

    /// Runs `body` over the value bytes of the field at `index`.
    func withValueBytes<Result, Failure: Error>(
        at index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        switch entries[index].value {
        case .received(let start, let end):
            return try storage.withUnsafeBufferPointer { (buffer) throws(Failure) -> Result in
                try body(UnsafeBufferPointer(rebasing: buffer[Int(start)..<Int(end)]))
            }
        case .text(let text):
            var copy = text
            let outcome = copy.withUTF8 { buffer in
                Swift.Result { () throws(Failure) -> Result in try body(buffer) }
            }
            return try outcome.get()
        }
    }

    /// The index of the first field with this name.
    func firstIndex(of name: SIPHeaderName) -> Int? {
        entries.firstIndex { $0.name == name }
    }

    /// The value of the first line with this name.
    public subscript(name: SIPHeaderName) -> String? {
        firstIndex(of: name).map { value(at: $0) }
    }

    public func contains(_ name: SIPHeaderName) -> Bool { entries.contains { $0.name == name } }

    /// Every line with this name, as written.
    public func lines(_ name: SIPHeaderName) -> [String] {
        var result: [String] = []
        for index in entries.indices where entries[index].name == name { result.append(value(at: index)) }
        return result
    }

    /// Every value with this name: for list headers each comma-separated element of each line,
    /// split outside quotes and angle brackets; for other headers each line.
    public func values(_ name: SIPHeaderName) -> [String] {
        var result: [String] = []
        for index in entries.indices where entries[index].name == name {
            if name.isList {
                result.append(contentsOf: withValueBytes(at: index) { HeaderList.split($0) })
            } else {
                result.append(value(at: index))
            }
        }
        return result
    }

    public mutating func append(_ name: SIPHeaderName, _ value: String) {
        entries.append(Entry(name: name, value: .text(value)))
    }

    public mutating func insert(_ name: SIPHeaderName, _ value: String, at index: Int = 0) {
        entries.insert(Entry(name: name, value: .text(value)), at: index)
    }

    /// Replaces every line with this name by one line, in the place of the first.
    public mutating func set(_ name: SIPHeaderName, _ value: String) {
        if let first = firstIndex(of: name) {
            entries[first].value = .text(value)
            var index = entries.count - 1
            while index > first {
                if entries[index].name == name { entries.remove(at: index) }
                index -= 1
            }
        } else {
            entries.append(Entry(name: name, value: .text(value)))
        }
    }

    public mutating func remove(_ name: SIPHeaderName) {
        entries.removeAll { $0.name == name }
    }

    /// Removes the first value of a list header (the top Via of a response being forwarded).
    public mutating func removeFirstValue(_ name: SIPHeaderName) {
        guard let index = firstIndex(of: name) else { return }
        var elements = withValueBytes(at: index) { HeaderList.split($0) }
        if !elements.isEmpty { elements.removeFirst() }
        if elements.isEmpty {
            entries.remove(at: index)
        } else {
            entries[index].value = .text(elements.joined(separator: ", "))
        }
    }

    public static func == (lhs: SIPHeaders, rhs: SIPHeaders) -> Bool {
        guard lhs.entries.count == rhs.entries.count else { return false }
        for index in lhs.entries.indices {
            guard lhs.entries[index].name == rhs.entries[index].name else { return false }
            let same = lhs.withValueBytes(at: index) { left in
                rhs.withValueBytes(at: index) { right in left.elementsEqual(right) }
            }
            guard same else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entries.count)
        for index in entries.indices {
            hasher.combine(entries[index].name)
            withValueBytes(at: index) { bytes in
                hasher.combine(bytes.count)
                hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
            }
        }
    }
}

/// Splits a list header value at commas outside quoted strings and `<...>`.
enum HeaderList {
    static func split(_ value: String) -> [String] {
        var copy = value
        return copy.withUTF8 { split($0) }
    }

    static func split(_ bytes: UnsafeBufferPointer<UInt8>) -> [String] {
        var elements: [String] = []
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
        guard let index = firstIndex(of: .via) else {
            insert(.via, via.description)
            return
        }
        var elements = withValueBytes(at: index) { HeaderList.split($0) }
        if elements.isEmpty { elements = [via.description] } else { elements[0] = via.description }
        entries[index].value = .text(elements.joined(separator: ", "))
    }
}
