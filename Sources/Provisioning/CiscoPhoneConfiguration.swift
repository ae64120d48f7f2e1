import Edge

/// `SEP<MAC>.cnf.xml` for a Cisco SIP phone, in the shape CUCM's TFTP writes it (elements as in
/// CUCM-generated files and in open-source templates such as wazo-provd's cisco-sip plugin).
///
/// - `deviceSecurityMode`: 1 non-secure, 2 authenticated, 3 encrypted (from the profile).
/// - `transportLayerProtocol`: 3 TLS for authenticated and encrypted devices; 2 UDP otherwise
///   (CUCM-generated files use 1 device default, 2 UDP, 3 TLS, 4 TCP).
/// - `devicePool/callManagerGroup` names the edge as the one call manager, and
///   `devicePool/srstInfo` names it as the SRST reference (`ipAddr1`/`port1` and
///   `sipIpAddr1`/`sipPort1` with the SIP port the profile uses, `isSecure` for TLS), so the phone
///   registers with the edge either way; `connectionMonitorDuration` sets the failback delay.
/// - `sipProfile/sipLines`: one line (featureID 9) per inventory line; digest credentials only for
///   a non-secure device (the others authenticate with their certificate).
enum CiscoPhoneConfiguration {
    static func fileName(mac: MACAddress) -> String { "SEP\(mac.uppercaseHex).cnf.xml" }

    static func xml(for device: Device, settings: ProvisioningSettings) -> String {
        let secure = device.security.requiresTLS
        let port = secure ? settings.secureSIPPort : settings.sipPort
        let edgeName = ConfigurationText.xml(settings.edgeName)
        let address = ConfigurationText.xml(settings.edgeAddress)
        var xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <device>
              <fullConfig>true</fullConfig>
              <deviceProtocol>SIP</deviceProtocol>
              <devicePool>
                <name>\(edgeName)</name>
                <callManagerGroup>
                  <name>\(edgeName)</name>
                  <tftpDefault>true</tftpDefault>
                  <members>
                    <member priority="0">
                      <callManager>
                        <name>\(edgeName)</name>
                        <description>Outpost SRST edge</description>
                        <ports>
                          <ethernetPhonePort>2000</ethernetPhonePort>
                          <sipPort>\(settings.sipPort)</sipPort>
                          <securedSipPort>\(settings.secureSIPPort)</securedSipPort>
                        </ports>
                        <processNodeName>\(address)</processNodeName>
                      </callManager>
                    </member>
                  </members>
                </callManagerGroup>
                <srstInfo>
                  <name>\(edgeName)</name>
                  <srstOption>Enable</srstOption>
                  <userModifiable>false</userModifiable>
                  <ipAddr1>\(address)</ipAddr1>
                  <port1>\(port)</port1>
                  <sipIpAddr1>\(address)</sipIpAddr1>
                  <sipPort1>\(port)</sipPort1>
                  <isSecure>\(secure)</isSecure>
                </srstInfo>
                <connectionMonitorDuration>\(settings.connectionMonitorDuration)</connectionMonitorDuration>
              </devicePool>
              <sipProfile>
                <sipProxies>
                  <registerWithProxy>true</registerWithProxy>
                </sipProxies>
                <phoneLabel>\(ConfigurationText.xml(device.displayName ?? device.lines.first?.number ?? device.name))</phoneLabel>
                <sipLines>

            """
        for (index, line) in device.lines.enumerated() {
            let displayName = ConfigurationText.xml(line.displayName ?? device.displayName ?? line.number)
            let number = ConfigurationText.xml(line.number)
            xml += """
                      <line button="\(index + 1)" lineIndex="\(index + 1)">
                        <featureID>9</featureID>
                        <featureLabel>\(displayName)</featureLabel>
                        <proxy>USECALLMANAGER</proxy>
                        <port>\(port)</port>
                        <name>\(number)</name>
                        <displayName>\(displayName)</displayName>
                        <contact>\(number)</contact>

                """
            if device.security == .nonSecure, let digest = device.digest {
                xml += """
                            <authName>\(ConfigurationText.xml(digest.username))</authName>
                            <authPassword>\(ConfigurationText.xml(digest.password))</authPassword>

                    """
            }
            xml += "      </line>\n"
        }
        xml += """
                </sipLines>
                <voipControlPort>\(port)</voipControlPort>
              </sipProfile>
              <deviceSecurityMode>\(device.security.ciscoDeviceSecurityMode)</deviceSecurityMode>
              <transportLayerProtocol>\(secure ? 3 : 2)</transportLayerProtocol>
              <certHash></certHash>
              <encrConfig>false</encrConfig>
            </device>

            """
        return xml
    }
}
