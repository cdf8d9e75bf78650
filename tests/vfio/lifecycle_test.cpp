// Lifecycles with a passed-through device: a VM with its GIC and edu opened,
// DMA-mapped and wired to an irqfd, built and destroyed over and over, leaves the
// process and the kernel as they were.
#include "vfio_setup.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>

using namespace vfiotest;
using namespace kvmtest;

namespace {

constexpr std::size_t touched = 64 << 10;   // see tests/kvm/lifecycle_test.cpp
constexpr long rss_tolerance_kib = kvmtest::rss_noise_kib;  // process_usage.hpp says why

// VM + 2 vCPUs + GICv3 + ITS + 1 MiB of RAM + an eventfd irqfd (the KVM sequence),
// then edu: container (Type1v2), group, device fd, the RAM DMA-mapped (1 MiB pinned),
// the KVM VFIO device with the group, INTx → trigger eventfd → level irqfd on SPI 6
// with the unmask eventfd as resample fd. 1,000 times; sampled at cycle 10 and at the end.
// In the testbed (TCG) the 1,000 cycles take 64-65 s, about the 60 s aimed at.
TEST(VfioLifecycle, ThousandVmGicEduDmaIrqfdCyclesLeaveFdsMappingsRssPinsAndKernelVmsAsTheyWere) {
    REQUIRE_KVM();
    REQUIRE_DEVICES(d);
    constexpr int cycles = 1000, settle = 10;
    const Usage base = usage();
    const int vms_before = kernel_vms_of_this_process();
    const auto start = std::chrono::steady_clock::now();
    Usage at_settle;
    long pinned_kib = -1;
    for (int i = 1; i <= cycles; ++i) {
        {
            VfioSetup s;
            auto r = setup_vfio(s, d->edu);
            ASSERT_TRUE(r) << "cycle " << i << ": " << r.error().message();
            std::memset(s.kvm.ram.host, 0x5a, touched);
            if (i == settle || i == cycles) {
                pinned_kib = usage().locked_kib - base.locked_kib;
                EXPECT_EQ(pinned_kib, static_cast<long>(s.kvm.ram.size >> 10))
                    << "cycle " << i << ": the DMA map pinned (VmLck) exactly the VM's RAM";
                if (vms_before >= 0) {
                    EXPECT_EQ(kernel_vms_of_this_process(), vms_before + 1) << "debugfs shows the VM while it lives";
                }
            }
        }  // destroyed: the samples are of the process between two cycles
        if (i == settle) at_settle = usage();
    }
    const Usage at_end = usage();
    const int vms_after = kernel_vms_of_this_process();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("  %d cycles in %.1f s; VMs of this process in the kernel (debugfs, -1: none): %d before, %d after\n",
                cycles, secs, vms_before, vms_after);
    std::printf("  cycle %d: %s; cycle %d: %s; pinned during a cycle: %ld KiB\n",
                settle, at_settle.str().c_str(), cycles, at_end.str().c_str(), pinned_kib);
    ASSERT_GT(at_settle.fds, 0);
    ASSERT_GT(at_settle.mappings, 0);
    ASSERT_GT(at_settle.rss_kib, 0);
    EXPECT_EQ(at_end.fds, at_settle.fds);
    EXPECT_EQ(at_end.mappings, at_settle.mappings);
    EXPECT_NEAR(at_end.rss_kib, at_settle.rss_kib, rss_tolerance_kib);
    EXPECT_EQ(at_end.locked_kib, base.locked_kib) << "every DMA pin was released";
    if (vms_before >= 0) {
        EXPECT_EQ(vms_after, vms_before) << "the kernel destroyed every VM";
    }

    // A new VM starts empty, and the device opens again (nothing still holds it).
    VfioSetup fresh;
    auto kvm = kvmxx::Kvm::open();
    ASSERT_OK(kvm);
    auto vm = kvm->create_vm();
    ASSERT_OK(vm);
    EXPECT_EQ(kernel_slot_errno(*vm, 0, 1 << 20), ENOENT);
    auto r = setup_vfio(fresh, d->edu);
    ASSERT_TRUE(r) << r.error().message();
}

}  // namespace
