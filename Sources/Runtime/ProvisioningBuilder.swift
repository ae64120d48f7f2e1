import Edge
import Logging
import PKI
import Provisioning
import SIPTransport
import ServiceLifecycle
import Synchronization

/// Generates the phones' provisioning files from the configuration and the edge's PKI, on start
/// and again whenever the CA, SRST or SAST certificate changes on disk (`outpost pki reissue`,
/// a re-initialised store), and hands each complete set to `sink` (the TFTP server's in-memory
/// source).
///
/// The certificates come from the edge's own PKI in the state directory; until it exists (the SIP
/// service creates it on first start) the builder waits and tries again at the next poll.
public final class ProvisioningBuilder: Service {
    public typealias Sink = @Sendable ([String: [UInt8]]) -> Void

    private let configuration: OutpostConfiguration
    private let interval: Duration
    private let logger: Logger
    private let sink: Sink
    /// The inventory the files are for; a reload replaces it and the files follow within a second.
    private let devices: Mutex<[Device]>

    /// `interval` defaults to the TLS reload interval (`sip.tls.reload_interval_seconds`).
    public init(configuration: OutpostConfiguration, logger: Logger, interval: Duration? = nil, sink: @escaping Sink) {
        self.configuration = configuration
        self.interval = interval ?? .seconds(configuration.sip.tls.reloadIntervalSeconds)
        self.logger = logger
        self.sink = sink
        self.devices = Mutex(configuration.devices)
    }

    /// A reload changed the inventory: new phones get their files, removed ones lose them.
    public func replaceDevices(_ devices: [Device]) {
        self.devices.withLock { $0 = devices }
    }

    public func run() async throws {
        var built: (files: [String: [UInt8]], devices: [Device])?
        var lastFailure: String?
        repeat {
            let seen = (files: FileChangePolling.snapshot(watchedFiles), devices: devices.withLock { $0 })
            guard built == nil || seen.files != built?.files || seen.devices != built?.devices else { continue }
            do {
                let files = try buildFiles(for: seen.devices)
                sink(files)
                built = seen
                lastFailure = nil
                logger.info("provisioning files generated", metadata: ["files": "\(files.count)", "devices": "\(seen.devices.count)"])
            } catch {
                // Logged once per distinct reason: the same failure recurs at every poll.
                let reason = "\(error)"
                if reason != lastFailure { logger.warning("provisioning files not generated; trying again", metadata: ["error": "\(reason)"]) }
                lastFailure = reason
            }
        } while await waitForNextPoll(since: built?.devices)
    }

    /// The certificates are polled every `interval`; the inventory every second, as a reload
    /// changes it in memory and a phone added may be booting already.
    private func waitForNextPoll(since builtDevices: [Device]?) async -> Bool {
        let slice = min(interval, .seconds(1))
        var waited = Duration.zero
        while waited < interval {
            guard await FileChangePolling.waitForNextPoll(slice) else { return false }
            waited += slice
            if let builtDevices, devices.withLock({ $0 }) != builtDevices { return true }
        }
        return true
    }

    /// Every file, from the current certificates.
    func buildFiles() throws -> [String: [UInt8]] { try buildFiles(for: devices.withLock { $0 }) }

    private func buildFiles(for devices: [Device]) throws -> [String: [UInt8]] {
        let store = PKIStore(stateDirectory: configuration.stateDirectory)
        guard store.isInitialised else { throw ProvisioningError("the edge PKI in \(configuration.stateDirectory) is not initialised yet") }
        let material = ProvisioningMaterial(
            authority: try store.authorityCertificate(), server: try store.serverCertificate(), signer: try store.trustListSigner())
        return try ProvisioningFiles.generate(devices: devices, material: material, settings: try settings())
    }

    func settings() throws -> ProvisioningSettings {
        let listeners = configuration.sip.listeners
        let hostAddresses = HostIdentity.addresses()
        let hostAddress = hostAddresses.first { !$0.contains(":") } ?? hostAddresses.first
        guard let address = configuration.provisioning.edgeAddress ?? configuration.pki.addresses.first ?? hostAddress else {
            throw ProvisioningError("no address for the edge: set provisioning.edge_address")
        }
        return ProvisioningSettings(
            edgeAddress: address,
            edgeName: configuration.pki.names.first ?? HostIdentity.names().first ?? configuration.sip.serverName,
            secureSIPPort: listeners.first { $0.transport == .tls }?.port ?? 5061,
            sipPort: listeners.first { $0.transport == .udp }?.port ?? listeners.first { $0.transport == .tcp }?.port ?? 5060,
            connectionMonitorDuration: configuration.provisioning.connectionMonitorDuration,
            fileServerURL: ProvisioningSettings.tftpURL(host: address, port: configuration.tftp.port),
            signingTime: .now)
    }

    /// The certificates the files carry; their keys change only together with them.
    private var watchedFiles: [String] {
        let layout = PKIStoreLayout(stateDirectory: configuration.stateDirectory)
        return [layout.authorityCertificate, layout.serverCertificate, layout.signerCertificate]
    }
}
