/// `outpost reload`: re-reads the configuration file and the TLS files now and answers with
/// what changed, what was refused and why, and what only a restart applies. systemd's
/// `ExecReload` sends SIGHUP instead, which does the same inside RELOADING=1 … READY=1.
struct ReloadTopic: ControlTopic {
    let name = "reload"
    let reload: @Sendable () async -> String

    func render(json: Bool) async -> String { await reload() }
}
