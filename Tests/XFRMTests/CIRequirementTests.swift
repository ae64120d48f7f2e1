import Foundation
import Testing
import XFRMTestSupport

/// The kernel and VM suites are enabled only where they can run; CI runs as root with
/// appliance/install-deps' QEMU and kernel image, so there they must not be skipped.
@Suite struct CIRequirementTests {
    @Test func theKernelAndVirtualMachineSuitesRunUnderCI() {
        guard ProcessInfo.processInfo.environment["CI"] == "true" else { return }
        #expect(XFRMTestEnvironment.usable, "CI=true, yet the XFRM kernel suites would be skipped")
        #expect(EndToEndEnvironment.mode != nil, "CI=true, yet the IPsec end-to-end test (host ESP or QEMU) would be skipped")
    }
}
