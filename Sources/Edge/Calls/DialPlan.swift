/// Where a dialled number goes.
public enum DialPlanTarget: Sendable, Equatable {
    /// A phone of the branch, by the (translated) number as a line.
    case local
    /// The call manager over the trunk.
    case trunk
    /// A channel of a PSTN port group.
    case pstn(group: String)
    /// Not carried: the caller hears `status` and why.
    case refuse(status: Int, reason: String)
}

public struct DialPlanDecision: Sendable, Equatable {
    /// The rule that matched; nil for the edge's defaults.
    public var rule: String?
    /// The number after the rule's translation.
    public var number: String
    public var target: DialPlanTarget

    public init(rule: String?, number: String, target: DialPlanTarget) {
        self.rule = rule
        self.number = number
        self.target = target
    }
}

/// A dial-plan pattern in the style voice engineers write: digits, `*`, `#` and a leading `+`
/// stand for themselves, `X` is any digit, `[2-5]` or `[135]` a class, and a final `.` or `T`
/// one or more further digits (variable length). A pattern without it matches its length only.
public struct DialPattern: Sendable, Equatable, CustomStringConvertible {
    enum Element: Sendable, Equatable {
        case literal(Character)
        case anyDigit
        case oneOf(Set<Character>)

        var characters: Set<Character> {
            switch self {
            case .literal(let character): [character]
            case .anyDigit: DialPattern.digits
            case .oneOf(let set): set
            }
        }

        func matches(_ character: Character) -> Bool { characters.contains(character) }
    }

    static let digits: Set<Character> = Set("0123456789")
    public let description: String
    let elements: [Element]
    /// One or more further digits after the elements.
    let variable: Bool

    public init(_ text: String) throws(DialPlanError) {
        description = text
        var elements: [Element] = []
        var variable = false
        var characters = Array(text)
        guard !characters.isEmpty, characters.count <= 64 else { throw DialPlanError(pattern: text, "must have 1 to 64 characters") }
        if let last = characters.last, last == "." || last == "T" || last == "t" {
            variable = true
            characters.removeLast()
        }
        var index = 0
        while index < characters.count {
            let character = characters[index]
            switch character {
            case "0"..."9", "*", "#": elements.append(.literal(character))
            case "+" where index == 0: elements.append(.literal(character))
            case "X", "x": elements.append(.anyDigit)
            case "[":
                guard let close = characters[index...].firstIndex(of: "]") else { throw DialPlanError(pattern: text, "a [ class is not closed") }
                let set = try Self.digitClass(characters[(index + 1)..<close], pattern: text)
                elements.append(.oneOf(set))
                index = close
            default:
                throw DialPlanError(pattern: text, "'\(character)' is not a digit, *, #, X, a [class] or a final . or T")
            }
            index += 1
        }
        guard !elements.isEmpty || variable else { throw DialPlanError(pattern: text, "matches nothing") }
        self.elements = elements
        self.variable = variable
    }

    private static func digitClass(_ body: ArraySlice<Character>, pattern: String) throws(DialPlanError) -> Set<Character> {
        var set = Set<Character>()
        var characters = Array(body)
        guard !characters.isEmpty else { throw DialPlanError(pattern: pattern, "an empty [] class") }
        while !characters.isEmpty {
            let first = characters.removeFirst()
            guard let low = first.wholeNumberValue, first.isASCII else { throw DialPlanError(pattern: pattern, "'\(first)' in a class is not a digit") }
            if characters.first == "-" {
                characters.removeFirst()
                guard !characters.isEmpty else { throw DialPlanError(pattern: pattern, "a range in a class has no end") }
                let end = characters.removeFirst()
                guard let high = end.wholeNumberValue, end.isASCII, high >= low else {
                    throw DialPlanError(pattern: pattern, "the range \(first)-\(end) is not ascending digits")
                }
                for digit in low...high { set.insert(Character(String(digit))) }
            } else {
                set.insert(first)
            }
        }
        return set
    }

    public func matches(_ number: String) -> Bool {
        let characters = Array(number)
        if variable {
            guard characters.count > elements.count else { return false }
            return zip(elements, characters).allSatisfy { $0.matches($1) }
                && characters[elements.count...].allSatisfy { Self.digits.contains($0) }
        }
        return characters.count == elements.count && zip(elements, characters).allSatisfy { $0.matches($1) }
    }

    /// Whether every number `other` matches, this matches too.
    func covers(_ other: DialPattern) -> Bool {
        if !variable {
            guard !other.variable, other.elements.count == elements.count else { return false }
            return zip(elements, other.elements).allSatisfy { $0.characters.isSuperset(of: $1.characters) }
        }
        let shortest = other.elements.count + (other.variable ? 1 : 0)
        guard shortest > elements.count else { return false }
        for (position, element) in elements.enumerated() {
            let theirs = position < other.elements.count ? other.elements[position].characters : Self.digits
            guard element.characters.isSuperset(of: theirs) else { return false }
        }
        return true
    }
}

public struct DialPlanError: Error, Sendable, Equatable, CustomStringConvertible {
    public let pattern: String
    public let reason: String
    init(pattern: String, _ reason: String) {
        self.pattern = pattern
        self.reason = reason
    }
    public var description: String { "pattern '\(pattern)': \(reason)" }
}

public struct DialPlanRule: Sendable, Equatable {
    public var name: String
    public var pattern: DialPattern
    /// The modes the rule applies in (failback counts as normal: the call manager is back).
    public var modes: Set<RegistrarMode>
    /// Leading characters removed before `prepend` is added.
    public var strip: Int
    public var prepend: String
    public var target: DialPlanTarget
    /// Used instead of `target` while the edge is survivable, e.g. the PSTN for trunk-bound numbers.
    public var survivableTarget: DialPlanTarget?

    public init(
        name: String, pattern: DialPattern, modes: Set<RegistrarMode> = [.normal, .survivable], strip: Int = 0, prepend: String = "",
        target: DialPlanTarget, survivableTarget: DialPlanTarget? = nil
    ) {
        self.name = name
        self.pattern = pattern
        self.modes = modes
        self.strip = strip
        self.prepend = prepend
        self.target = target
        self.survivableTarget = survivableTarget
    }
}

/// Ordered rules, first match wins. Without a matching rule a branch line is called locally, and
/// anything else goes to the call manager, or, while it is unreachable, is refused with why.
public struct DialPlan: Sendable, Equatable {
    public var rules: [DialPlanRule]
    /// Longest dialled string taken; longer ones are refused before any rule looks at them.
    public static let maximumLength = 32

    public init(rules: [DialPlanRule] = []) {
        self.rules = rules
    }

    public func route(_ dialled: String, mode: RegistrarMode, isLocalLine: (String) -> Bool) -> DialPlanDecision {
        guard !dialled.isEmpty, dialled.count <= Self.maximumLength,
            dialled.allSatisfy({ DialPattern.digits.contains($0) || $0 == "*" || $0 == "#" || $0 == "+" })
        else {
            let shown = String(dialled.unicodeScalars.prefix(40).filter { $0.isASCII && $0.value >= 0x20 && $0 != "\"" })
            return DialPlanDecision(
                rule: nil, number: shown,
                target: .refuse(status: 484, reason: "'\(shown)' is not a number of up to \(Self.maximumLength) digits, *, # or +"))
        }
        let matchingMode: RegistrarMode = mode == .survivable ? .survivable : .normal
        for rule in rules where rule.modes.contains(matchingMode) && rule.pattern.matches(dialled) {
            let number = rule.prepend + String(dialled.dropFirst(rule.strip))
            var target = matchingMode == .survivable ? rule.survivableTarget ?? rule.target : rule.target
            if target == .local, !isLocalLine(number) { target = .refuse(status: 404, reason: "no phone has line \(number)") }
            return DialPlanDecision(rule: rule.name, number: number, target: target)
        }
        if isLocalLine(dialled) { return DialPlanDecision(rule: nil, number: dialled, target: .local) }
        if matchingMode == .survivable {
            return DialPlanDecision(
                rule: nil, number: dialled,
                target: .refuse(status: 503, reason: "the call manager is unreachable and no dial-plan rule sends \(dialled) elsewhere"))
        }
        return DialPlanDecision(rule: nil, number: dialled, target: .trunk)
    }

    /// Rules an earlier rule always matches first, in every mode they apply in.
    public func unreachableRules() -> [(rule: String, shadowedBy: String)] {
        var result: [(rule: String, shadowedBy: String)] = []
        for (index, rule) in rules.enumerated() {
            let shadow = rules[..<index].first { earlier in rule.modes.isSubset(of: earlier.modes) && earlier.pattern.covers(rule.pattern) }
            if let shadow { result.append((rule.name, shadow.name)) }
        }
        return result
    }
}
