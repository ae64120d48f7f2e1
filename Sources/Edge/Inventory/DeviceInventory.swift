/// The devices the branch accepts, indexed the ways requests find them: by name (the TLS
/// identity), by MAC (a provisioning request) and by line (a REGISTER's address of record).
public struct DeviceInventory: Sendable, Equatable {
    public private(set) var devices: [Device]
    private var byName: [String: Int] = [:]
    private var byMAC: [MACAddress: Int] = [:]
    private var byLine: [String: Int] = [:]

    public struct Conflict: Error, Equatable, CustomStringConvertible {
        public let device: String
        public let reason: String
        public var description: String { "device \(device): \(reason)" }
    }

    public init(_ devices: [Device] = []) throws(Conflict) {
        self.devices = []
        for device in devices { try add(device) }
    }

    public mutating func add(_ device: Device) throws(Conflict) {
        if let problem = device.problem { throw Conflict(device: device.name, reason: problem) }
        let key = device.name.uppercased()
        if byName[key] != nil { throw Conflict(device: device.name, reason: "the name appears twice") }
        let mac = device.mac ?? device.macFromName
        if let mac, let other = byMAC[mac] {
            throw Conflict(device: device.name, reason: "MAC \(mac) already belongs to \(devices[other].name)")
        }
        for line in device.lines {
            if let other = byLine[line.number] {
                throw Conflict(device: device.name, reason: "line \(line.number) already belongs to \(devices[other].name)")
            }
        }
        let index = devices.count
        devices.append(device)
        byName[key] = index
        if let mac { byMAC[mac] = index }
        for line in device.lines { byLine[line.number] = index }
    }

    /// Names compare without case: phones and certificates disagree on `SEP` vs `sep`.
    public func device(named name: some StringProtocol) -> Device? { byName[name.uppercased()].map { devices[$0] } }
    public func device(mac: MACAddress) -> Device? { byMAC[mac].map { devices[$0] } }
    /// The device that owns a line (the user part of an address of record).
    public func device(line number: some StringProtocol) -> Device? { byLine[String(number)].map { devices[$0] } }

    public static func == (lhs: DeviceInventory, rhs: DeviceInventory) -> Bool { lhs.devices == rhs.devices }
}
