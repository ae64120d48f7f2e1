extension SessionDescription {
    /// The canonical form: RFC 8866 line order, single spaces between fields, CRLF after every
    /// line. Values are written as they are stored; a description built by hand must not put CR
    /// or LF inside a field.
    public func serialized() -> [UInt8] {
        var writer = SDPWriter()
        writer.write(self)
        return writer.bytes
    }

    /// `serialized()` as text, for logs and for SIP bodies built as strings.
    public var text: String { String(decoding: serialized(), as: UTF8.self) }
}

extension SessionDescription: CustomStringConvertible {
    public var description: String { text }
}

struct SDPWriter {
    private(set) var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(1_024)
    }

    mutating func write(_ session: SessionDescription) {
        line("v", String(session.version))
        begin("o")
        write(session.origin)
        end()
        line("s", session.sessionName)
        if let information = session.information { line("i", information) }
        if let uri = session.uri { line("u", uri) }
        for email in session.emails { line("e", email) }
        for phone in session.phones { line("p", phone) }
        if let connection = session.connection { write(connection) }
        for bandwidth in session.bandwidths { write(bandwidth) }
        for timing in session.timings { write(timing) }
        if let key = session.key { line("k", key) }
        for attribute in session.attributes { write(attribute) }
        for media in session.media { write(media) }
    }

    private mutating func write(_ media: MediaDescription) {
        begin("m")
        append(media.type.rawValue)
        space()
        append(String(media.port))
        if let count = media.portCount {
            bytes.append(ASCII.slash)
            append(String(count))
        }
        space()
        append(media.transport.rawValue)
        for format in media.formats {
            space()
            append(format)
        }
        end()
        if let information = media.information { line("i", information) }
        for connection in media.connections { write(connection) }
        for bandwidth in media.bandwidths { write(bandwidth) }
        if let key = media.key { line("k", key) }
        for attribute in media.attributes { write(attribute) }
    }

    private mutating func write(_ origin: Origin) {
        append(origin.username)
        space()
        append(origin.sessionID)
        space()
        append(origin.sessionVersion)
        space()
        append(origin.networkType)
        space()
        append(origin.addressType)
        space()
        append(origin.address)
    }

    private mutating func write(_ connection: Connection) {
        begin("c")
        append(connection.networkType)
        space()
        append(connection.addressType)
        space()
        append(connection.address)
        if let ttl = connection.ttl {
            bytes.append(ASCII.slash)
            append(String(ttl))
        }
        if let count = connection.addressCount {
            bytes.append(ASCII.slash)
            append(String(count))
        }
        end()
    }

    private mutating func write(_ bandwidth: Bandwidth) {
        begin("b")
        append(bandwidth.type)
        bytes.append(ASCII.colon)
        append(String(bandwidth.value))
        end()
    }

    private mutating func write(_ timing: Timing) {
        begin("t")
        append(String(timing.start))
        space()
        append(String(timing.stop))
        end()
        for repeatTime in timing.repeats {
            begin("r")
            append(repeatTime.interval.description)
            space()
            append(repeatTime.activeDuration.description)
            for offset in repeatTime.offsets {
                space()
                append(offset.description)
            }
            end()
        }
        if !timing.zoneAdjustments.isEmpty {
            begin("z")
            for (index, adjustment) in timing.zoneAdjustments.enumerated() {
                if index > 0 { space() }
                append(String(adjustment.time))
                space()
                append(adjustment.offset.description)
            }
            end()
        }
    }

    private mutating func write(_ attribute: SDPAttribute) {
        begin("a")
        append(attribute.name)
        if let value = attribute.value {
            bytes.append(ASCII.colon)
            append(value)
        }
        end()
    }

    private mutating func line(_ type: Unicode.Scalar, _ value: String) {
        begin(type)
        append(value)
        end()
    }

    private mutating func begin(_ type: Unicode.Scalar) {
        bytes.append(UInt8(ascii: type))
        bytes.append(ASCII.equals)
    }

    private mutating func end() {
        bytes.append(ASCII.cr)
        bytes.append(ASCII.lf)
    }

    private mutating func space() { bytes.append(ASCII.space) }

    private mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }
}
