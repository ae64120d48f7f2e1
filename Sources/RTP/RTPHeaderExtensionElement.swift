/// One element of an RFC 8285 header extension: a local identifier negotiated in SDP
/// (`a=extmap`) and its data.
public struct RTPHeaderExtensionElement: Equatable, Sendable {
    /// 1–14 in the one-byte form, 1–255 in the two-byte form.
    public var id: UInt8
    /// 1–16 bytes in the one-byte form, 0–255 in the two-byte form.
    public var data: [UInt8]

    public init(id: UInt8, data: [UInt8]) {
        self.id = id
        self.data = data
    }
}

extension RTPHeaderExtension {
    /// The elements of a one-byte (§4.2) or two-byte (§4.3) extension, in order, padding skipped.
    ///
    /// In the one-byte form, ID 15 is reserved and RFC 8285 says to stop at it and keep what came
    /// before; a zero ID with a non-zero length is not padding and is treated the same way, as
    /// libwebrtc does, rather than guessing how long it is.
    public func elements() throws(RTPParseError) -> [RTPHeaderExtensionElement] {
        var elements: [RTPHeaderExtensionElement] = []
        var offset = 0
        if isOneByte {
            while offset < data.count {
                let byte = data[offset]
                if byte == 0 {
                    offset += 1
                    continue
                }
                let id = byte >> 4
                if id == 0 || id == 15 { break }
                let length = Int(byte & 0x0F) + 1
                guard offset + 1 + length <= data.count else { throw .extensionElementOverrun(offset: offset) }
                elements.append(RTPHeaderExtensionElement(id: id, data: Array(data[(offset + 1)..<(offset + 1 + length)])))
                offset += 1 + length
            }
        } else if isTwoByte {
            while offset < data.count {
                let id = data[offset]
                if id == 0 {
                    offset += 1
                    continue
                }
                guard offset + 2 <= data.count else { throw .extensionElementOverrun(offset: offset) }
                let length = Int(data[offset + 1])
                guard offset + 2 + length <= data.count else { throw .extensionElementOverrun(offset: offset) }
                elements.append(RTPHeaderExtensionElement(id: id, data: Array(data[(offset + 2)..<(offset + 2 + length)])))
                offset += 2 + length
            }
        } else {
            throw .notElementExtension(profile: profile)
        }
        return elements
    }

    /// A one-byte extension (RFC 8285 §4.2) from elements with IDs 1–14 and 1–16 bytes of data,
    /// or nil when one does not fit that form (use `twoByte` then).
    public static func oneByte(_ elements: [RTPHeaderExtensionElement]) -> RTPHeaderExtension? {
        var data: [UInt8] = []
        for element in elements {
            guard (1...14).contains(element.id), (1...16).contains(element.data.count) else { return nil }
            data.append(element.id << 4 | UInt8(element.data.count - 1))
            data.append(contentsOf: element.data)
        }
        data.padToWord()
        guard data.count <= maximumDataLength else { return nil }
        return RTPHeaderExtension(profile: oneByteProfile, data: data)
    }

    /// A two-byte extension (RFC 8285 §4.3) from elements with IDs 1–255 and up to 255 bytes each,
    /// or nil when one does not fit.
    public static func twoByte(_ elements: [RTPHeaderExtensionElement], appBits: UInt8 = 0) -> RTPHeaderExtension? {
        var data: [UInt8] = []
        for element in elements {
            guard element.id != 0, element.data.count <= 255 else { return nil }
            data.append(element.id)
            data.append(UInt8(element.data.count))
            data.append(contentsOf: element.data)
        }
        data.padToWord()
        guard data.count <= maximumDataLength else { return nil }
        return RTPHeaderExtension(profile: twoByteProfile | UInt16(appBits & 0x0F), data: data)
    }
}
