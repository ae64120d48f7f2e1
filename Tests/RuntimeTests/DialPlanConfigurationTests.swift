import Edge
import Testing

@testable import Runtime

@Suite struct DialPlanConfigurationTests {
    @Test func rulesAreReadInOrderWithTheirTranslationsAndTargets() throws {
        let yaml = """
            dial_plan:
              - name: internal
                pattern: "2XXX"
                target: local
              - name: national
                pattern: "9."
                strip: 1
                prepend: "0"
                target: trunk
                survivable: pstn:fxo
              - name: premium
                pattern: "0900."
                target: refuse
                status: 403
                reason: premium-rate numbers are barred
                modes: [survivable]
            """
        let plan = try ConfigurationLoader.load(yaml: yaml, file: "x.yaml").dialPlan
        #expect(plan.rules.map(\.name) == ["internal", "national", "premium"])
        #expect(plan.rules[1].strip == 1 && plan.rules[1].prepend == "0")
        #expect(plan.rules[1].survivableTarget == .pstn(group: "fxo"))
        #expect(plan.rules[2].target == .refuse(status: 403, reason: "premium-rate numbers are barred"))
        #expect(plan.rules[2].modes == [.survivable])
        #expect(plan.route("9123", mode: .survivable, isLocalLine: { _ in false }) == DialPlanDecision(rule: "national", number: "0123", target: .pstn(group: "fxo")))
    }

    @Test func withoutASectionOnlyTheDefaultsApply() throws {
        #expect(try ConfigurationLoader.load(yaml: "log: {level: info}\n", file: "x.yaml").dialPlan.rules.isEmpty)
    }

    @Test func everyMistakeNamesItsKeyLineAndWhy() {
        let cases: [(String, String, String)] = [
            ("dial_plan: {name: x}\n", "dial_plan", "list of rules"),
            ("dial_plan:\n  - pattern: \"2XXX\"\n    target: local\n", "dial_plan[0].name", "needs a name"),
            ("dial_plan:\n  - name: a\n    pattern: \"2Q\"\n    target: local\n", "dial_plan[0].pattern", "'Q'"),
            ("dial_plan:\n  - name: a\n    pattern: \"2X\"\n    target: moon\n", "dial_plan[0].target", "not a target"),
            ("dial_plan:\n  - name: a\n    pattern: \"2X\"\n    target: refuse\n    status: 200\n", "dial_plan[0].status", "outside 400"),
            ("dial_plan:\n  - name: a\n    pattern: \"2X\"\n    target: local\n  - name: a\n    pattern: \"3X\"\n    target: local\n", "dial_plan[1].name", "used twice"),
            ("dial_plan:\n  - name: a\n    pattern: \"2X\"\n    target: local\n    colour: red\n", "dial_plan[0].colour", "unknown key"),
            ("dial_plan:\n  - name: a\n    pattern: \"2X\"\n    target: local\n    modes: [failback]\n", "dial_plan[0].modes", "not a mode"),
            ("dial_plan:\n  - name: a\n    pattern: \"2X\"\n    target: trunk\n    prepend: \"0a\"\n", "dial_plan[0].prepend", "only digits"),
        ]
        for (yaml, key, fragment) in cases {
            do {
                _ = try ConfigurationLoader.load(yaml: yaml, file: "x.yaml")
                Issue.record("accepted: \(yaml)")
            } catch {
                #expect(error.key == key, "\(yaml)")
                #expect(error.reason.contains(fragment), "\(error)")
                #expect(error.line != nil, "\(error)")
            }
        }
    }

    @Test func checkConfigWarnsOfRulesThatCanNeverMatch() throws {
        let yaml = """
            dial_plan:
              - {name: outside, pattern: "9.", target: trunk}
              - {name: london, pattern: "9020XXXX", target: trunk}
            """
        let summary = try ConfigurationLoader.load(yaml: yaml, file: "x.yaml").summary.joined(separator: "\n")
        #expect(summary.contains("warning: dial-plan rule london can never match: rule outside before it matches every number it does"))
        #expect(summary.contains("outside: 9. -> trunk"))
    }
}
