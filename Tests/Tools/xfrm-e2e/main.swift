import Glibc
import XFRM

// The end-to-end check of trunk protection against a kernel with ESP: two network namespaces,
// the edge (programmed through the XFRM target, i.e. libnl-xfrm) and a peer configured with
// iproute2's `ip xfrm` and the same keys. Prints one `E2E PASS|FAIL <check>` line per check and
// `E2E RESULT PASS|FAIL` last; exits 0 only if every check passed. Meant to run as root in the
// test VM (Tests/XFRMTests/VM/run-vm-e2e.sh), or directly on a host whose kernel has ESP.

var run = EndToEnd()
let passed = run.runAll()
exit(passed ? 0 : 1)
