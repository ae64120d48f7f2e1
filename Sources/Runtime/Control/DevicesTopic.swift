import Edge
import Foundation

/// `outpost show devices`: the configured inventory. Digest passwords are never shown; the
/// view says only whether a device has digest credentials.
public struct DevicesTopic: ControlTopic {
    public let name = "devices"
    private let devices: [Device]

    public init(devices: [Device]) {
        self.devices = devices
    }

    public func render(json: Bool) async -> String {
        json ? renderJSON() : renderTable()
    }

    private func renderTable() -> String {
        var table = TextTable(headers: ["NAME", "MAC", "LINES", "SECURITY", "DIGEST", "DISPLAY NAME"])
        for device in devices {
            table.append([
                device.name, (device.mac ?? device.macFromName)?.description ?? "-", device.lines.map(\.number).joined(separator: ","),
                device.security.rawValue, device.digest == nil ? "no" : "yes", device.displayName ?? "",
            ])
        }
        return table.render() + "\(devices.count) device\(devices.count == 1 ? "" : "s")\n"
    }

    private struct DeviceView: Encodable {
        struct LineView: Encodable {
            let number: String
            let displayName: String?
        }

        let name: String
        let mac: String?
        let lines: [LineView]
        let displayName: String?
        let security: String
        let digest: Bool
    }

    private func renderJSON() -> String {
        let views = devices.map { device in
            DeviceView(
                name: device.name, mac: (device.mac ?? device.macFromName)?.description,
                lines: device.lines.map { DeviceView.LineView(number: $0.number, displayName: $0.displayName) },
                displayName: device.displayName, security: device.security.rawValue, digest: device.digest != nil)
        }
        return ControlJSON.encode(views)
    }
}
