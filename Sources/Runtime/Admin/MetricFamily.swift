/// One metric as Prometheus sees it: a name, its help text, whether it only grows, and its
/// samples by label set. Built fresh from the edge's own counters at every scrape.
struct MetricFamily: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case counter, gauge
    }

    struct Sample: Sendable, Equatable {
        var labels: [Label]
        var value: Double
    }

    struct Label: Sendable, Equatable {
        var name: String
        var value: String
    }

    let name: String
    let help: String
    let kind: Kind
    var samples: [Sample]

    init(_ name: String, _ kind: Kind, _ help: String, _ samples: [Sample] = []) {
        self.name = name
        self.kind = kind
        self.help = help
        self.samples = samples
    }

    /// A family with one unlabelled sample.
    init(_ name: String, _ kind: Kind, _ help: String, value: some BinaryInteger) {
        self.init(name, kind, help, [Sample(labels: [], value: Double(value))])
    }

    init(_ name: String, _ kind: Kind, _ help: String, value: Double) {
        self.init(name, kind, help, [Sample(labels: [], value: value)])
    }

    /// One sample per entry of `values`, labelled `label`; keys are made snake_case.
    init(_ name: String, _ kind: Kind, _ help: String, label: String, values: [String: some BinaryInteger]) {
        let samples = values.sorted { $0.key < $1.key }.map { key, value in
            Sample(labels: [Label(name: label, value: Self.snakeCase(key))], value: Double(value))
        }
        self.init(name, kind, help, samples)
    }

    mutating func append(_ value: Double, _ labels: (String, String)...) {
        samples.append(Sample(labels: labels.map { Label(name: $0.0, value: $0.1) }, value: value))
    }

    /// `relayedAccepted` and `closed_distrusted.unknown ca` become `relayed_accepted` and
    /// `closed_distrusted_unknown_ca`: label values an operator can type in a query.
    static func snakeCase(_ key: String) -> String {
        var result = ""
        for character in key {
            if character.isUppercase {
                if !result.isEmpty { result.append("_") }
                result += character.lowercased()
            } else if character.isLetter || character.isNumber {
                result.append(character)
            } else if !result.hasSuffix("_") {
                result.append("_")
            }
        }
        return result
    }
}
