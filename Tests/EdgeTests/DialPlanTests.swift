import Testing

@testable import Edge

@Suite struct DialPlanTests {
    static let lines: Set<String> = ["2001", "2002", "2003"]
    static func isLocal(_ number: String) -> Bool { lines.contains(number) }

    static func plan(_ rules: [(String, String, DialPlanTarget)]) throws -> DialPlan {
        DialPlan(rules: try rules.map { name, pattern, target in DialPlanRule(name: name, pattern: try DialPattern(pattern), target: target) })
    }

    @Test func patternsMatchDigitsClassesAndLengths() throws {
        #expect(try DialPattern("2XXX").matches("2001"))
        #expect(try !DialPattern("2XXX").matches("200"))
        #expect(try !DialPattern("2XXX").matches("20011"))
        #expect(try !DialPattern("2XXX").matches("3001"))
        #expect(try DialPattern("[2-4]1[05]").matches("310"))
        #expect(try !DialPattern("[2-4]1[05]").matches("511"))
        #expect(try DialPattern("*7X").matches("*71"))
        #expect(try DialPattern("+44.").matches("+442071234567"))
        #expect(try !DialPattern("+44.").matches("+44"))
        #expect(try DialPattern("9T").matches("90"))
        #expect(try !DialPattern("9.").matches("9"))
        #expect(try !DialPattern("9.").matches("9*1"))
    }

    @Test func badPatternsAreRefusedWithWhy() {
        for (pattern, fragment) in [("", "1 to 64"), ("2[1-", "not closed"), ("2[]", "empty"), ("2[5-1]", "ascending"), ("2A", "'A'"), ("1+2", "'+'")] {
            #expect(throws: DialPlanError.self) { try DialPattern(pattern) }
            do { _ = try DialPattern(pattern) } catch { #expect(error.description.contains(fragment), "\(pattern): \(error)") }
        }
    }

    @Test func firstMatchingRuleWinsAndTranslates() throws {
        var plan = try Self.plan([("internal", "2XXX", .local), ("outside", "9.", .trunk)])
        plan.rules[1].strip = 1
        plan.rules[1].prepend = "0"
        #expect(plan.route("2002", mode: .normal, isLocalLine: Self.isLocal) == DialPlanDecision(rule: "internal", number: "2002", target: .local))
        #expect(plan.route("90201234", mode: .normal, isLocalLine: Self.isLocal) == DialPlanDecision(rule: "outside", number: "00201234", target: .trunk))
        let missing = plan.route("2999", mode: .normal, isLocalLine: Self.isLocal)
        #expect(missing.target == .refuse(status: 404, reason: "no phone has line 2999"))
    }

    @Test func survivableModeUsesTheOverrideAndRuleModes() throws {
        var plan = try Self.plan([("outside", "9.", .trunk), ("premium", "0900.", .refuse(status: 403, reason: "barred"))])
        plan.rules[0].survivableTarget = .pstn(group: "fxo")
        plan.rules[1].modes = [.survivable]
        #expect(plan.route("912", mode: .survivable, isLocalLine: Self.isLocal).target == .pstn(group: "fxo"))
        #expect(plan.route("912", mode: .normal, isLocalLine: Self.isLocal).target == .trunk)
        #expect(plan.route("912", mode: .failback, isLocalLine: Self.isLocal).target == .trunk)
        #expect(plan.route("09001", mode: .survivable, isLocalLine: Self.isLocal).target == .refuse(status: 403, reason: "barred"))
        #expect(plan.route("09001", mode: .normal, isLocalLine: Self.isLocal).target == .trunk)
    }

    @Test func defaultsServeLocalLinesAndExplainSurvivableRefusals() {
        let plan = DialPlan()
        #expect(plan.route("2001", mode: .survivable, isLocalLine: Self.isLocal).target == .local)
        #expect(plan.route("5551234", mode: .normal, isLocalLine: Self.isLocal).target == .trunk)
        guard case .refuse(let status, let reason) = plan.route("5551234", mode: .survivable, isLocalLine: Self.isLocal).target else {
            Issue.record("a trunk-bound number in survivable mode must be refused")
            return
        }
        #expect(status == 503)
        #expect(reason.contains("5551234") && reason.contains("unreachable"))
    }

    @Test func hostileDialledStringsGet484() {
        let plan = DialPlan()
        for hostile in ["", String(repeating: "1", count: 10_000), "20\u{0}01", "2001'; DROP TABLE calls;--", "２００１", "200\r\n1", "\u{202E}2001"] {
            let decision = plan.route(hostile, mode: .normal, isLocalLine: Self.isLocal)
            guard case .refuse(let status, let reason) = decision.target else {
                Issue.record("'\(hostile.prefix(20))' was routed")
                continue
            }
            #expect(status == 484)
            #expect(reason.count < 200)
            #expect(!reason.contains("\r") && !reason.contains("\n") && !reason.contains("\u{0}"))
        }
    }

    @Test func shadowedRulesAreReported() throws {
        var plan = try Self.plan([
            ("anything-9", "9.", .trunk), ("london", "9020XXXX", .trunk), ("four", "XXXX", .local), ("twos", "2XXX", .local),
            ("short", "2XX", .local), ("premium", "0900.", .refuse(status: 403, reason: "barred")), ("zero", "0.", .trunk),
        ])
        plan.rules[5].modes = [.survivable]
        let shadowed = plan.unreachableRules()
        #expect(shadowed.map(\.rule) == ["london", "twos"])
        #expect(shadowed.first?.shadowedBy == "anything-9")
        #expect(shadowed.last?.shadowedBy == "four")
    }

    @Test func aRuleOnlyInOneModeIsNotShadowedByOneInTheOther() throws {
        var plan = try Self.plan([("normal-only", "9.", .trunk), ("survivable", "9.", .pstn(group: "fxo"))])
        plan.rules[0].modes = [.normal]
        #expect(plan.unreachableRules().isEmpty)
        plan.rules[1].modes = [.normal]
        #expect(plan.unreachableRules().map(\.rule) == ["survivable"])
    }
}
