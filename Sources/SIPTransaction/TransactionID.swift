/// A transaction's handle in a `TransactionLayer`, unique for the layer's lifetime.
public struct TransactionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (lhs: TransactionID, rhs: TransactionID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "tx\(rawValue)" }
}
