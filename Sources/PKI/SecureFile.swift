internal import Glibc

/// File operations for the PKI's state: private keys 0600, directories 0700, every write atomic
/// (temporary file in the same directory, fsync, rename, fsync of the directory).
public enum SecureFile {
    /// Mode of files holding private keys.
    public static let privateMode: UInt32 = 0o600
    /// Mode of certificates, CRLs and the index (inside a 0700 directory).
    public static let publicMode: UInt32 = 0o644
    /// Mode of the PKI's directories.
    public static let directoryMode: UInt32 = 0o700

    /// Writes a private key as PKCS#8 PEM with mode 0600. Refuses to replace an existing file
    /// unless `overwrite` (a key is never lost silently). The key text is never logged.
    public static func writePrivateKey(_ key: PrivateKey, to path: String, overwrite: Bool = false) throws(PKIStoreError) {
        if !overwrite && exists(path) {
            throw PKIStoreError(.alreadyExists, "\(path) exists; refusing to overwrite a private key")
        }
        let pem: String
        do { pem = try key.pkcs8PEM() } catch { throw PKIStoreError(error, while: "encode private key") }
        try write(Array(pem.utf8), to: path, mode: privateMode)
    }

    /// Writes `bytes` to `path` atomically with exactly `mode` (whatever the umask).
    public static func write(_ bytes: [UInt8], to path: String, mode: UInt32) throws(PKIStoreError) {
        let directory = parent(of: path)
        let random = UInt64.random(in: .min ... .max)
        let temporary = "\(directory)/.\(basename(of: path)).tmp.\(getpid()).\(String(random, radix: 16))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard descriptor >= 0 else { throw failure("create \(temporary)") }
        var failed: PKIStoreError?
        if fchmod(descriptor, mode) != 0 { failed = failure("chmod \(temporary)") }
        var offset = 0
        while failed == nil && offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                failed = failure("write \(temporary)")
            } else {
                offset += written
            }
        }
        if failed == nil && fsync(descriptor) != 0 { failed = failure("fsync \(temporary)") }
        if close(descriptor) != 0 && failed == nil { failed = failure("close \(temporary)") }
        if failed == nil && rename(temporary, path) != 0 { failed = failure("rename \(temporary) to \(path)") }
        if let failed {
            unlink(temporary)
            throw failed
        }
        syncDirectory(directory)
    }

    public static func write(_ text: String, to path: String, mode: UInt32) throws(PKIStoreError) {
        try write(Array(text.utf8), to: path, mode: mode)
    }

    /// Reads a whole file (at most `limit` bytes).
    public static func read(_ path: String, limit: Int = 4 << 20) throws(PKIStoreError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("open \(path)") }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("read \(path)")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit { throw PKIStoreError(.invalidInput, "\(path) is larger than \(limit) bytes") }
        }
        return bytes
    }

    /// Reads a UTF-8 text file.
    public static func readText(_ path: String) throws(PKIStoreError) -> String {
        let bytes = try read(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw PKIStoreError(.invalidInput, "\(path) is not UTF-8 text")
        }
        return text
    }

    /// Creates `path` (and missing parents) with mode 0700. An existing directory is tightened
    /// to 0700 when `tightenExisting` (the PKI's own folders), otherwise left as the operator set it.
    public static func makeDirectory(_ path: String, tightenExisting: Bool = true) throws(PKIStoreError) {
        if isDirectory(path) {
            if tightenExisting && permissions(of: path) != directoryMode && chmod(path, directoryMode) != 0 {
                throw failure("chmod \(path)")
            }
            return
        }
        let up = parent(of: path)
        if up != path && !isDirectory(up) { try makeDirectory(up, tightenExisting: false) }
        if mkdir(path, directoryMode) != 0 && errno != EEXIST { throw failure("mkdir \(path)") }
        if chmod(path, directoryMode) != 0 { throw failure("chmod \(path)") }
    }

    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The permission bits of `path` (`0o600`), or `nil` when it does not exist.
    public static func permissions(of path: String) -> UInt32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o7777
    }

    public static func remove(_ path: String) throws(PKIStoreError) {
        if unlink(path) != 0 && errno != ENOENT { throw failure("remove \(path)") }
        syncDirectory(parent(of: path))
    }

    /// Names in a directory (no `.`/`..`, no hidden files), sorted.
    public static func list(_ path: String) throws(PKIStoreError) -> [String] {
        guard let directory = opendir(path) else {
            if errno == ENOENT { return [] }
            throw failure("list \(path)")
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)) { String(cString: $0) }
            }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func basename(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    private static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    static func failure(_ what: String) -> PKIStoreError {
        PKIStoreError(.fileSystem, "cannot \(what): \(String(cString: strerror(errno)))")
    }
}

/// An exclusive or shared `flock` on the store's lock file, held until `release()` or deinit.
final class StoreLock {
    private var descriptor: Int32

    init(path: String, exclusive: Bool) throws(PKIStoreError) {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, SecureFile.privateMode)
        guard descriptor >= 0 else { throw SecureFile.failure("open lock file \(path)") }
        while flock(descriptor, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            if errno == EINTR { continue }
            let error = SecureFile.failure("lock \(path)")
            close(descriptor)
            throw error
        }
        self.descriptor = descriptor
    }

    func release() {
        guard descriptor >= 0 else { return }
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}
