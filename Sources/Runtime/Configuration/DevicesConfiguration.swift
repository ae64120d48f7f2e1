import Edge
import Yams

extension ConfigurationLoader {
    /// `devices:` — the inventory: a list of devices, each with its lines.
    static func readDevices(_ node: Node, reader: NodeReader) throws(ConfigurationError) -> [Device] {
        guard case .sequence(let items) = node else { throw reader.error(node, "devices", "must be a list") }
        var devices: [Device] = []
        for (index, item) in items.enumerated() {
            // One device's mistake does not hide the next device's.
            if let device = reader.collecting({ () throws(ConfigurationError) in try readDevice(item, index: index, reader: reader) }) {
                devices.append(device)
            }
        }
        do {
            _ = try DeviceInventory(devices)
        } catch {
            throw reader.error(node, "devices", error.description)
        }
        return devices
    }

    private static func readDevice(_ item: Node, index: Int, reader: NodeReader) throws(ConfigurationError) -> Device {
        let path = "devices[\(index)]"
        let fields = try reader.mapping(item, path: path, allowed: ["name", "mac", "lines", "display_name", "security", "digest"])
        guard let nameNode = fields["name"] else { throw reader.error(item, path, "name is required") }
        let name = try reader.string(nameNode, path: path + ".name")
        var mac: MACAddress?
        if let macNode = fields["mac"] {
            let text = try reader.string(macNode, path: path + ".mac")
            guard let parsed = MACAddress(text) else { throw reader.error(macNode, path + ".mac", "'\(text)' is not a MAC address") }
            mac = parsed
        }
        guard let linesNode = fields["lines"] else { throw reader.error(item, path, "lines is required") }
        let lines = try readLines(linesNode, path: path + ".lines", reader: reader)
        let displayName = try fields["display_name"].map { (node) throws(ConfigurationError) in try reader.string(node, path: path + ".display_name") }
        guard let securityNode = fields["security"] else { throw reader.error(item, path, "security is required (non-secure, authenticated or encrypted)") }
        let securityText = try reader.string(securityNode, path: path + ".security")
        guard let security = SecurityProfile(rawValue: securityText) else {
            throw reader.error(securityNode, path + ".security", "'\(securityText)' is not non-secure, authenticated or encrypted")
        }
        var digest: DigestAccount?
        if let digestNode = fields["digest"] {
            let entries = try reader.mapping(digestNode, path: path + ".digest", allowed: ["username", "password"])
            guard let user = entries["username"], let password = entries["password"] else {
                throw reader.error(digestNode, path + ".digest", "username and password are required")
            }
            digest = DigestAccount(
                username: try reader.string(user, path: path + ".digest.username"),
                password: try reader.string(password, path: path + ".digest.password"))
        }
        let device = Device(name: name, mac: mac, lines: lines, displayName: displayName, security: security, digest: digest)
        if let problem = device.problem { throw reader.error(item, path, problem) }
        return device
    }

    /// A line is a number (`- 2001`) or a mapping (`- {number: 2001, display_name: Reception}`).
    private static func readLines(_ node: Node, path: String, reader: NodeReader) throws(ConfigurationError) -> [DeviceLine] {
        guard case .sequence(let items) = node, !items.isEmpty else { throw reader.error(node, path, "must be a non-empty list") }
        var lines: [DeviceLine] = []
        for (index, item) in items.enumerated() {
            let linePath = "\(path)[\(index)]"
            if case .scalar = item {
                lines.append(DeviceLine(number: try reader.string(item, path: linePath)))
                continue
            }
            let fields = try reader.mapping(item, path: linePath, allowed: ["number", "display_name"])
            guard let number = fields["number"] else { throw reader.error(item, linePath, "number is required") }
            lines.append(
                DeviceLine(
                    number: try reader.string(number, path: linePath + ".number"),
                    displayName: try fields["display_name"].map { (node) throws(ConfigurationError) in try reader.string(node, path: linePath + ".display_name") }))
        }
        return lines
    }
}
