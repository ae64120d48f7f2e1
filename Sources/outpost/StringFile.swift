#if canImport(Glibc)
import Glibc
#endif

struct FileReadError: Error, CustomStringConvertible {
    let description: String
}

extension String {
    /// Reads a text file without Foundation, which the executable otherwise does not need.
    init(contentsOfFileAt path: String) throws {
        guard let file = fopen(path, "rb") else { throw FileReadError(description: String(cString: strerror(errno))) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
            if count < chunk.count { break }
            if bytes.count > 16 << 20 { throw FileReadError(description: "larger than 16 MiB") }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw FileReadError(description: "not UTF-8 text") }
        self = text
    }
}
