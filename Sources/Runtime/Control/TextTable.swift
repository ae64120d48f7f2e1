/// A plain-text table for the operator: a header row, then rows, columns aligned with two
/// spaces between them; the last column is not padded.
public struct TextTable: Sendable {
    public let headers: [String]
    public private(set) var rows: [[String]] = []

    public init(headers: [String]) {
        self.headers = headers
    }

    /// A missing cell is blank; a surplus one is an error in the caller.
    public mutating func append(_ row: [String]) {
        precondition(row.count <= headers.count, "a row has more cells than the table has columns")
        rows.append(row + Array(repeating: "", count: headers.count - row.count))
    }

    public func render() -> String {
        let all = [headers] + rows
        let widths = headers.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        var text = ""
        for row in all {
            var line = ""
            for (column, cell) in row.enumerated() {
                if column > 0 { line += "  " }
                let isLast = column == row.count - 1
                line += isLast ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }
            while line.last == " " { line.removeLast() }
            text += line + "\n"
        }
        return text
    }
}
