// Fault paths with a passed-through device: every fd of the VFIO setup refused in
// turn by RLIMIT_NOFILE, and a DMA map that RLIMIT_MEMLOCK does not let VFIO pin.
// Each failure is one line naming the call with the kernel's errno, and leaves no fd,
// mapping, pinned page or VM behind.
#include "vfio_setup.hpp"

#include <linux/capability.h>
#include <sys/syscall.h>

#include <cstdio>
#include <string>

using namespace vfiotest;
using namespace kvmtest;

namespace {

TEST(VfioFault, EachFdOfTheVfioSetupRefusedInTurnIsEmfileNamingItsCallAndLeavesNothingBehind) {
    REQUIRE_KVM();
    REQUIRE_DEVICES(d);
    const auto steps = vfio_fd_steps();
    {
        VfioSetup warm;
        auto r = setup_vfio(warm, d->edu);
        ASSERT_TRUE(r) << r.error().message();
    }
    const Usage before = usage();
    ASSERT_GT(before.fds, 0);
    const int vms_before = kernel_vms_of_this_process();
    RlimitGuard nofile(RLIMIT_NOFILE);
    ASSERT_TRUE(nofile.ok());
    for (unsigned n = 0;; ++n) {
        ASSERT_LE(n, steps.size()) << "the setup still fails with " << n << " fds to spare";
        const auto fds = open_fds();
        kvmxx::Result<> r;
        {
            VfioSetup s;
            ASSERT_TRUE(nofile.set(nofile_limit_for(fds, n)));
            r = setup_vfio(s, d->edu);
            nofile.restore();
        }
        const Usage after = usage();
        EXPECT_EQ(after.fds, before.fds) << "n=" << n << ": " << before.str() << " → " << after.str();
        EXPECT_EQ(after.mappings, before.mappings) << "n=" << n << ": " << before.str() << " → " << after.str();
        EXPECT_EQ(after.locked_kib, before.locked_kib) << "n=" << n << ": no DMA page stays pinned";
        if (vms_before >= 0) {
            EXPECT_EQ(kernel_vms_of_this_process(), vms_before) << "n=" << n;
        }
        if (r) {
            EXPECT_EQ(n, steps.size()) << "the setup succeeded with fewer fds than it has steps that take one";
            break;
        }
        ASSERT_LT(n, steps.size()) << r.error().message();
        expect_one_line(r.error(), steps[n], EMFILE);
        std::printf("  fd %u refused: %s\n", n, r.error().message().c_str());
    }
}

/// Drops CAP_IPC_LOCK from this thread's effective set for the scope: with it, VFIO
/// type1 pins without looking at RLIMIT_MEMLOCK (dma->lock_cap), as root in the testbed has.
class WithoutCapIpcLock {
public:
    WithoutCapIpcLock() {
        if (::syscall(SYS_capget, &head_, saved_) != 0) return;
        __user_cap_data_struct dropped[2] = {saved_[0], saved_[1]};
        dropped[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
        ok_ = ::syscall(SYS_capset, &head_, dropped) == 0;
    }
    ~WithoutCapIpcLock() {
        if (ok_) (void)::syscall(SYS_capset, &head_, saved_);
    }
    WithoutCapIpcLock(const WithoutCapIpcLock&) = delete;
    WithoutCapIpcLock& operator=(const WithoutCapIpcLock&) = delete;
    bool ok() const { return ok_; }

private:
    __user_cap_header_struct head_{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct saved_[2]{};
    bool ok_ = false;
};

TEST(VfioFault, DmaPinningBeyondRlimitMemlockIsEnomemFromMapDmaAndPinsNothing) {
    REQUIRE_KVM();
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    constexpr std::uint64_t iova = kvmtest::ram_base, bytes = 1 << 20;
    auto ram = kvmxx::Mapping::anonymous(bytes);
    ASSERT_OK(ram);
    WithoutCapIpcLock nocap;
    ASSERT_TRUE(nocap.ok());
    const Usage before = usage();
    ASSERT_GE(before.locked_kib, 0);
    kvmxx::Result<> map;
    {
        RlimitGuard memlock(RLIMIT_MEMLOCK);
        ASSERT_TRUE(memlock.ok());
        // 64 KiB more than is locked now: 16 of the 256 pages.
        ASSERT_TRUE(memlock.set(static_cast<rlim_t>(before.locked_kib + 64) * 1024));
        map = o.container.map_dma(iova, ram->data(), bytes);
    }
    ASSERT_FALSE(map) << "1 MiB pinned under a 64 KiB RLIMIT_MEMLOCK without CAP_IPC_LOCK";
    expect_one_line(map.error(), "VFIO_IOMMU_MAP_DMA", ENOMEM);
    EXPECT_NE(map.error().detail().find("iova=0x40000000 size=0x100000"), std::string::npos) << map.error().message();
    std::printf("  %s\n", map.error().message().c_str());
    const Usage after = usage();
    EXPECT_EQ(after.locked_kib, before.locked_kib) << "the pages pinned before the limit was hit were released";
    EXPECT_EQ(after.fds, before.fds);
    EXPECT_EQ(after.mappings, before.mappings);
    // Nothing of the range stays mapped in the IOMMU: an unmap finds 0 bytes, and with the
    // limit back the same map goes in (no EEXIST) and pins exactly the range.
    auto unmap = o.container.unmap_dma(iova, bytes);
    ASSERT_FALSE(unmap);
    EXPECT_EQ(unmap.error().errnum(), ENOENT) << unmap.error().message();
    EXPECT_NE(unmap.error().detail().find("unmapped=0x0"), std::string::npos) << unmap.error().message();
    ASSERT_OK(o.container.map_dma(iova, ram->data(), bytes));
    EXPECT_EQ(usage().locked_kib, before.locked_kib + static_cast<long>(bytes >> 10));
    ASSERT_OK(o.container.unmap_dma(iova, bytes));
    EXPECT_EQ(usage().locked_kib, before.locked_kib);
}

}  // namespace
