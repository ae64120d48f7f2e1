// swift-tools-version: 6.1
import PackageDescription

// Our own targets build in Swift 6 mode with warnings treated as errors; dependencies are not affected.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .unsafeFlags(["-warnings-as-errors"]),
    // Lets the runtime specialise the generic transaction layer and friends across modules
    // instead of going through metadata lookups and value witnesses on every request.
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

// The benches build sockaddr_in by hand next to NIO, whose CNIOLinux module declares the same C
// struct: under MemberImportVisibility which module its members belong to depends on how the
// compiler batches the files, and a new file elsewhere in the target can turn a clean build red.
// The benches are not product code, so they go without that one feature.
let benchStrict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .unsafeFlags(["-warnings-as-errors"]),
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")

let package = Package(
    name: "Outpost",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "outpost", targets: ["outpost"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Layer 0: the system's C libraries, each wrapped by exactly one Swift target above.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSRTP", pkgConfig: "libsrtp2", providers: [.apt(["libsrtp2-dev"])]),
        .systemLibrary(
            name: "CNetlink", pkgConfig: "libnl-xfrm-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-xfrm-3-dev"])]),
        .systemLibrary(name: "CSpanDSP", pkgConfig: "spandsp", providers: [.apt(["libspandsp-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // Function-like macros and inline functions Swift cannot import: one submodule per library
        // for OpenSSL and libnl, and a target of their own for libsrtp and spandsp, so that a program
        // using PKI, TLS or XFRM does not link libsrtp2 and spandsp through the shims.
        .target(name: "COutpostShims", dependencies: ["COpenSSL", "CNetlink"]),
        .target(name: "CSRTPShims", dependencies: ["CSRTP", "COpenSSL"]),
        .target(name: "CSpanDSPShims", dependencies: ["CSpanDSP"]),

        // Layer 1: pure values, no I/O and no C.
        .target(name: "SIP", swiftSettings: strict),
        .target(name: "SDP", swiftSettings: strict),
        .target(name: "TFTPProtocol", swiftSettings: strict),
        .target(name: "RTP", swiftSettings: strict),

        // Layer 2: state machines and the one wrapper per C library.
        .target(name: "SIPTransaction", dependencies: ["SIP"], swiftSettings: strict),
        // Dialogs (RFC 3261 §12), forking, and the proxy's routing edits (§16.4, §16.6).
        .target(name: "SIPDialog", dependencies: ["SIP"], swiftSettings: strict),
        .target(name: "PKI", dependencies: ["SIP", "COpenSSL", "COutpostShims"], swiftSettings: strict),
        .target(name: "SRTP", dependencies: ["CSRTP", "CSRTPShims"], swiftSettings: strict),
        .target(name: "XFRM", dependencies: ["CNetlink", "COutpostShims"], swiftSettings: strict),
        .target(name: "DSP", dependencies: ["CSpanDSP", "CSpanDSPShims"], swiftSettings: strict),
        .target(name: "Storage", dependencies: ["CSQLite"], swiftSettings: strict),

        // Layer 3: I/O on NIOCore.
        .target(name: "SIPTransport", dependencies: ["SIP", nioCore, logging], swiftSettings: strict),
        .target(name: "TLS", dependencies: ["PKI", "COpenSSL", "COutpostShims", nioCore], swiftSettings: strict),
        .target(name: "TFTP", dependencies: ["TFTPProtocol", nioCore, logging], swiftSettings: strict),
        // The media relay: port pool, a relay per call, latching, per-leg SRTP, statistics.
        .target(name: "Media", dependencies: ["RTP", "SDP", "SRTP", nioCore, logging], swiftSettings: strict),
        // The trunk's IPsec protection (policy, monitor, engine, key file, commands) over XFRM.
        .target(name: "TrunkIPsec", dependencies: ["XFRM"], swiftSettings: strict),

        // Layer 4: the domain, which sees protocols, not sockets.
        .target(name: "Edge", dependencies: ["SIP", "SIPDialog", "SDP", logging], swiftSettings: strict),
        .target(name: "Provisioning", dependencies: ["Edge", "PKI"], swiftSettings: strict),

        // Layer 5: wiring.
        .target(
            name: "Runtime",
            dependencies: [
                "Edge", "SIPTransport", "SIPTransaction", "SIP", "TLS", "PKI", "XFRM", "TrunkIPsec", "Provisioning", "Storage", "Media", "SDP",
                "TFTP", "TFTPProtocol", nioCore, nioPosix, logging,
                // The admin listener: /metrics over NIO's HTTP/1 codec, in Prometheus's format.
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict),

        // Layer 6: the command line, and beside it the benchmarks with their load generators and
        // peer launchers, which the integration tests reuse.
        .target(
            name: "OutpostBench",
            dependencies: [
                "Runtime", "Edge", "SIP", "SIPTransport", "TLS", "PKI", "TFTP", "TFTPProtocol", nioCore, nioPosix, logging,
                // The media bench drives the relay itself and keys its legs.
                "Media", "SRTP", "SDP",
                // The register bench creates Kamailio's SQLite location database with Kamailio's schema.
                "CSQLite",
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: benchStrict),
        .executableTarget(
            name: "outpost",
            dependencies: [
                "Runtime", "OutpostBench", "PKI", "TrunkIPsec", logging, .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),

        // The child processes of `outpost bench tls` and of the journal's crash test, kept out of the
        // product binary; both find it in the build products directory next to `outpost`.
        .executableTarget(
            name: "outpost-bench-child",
            dependencies: ["OutpostBench", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tests/Tools/outpost-bench-child",
            swiftSettings: strict),

        // The independent C baselines of `outpost bench media` (a bare libsrtp loop, a bare UDP
        // forwarding loop) and its load generator, built beside `outpost` like the child above.
        .executableTarget(
            name: "media-baseline", dependencies: ["CSRTP", "CSRTPShims"], path: "Tests/Tools/media-baseline",
            linkerSettings: [.linkedLibrary("srtp2")]),

        // The IPsec end-to-end check the XFRM tests run on a host with ESP, or inside a VM. It reads
        // the edge's configuration through Runtime's loader, as `outpost ipsec` does.
        .executableTarget(
            name: "xfrm-e2e", dependencies: ["XFRM", "TrunkIPsec", "Runtime"], path: "Tests/Tools/xfrm-e2e", swiftSettings: strict),

        .testTarget(name: "SIPTests", dependencies: ["SIP", "PKI"], exclude: ["RFC4475", "RFC5118"], swiftSettings: strict),
        .testTarget(name: "SDPTests", dependencies: ["SDP"], swiftSettings: strict),
        .testTarget(name: "TFTPProtocolTests", dependencies: ["TFTPProtocol"], swiftSettings: strict),
        .testTarget(name: "RTPTests", dependencies: ["RTP"], swiftSettings: strict),
        .testTarget(
            name: "TFTPTests",
            dependencies: ["TFTP", "TFTPProtocol", nioCore, nioPosix, logging],
            swiftSettings: strict),
        .testTarget(name: "SIPTransactionTests", dependencies: ["SIPTransaction", "SIP"], swiftSettings: strict),
        .testTarget(name: "SIPDialogTests", dependencies: ["SIPDialog", "SIP"], swiftSettings: strict),
        .testTarget(name: "PKITests", dependencies: ["PKI", "SIP"], swiftSettings: strict),
        // Private network namespaces for the kernel tests of XFRM and TrunkIPsec.
        // Under CI=true a test whose tool or privilege is missing fails instead of skipping.
        .target(name: "TestRequirementSupport", path: "Tests/TestRequirementSupport", swiftSettings: strict),
        .target(name: "XFRMTestSupport", dependencies: ["XFRM"], path: "Tests/XFRMTestSupport", swiftSettings: strict),
        .testTarget(name: "XFRMTests", dependencies: ["XFRM", "XFRMTestSupport"], exclude: ["VM"], swiftSettings: strict),
        .testTarget(name: "TrunkIPsecTests", dependencies: ["TrunkIPsec", "XFRM", "XFRMTestSupport"], swiftSettings: strict),
        // PKI for SecureRandom (SRTP master keys), COpenSSL for the tests' own AES and SHA-1, the
        // independent side of the SRTP known-answer tests.
        .testTarget(name: "WrapperTests", dependencies: ["SRTP", "DSP", "PKI", "COpenSSL"], swiftSettings: strict),
        .testTarget(
            name: "MediaTests",
            dependencies: ["Media", "Runtime", "Edge", "RTP", "SRTP", "SDP", "PKI", nioCore, nioPosix, logging],
            swiftSettings: strict),
        // The independent SRTP peer of the media tests: Debian's rtpengine driven over its ng
        // protocol, RTP/SRTP streaming over plain sockets, tones, and tshark captures.
        .target(name: "MediaPeerSupport", dependencies: ["SRTP", "DSP"], path: "Tests/MediaPeerSupport", swiftSettings: strict),
        .testTarget(
            name: "MediaPeerTests",
            dependencies: [
                "MediaPeerSupport", "TestRequirementSupport", "SRTP", "DSP", "Media", "Runtime", "SDP", "PKI", nioCore, nioPosix, logging,
            ],
            swiftSettings: strict),
        .testTarget(name: "StorageTests", dependencies: ["Storage"], swiftSettings: strict),
        // The systemd unit (systemd-analyze) and appliance/install and uninstall, run into a
        // temporary root. They use the `outpost` binary built beside the tests.
        .testTarget(name: "ApplianceTests", dependencies: ["TestRequirementSupport"], swiftSettings: strict),
        .testTarget(
            name: "SIPTransportTests",
            dependencies: [
                "SIPTransport", "SIP", nioCore, nioPosix, logging,
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "TLSTests", dependencies: ["TLS", nioCore],
            exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "EdgeTests", dependencies: ["Edge", "SIP", "SIPDialog", "SDP", "PKI", logging], swiftSettings: strict),
        .testTarget(name: "ProvisioningTests", dependencies: ["Provisioning", "Edge", "PKI"], swiftSettings: strict),
        .testTarget(
            name: "RuntimeTests",
            dependencies: [
                "Runtime", "Media", "SRTP", "SDP", "Edge", "SIP", "SIPTransaction", "SIPTransport", "TLS", "PKI", "Provisioning", "Storage", "TrunkIPsec", "XFRM",
                nioCore, nioPosix, logging,
                // The command line's argument parsing (`@testable import outpost`).
                "outpost", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Runtime", "OutpostBench", "SIP", "Edge", "SIPTransport", "TLS", "XFRM", "TFTP", "PKI", "TestRequirementSupport", nioCore,
                nioPosix, logging, .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: strict),
    ]
)
