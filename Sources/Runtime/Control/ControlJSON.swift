import Foundation

/// The JSON every topic answers with: sorted keys and snake_case, so output is stable to diff.
public enum ControlJSON {
    public static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
        } catch {
            // Only a value that cannot be represented (a non-finite Double) gets here.
            return "{\"error\": \"the answer cannot be encoded as JSON\"}\n"
        }
    }
}
