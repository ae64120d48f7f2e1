/// `outpost show tftp`: the counters and recent transfers as a table for people or JSON for tools.
extension TFTPStatistics {
    public func report(json: Bool) -> String {
        let counters = snapshot
        let transfers = recentTransfers
        let active = activeTransfers
        return json ? Self.json(counters: counters, transfers: transfers, active: active)
            : Self.table(counters: counters, transfers: transfers, active: active)
    }

    private static func table(counters: [Counter: UInt64], transfers: [Transfer], active: Int) -> String {
        var lines = ["TFTP active transfers: \(active)", ""]
        let width = Counter.allCases.map(\.rawValue.count).max() ?? 0
        for counter in Counter.allCases {
            lines.append(counter.rawValue.padding(width) + "  " + String(counters[counter] ?? 0))
        }
        lines.append("")
        if transfers.isEmpty {
            lines.append("no recent transfers")
            return lines.joined(separator: "\n") + "\n"
        }
        let header = ["client", "file", "bytes", "blksize", "window", "seconds", "outcome"]
        let rows = [header] + transfers.map { transfer in
            [transfer.client, transfer.file, String(transfer.bytes), String(transfer.blockSize), String(transfer.windowSize),
             seconds(transfer.duration), transfer.outcome]
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        lines.append("recent transfers, newest first:")
        for row in rows {
            lines.append(row.indices.map { $0 == row.count - 1 ? row[$0] : row[$0].padding(widths[$0]) }.joined(separator: "  "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func json(counters: [Counter: UInt64], transfers: [Transfer], active: Int) -> String {
        let counterFields = Counter.allCases.map { "\"\($0.rawValue)\":\(counters[$0] ?? 0)" }.joined(separator: ",")
        let transferObjects = transfers.map { transfer in
            "{\"client\":\(quoted(transfer.client)),\"file\":\(quoted(transfer.file)),\"bytes\":\(transfer.bytes),"
                + "\"blksize\":\(transfer.blockSize),\"windowsize\":\(transfer.windowSize),"
                + "\"seconds\":\(seconds(transfer.duration)),\"outcome\":\(quoted(transfer.outcome))}"
        }.joined(separator: ",")
        return "{\"active_transfers\":\(active),\"counters\":{\(counterFields)},\"recent_transfers\":[\(transferObjects)]}\n"
    }

    private static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return "\(milliseconds / 1000).\(String(milliseconds % 1000).leftPadded(3))"
    }

    /// A JSON string literal; client-chosen file names may hold quotes or backslashes.
    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += "\\u" + String(scalar.value, radix: 16).leftPadded(4)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
