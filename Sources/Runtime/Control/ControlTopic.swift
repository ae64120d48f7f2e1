import Synchronization

/// Something `outpost show <name>` can ask the running edge for, over the control socket.
public protocol ControlTopic: Sendable {
    var name: String { get }
    /// What the topic's argument names (`show reachability <line>`); nil for topics without one.
    var argumentName: String? { get }
    /// A human table, or with `json` a JSON document (sorted keys).
    func render(json: Bool) async -> String
    /// The same for topics with an argument.
    func render(json: Bool, argument: String) async -> String
}

extension ControlTopic {
    public var argumentName: String? { nil }
    public func render(json: Bool, argument: String) async -> String { await render(json: json) }
}

/// The topics the control socket answers, by name. Adding a topic with a name already
/// registered replaces it.
public final class ControlTopicRegistry: Sendable {
    private let topics = Mutex<[String: any ControlTopic]>([:])

    public init(_ topics: [any ControlTopic] = []) {
        for topic in topics { add(topic) }
    }

    public func add(_ topic: any ControlTopic) {
        topics.withLock { $0[topic.name] = topic }
    }

    public func topic(named name: String) -> (any ControlTopic)? {
        topics.withLock { $0[name] }
    }

    public var names: [String] { topics.withLock { $0.keys.sorted() } }
}
