import Edge
import Foundation
@testable import Runtime
import Testing

@Suite struct ControlRenderingTests {
    @Test func tableColumnsAlignUnderTheirHeaders() {
        var table = TextTable(headers: ["NAME", "LINES", "NOTE"])
        table.append(["SEP001122334455", "2001", "Zürich"])
        table.append(["fax", "2099,2100"])
        #expect(table.render() == """
            NAME             LINES      NOTE
            SEP001122334455  2001       Zürich
            fax              2099,2100

            """)
    }

    @Test func requestsParseAndMalformedOnesSayWhatIsExpected() throws {
        #expect(try ControlRequest.parse(Array("show devices".utf8)).get() == ControlRequest(topic: "devices", json: false))
        #expect(try ControlRequest.parse(Array("show  trunk --json\r".utf8)).get() == ControlRequest(topic: "trunk", json: true))
        #expect(try ControlRequest.parse(Array("show reachability 2001 --json".utf8)).get() == ControlRequest(topic: "reachability", argument: "2001", json: true))
        #expect(try ControlRequest.parse(Array("show reachability 2001".utf8)).get() == ControlRequest(topic: "reachability", argument: "2001", json: false))
        for bad in ["", "show", "show a b c", "devices", "show a b c --json", "SHOW devices", "--json"] {
            #expect(throws: ControlRequestError(ControlRequest.usage)) { try ControlRequest.parse(Array(bad.utf8)).get() }
        }
        #expect(throws: ControlRequestError("the request is not UTF-8")) { try ControlRequest.parse([0x73, 0xFF, 0xFE]).get() }
    }

    private static let devices = [
        Device(
            name: "SEP001122334455", lines: [DeviceLine(number: "2001"), DeviceLine(number: "2002")], displayName: "Front desk",
            security: .encrypted),
        Device(name: "fax", lines: [DeviceLine(number: "2099")], security: .nonSecure, digest: DigestAccount(username: "fax", password: "s3cret")),
    ]

    @Test func devicesTableShowsTheInventoryButNoPassword() async {
        let text = await DevicesTopic(devices: Self.devices).render(json: false)
        #expect(text == """
            NAME             MAC                LINES      SECURITY    DIGEST  DISPLAY NAME
            SEP001122334455  00:11:22:33:44:55  2001,2002  encrypted   no      Front desk
            fax              -                  2099       non-secure  yes
            2 devices

            """)
        #expect(!text.contains("s3cret"))
    }

    @Test func devicesJSONHasSortedSnakeCaseKeysAndNoPassword() async throws {
        let text = await DevicesTopic(devices: Self.devices).render(json: true)
        #expect(!text.contains("s3cret"))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
        #expect(parsed.count == 2)
        #expect(parsed[0]["name"] as? String == "SEP001122334455")
        #expect(parsed[0]["display_name"] as? String == "Front desk")
        #expect(parsed[0]["mac"] as? String == "00:11:22:33:44:55")
        #expect(parsed[1]["digest"] as? Bool == true)
        #expect((parsed[0]["lines"] as? [[String: Any]])?.map { $0["number"] as? String } == ["2001", "2002"])
        #expect(text.range(of: "\"digest\"")!.lowerBound < text.range(of: "\"display_name\"")!.lowerBound)
    }
}
