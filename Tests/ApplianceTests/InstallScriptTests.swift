import Foundation
import Testing
import TestRequirementSupport

#if canImport(Glibc)
import Glibc
#endif

/// appliance/install and appliance/uninstall run into a temporary root (`--root`), with the
/// binary built beside the tests instead of a release build: twice is the same as once, the
/// operator's configuration is never replaced, and uninstall keeps configuration, state and user
/// unless purging.
@Suite(.serialized) struct InstallScriptTests {
    struct Entry: Equatable, CustomStringConvertible {
        let mode: UInt32
        let owner: UInt32
        let group: UInt32
        let contents: Data?
        var description: String { String(format: "%o %d:%d", mode, owner, group) + " \(contents?.count ?? -1) bytes" }
    }

    /// Every file and directory under `root`, with mode, owner and contents.
    static func snapshot(_ root: String) throws -> [String: Entry] {
        var entries: [String: Entry] = [:]
        let enumerator = try #require(FileManager.default.enumerator(atPath: root))
        for case let relative as String in enumerator {
            var info = stat()
            try #require(lstat(root + "/" + relative, &info) == 0)
            let isFile = info.st_mode & S_IFMT == S_IFREG
            entries[relative] = Entry(
                mode: info.st_mode & 0o7777, owner: info.st_uid, group: info.st_gid,
                contents: isFile ? FileManager.default.contents(atPath: root + "/" + relative) : nil)
        }
        return entries
    }

    static func makeRoot() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("outpost-root-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        for (name, text, mode) in [
            ("passwd", "root:x:0:0:root:/root:/bin/bash\n", 0o644), ("group", "root:x:0:\n", 0o644),
            ("shadow", "root:*:19000:0:99999:7:::\n", 0o600), ("gshadow", "root:*::\n", 0o600),
        ] {
            try text.write(toFile: "\(root)/etc/\(name)", atomically: true, encoding: .utf8)
            chmod("\(root)/etc/\(name)", mode_t(mode))
        }
        return root
    }

    static func script(_ name: String, _ arguments: [String]) throws -> Command.Outcome {
        try Command.run("/bin/bash", [Checkout.root + "/appliance/" + name] + arguments)
    }

    @Test func installTwiceIsInstallOnceAndUninstallKeepsStateUnlessPurged() throws {
        guard geteuid() == 0 else {
            TestRequirement.unmet("useradd --prefix and chown into the temporary root need root")
            return
        }
        let binary = Checkout.builtBinary
        try #require(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is built beside the tests")
        let hostHadUser = getpwnam("outpost") != nil
        let root = try Self.makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }

        let first = try Self.script("install", ["--root", root, "--binary", binary])
        #expect(first.status == 0, "\(first.output)")
        let once = try Self.snapshot(root)
        let second = try Self.script("install", ["--root", root, "--binary", binary])
        #expect(second.status == 0, "\(second.output)")
        let twice = try Self.snapshot(root)
        #expect(once.keys.sorted() == twice.keys.sorted())
        for (path, entry) in once where twice[path] != entry {
            Issue.record("\(path) changed on the second install: \(entry) then \(twice[path].map { "\($0)" } ?? "gone")")
        }

        // What was installed, with which modes.
        let passwd = try String(contentsOfFile: root + "/etc/passwd", encoding: .utf8).split(separator: "\n")
        let users = passwd.filter { $0.hasPrefix("outpost:") }
        #expect(users.count == 1, "\(passwd)")
        let fields = users.first.map { $0.split(separator: ":", omittingEmptySubsequences: false) } ?? []
        #expect(fields.count == 7 && fields[5] == "/var/lib/outpost" && fields[6] == "/usr/sbin/nologin", "\(users)")
        let groups = try String(contentsOfFile: root + "/etc/group", encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix("outpost:") }
        #expect(groups.count == 1)
        let groupID = groups.first.flatMap { UInt32($0.split(separator: ":", omittingEmptySubsequences: false)[2]) }
        #expect(fields.count == 7 && groupID.map(String.init) == String(fields[3]), "the user's primary group is outpost")

        let expected: [(path: String, mode: UInt32, source: String)] = [
            ("usr/local/bin/outpost", 0o755, binary),
            ("etc/systemd/system/outpost.service", 0o644, Checkout.root + "/systemd/outpost.service"),
            ("etc/sysctl.d/60-outpost.conf", 0o644, Checkout.root + "/appliance/sysctl.d/60-outpost.conf"),
            ("etc/outpost/outpost.yaml", 0o640, Checkout.root + "/appliance/outpost.yaml"),
        ]
        for file in expected {
            let entry = twice[file.path]
            #expect(entry?.mode == file.mode, "\(file.path): \(entry.map { "\($0)" } ?? "missing")")
            #expect(entry?.owner == 0, "\(file.path) belongs to root")
            #expect(entry?.contents == FileManager.default.contents(atPath: file.source), "\(file.path) is a copy of \(file.source)")
        }
        #expect(twice["etc/outpost/outpost.yaml"]?.group == groupID, "the edge's group reads its configuration")
        #expect((getpwnam("outpost") != nil) == hostHadUser, "the host's own /etc/passwd is left alone")

        // The operator's configuration survives a reinstall.
        let edited = "# edited by the operator\nlog_level: debug\n"
        try edited.write(toFile: root + "/etc/outpost/outpost.yaml", atomically: true, encoding: .utf8)
        let third = try Self.script("install", ["--root", root, "--binary", binary])
        #expect(third.status == 0 && third.output.contains("keeping the existing"), "\(third.output)")
        #expect(try String(contentsOfFile: root + "/etc/outpost/outpost.yaml", encoding: .utf8) == edited)

        // Uninstall removes what install put there and keeps configuration, state and user.
        try FileManager.default.createDirectory(atPath: root + "/var/lib/outpost/pki", withIntermediateDirectories: true)
        try "registrations".write(toFile: root + "/var/lib/outpost/registrations.sqlite", atomically: true, encoding: .utf8)
        let removed = try Self.script("uninstall", ["--root", root])
        #expect(removed.status == 0, "\(removed.output)")
        let after = try Self.snapshot(root)
        for file in ["usr/local/bin/outpost", "etc/systemd/system/outpost.service", "etc/sysctl.d/60-outpost.conf"] {
            #expect(after[file] == nil, "\(file) is still there after uninstall")
        }
        #expect(after["etc/outpost/outpost.yaml"]?.contents == Data(edited.utf8))
        #expect(after["var/lib/outpost/registrations.sqlite"] != nil)
        #expect(try String(contentsOfFile: root + "/etc/passwd", encoding: .utf8).contains("\noutpost:"))
        let again = try Self.script("uninstall", ["--root", root])
        #expect(again.status == 0, "a second uninstall is harmless: \(again.output)")

        // --purge takes configuration, state, user and group too.
        let purged = try Self.script("uninstall", ["--root", root, "--purge"])
        #expect(purged.status == 0, "\(purged.output)")
        let left = try Self.snapshot(root)
        #expect(left["etc/outpost"] == nil && left["var/lib/outpost"] == nil, "\(left.keys.sorted())")
        #expect(!(try String(contentsOfFile: root + "/etc/passwd", encoding: .utf8).contains("outpost:")))
        #expect(!(try String(contentsOfFile: root + "/etc/group", encoding: .utf8).contains("outpost:")))
    }

    @Test func unknownArgumentsAreRefused() throws {
        let install = try Self.script("install", ["--frobnicate"])
        #expect(install.status == 2 && install.output.contains("unknown argument --frobnicate"), "\(install.output)")
        let uninstall = try Self.script("uninstall", ["--frobnicate"])
        #expect(uninstall.status == 2 && uninstall.output.contains("unknown argument --frobnicate"), "\(uninstall.output)")
    }
}
