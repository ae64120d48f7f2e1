#if canImport(Glibc)
import Glibc
#endif

/// What `outpost show …` uses to ask the running edge: one request line over the state
/// directory's control socket, the answer read to its end. Blocking, for the command line.
public struct ControlClient: Sendable {
    public let stateDirectory: String
    public let timeoutSeconds: Int

    public init(stateDirectory: String, timeoutSeconds: Int = 10) {
        self.stateDirectory = stateDirectory
        self.timeoutSeconds = timeoutSeconds
    }

    public var socketPath: String { ControlSocketService.socketPath(stateDirectory: stateDirectory) }

    /// The topic's rendering; throws the edge's own error line when it refuses the request.
    public func show(_ topic: String, argument: String? = nil, json: Bool = false) throws(ControlClientError) -> String {
        try request("show \(topic)" + (argument.map { " \($0)" } ?? "") + (json ? " --json" : ""))
    }

    public func request(_ line: String) throws(ControlClientError) -> String {
        try request(bytes: Array((line + "\n").utf8))
    }

    /// Sends `request` as it is (the edge reads up to a line feed) and returns the answer.
    public func request(bytes request: [UInt8]) throws(ControlClientError) -> String {
        let descriptor: Int32
        switch UnixSocket.connect(path: socketPath) {
        case .success(let connected): descriptor = connected
        case .failure(let reason): throw .notRunning(stateDirectory: stateDirectory, reason: reason.text)
        }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sent = 0
        var sendFailure: String?
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR { continue }
                // The edge may have refused the request before reading all of it: read its answer.
                sendFailure = "send: \(UnixSocket.errnoText())"
                break
            }
            sent += count
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                // The edge closed with part of an oversized request unread: its answer came first.
                if errno == ECONNRESET, !answer.isEmpty { break }
                let reason = errno == EAGAIN ? "no answer within \(timeoutSeconds) s" : UnixSocket.errnoText()
                throw .failed(stateDirectory: stateDirectory, reason: "receive: \(reason)")
            }
            answer += buffer[..<count]
        }
        if answer.isEmpty {
            throw .failed(stateDirectory: stateDirectory, reason: sendFailure ?? "the edge closed the connection without an answer")
        }
        let text = String(decoding: answer, as: UTF8.self)
        if text.hasPrefix(ControlSocketService.errorPrefix) {
            throw .refused(String(text.dropFirst(ControlSocketService.errorPrefix.count)).trimmingTrailingNewlines)
        }
        return text
    }
}

public enum ControlClientError: Error, Equatable, CustomStringConvertible {
    case notRunning(stateDirectory: String, reason: String)
    case refused(String)
    case failed(stateDirectory: String, reason: String)

    public var description: String {
        switch self {
        case .notRunning(let directory, let reason): "no edge is running with state directory \(directory) (connect: \(reason))"
        case .refused(let reason): "the edge refused the request: \(reason)"
        case .failed(let directory, let reason): "control socket of \(directory): \(reason)"
        }
    }
}

/// Connecting to a Unix stream socket by path, for the client and for the service's check
/// that a socket file left behind is really dead.
enum UnixSocket {
    struct Failure: Error {
        let code: Int32
        let text: String
    }

    static func connect(path: String) -> Result<Int32, Failure> {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            return .failure(Failure(code: ENAMETOOLONG, text: "the socket path \(path) is longer than \(MemoryLayout.size(ofValue: address.sun_path) - 1) bytes"))
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .failure(Failure(code: errno, text: errnoText())) }
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard status == 0 else {
            let failure = Failure(code: errno, text: errnoText())
            close(descriptor)
            return .failure(failure)
        }
        return .success(descriptor)
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

extension String {
    fileprivate var trimmingTrailingNewlines: String {
        var text = self
        while text.last?.isNewline == true { text.removeLast() }
        return text
    }
}
