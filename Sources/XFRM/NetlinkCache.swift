internal import CNetlink

/// Owner of a filled libnl cache (`struct nl_cache`).
final class NetlinkCache {
    /// `struct nl_cache *`, owned: released with `nl_cache_free` in `deinit`.
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        nl_cache_free(pointer)
    }

    var count: Int { Int(nl_cache_nitems(pointer)) }

    /// Calls `body` with each object (`struct nl_object *`, borrowed from the cache).
    func forEach(_ body: (OpaquePointer) -> Void) {
        var object = nl_cache_get_first(pointer)
        while let current = object {
            body(current)
            object = nl_cache_get_next(current)
        }
    }
}
