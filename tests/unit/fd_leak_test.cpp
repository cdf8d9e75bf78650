// Create/destroy loops must leave the process's fd table as it was.
#include <kvmxx/kvmxx.hpp>

#include <gtest/gtest.h>

#include <dirent.h>
#include <unistd.h>

namespace {

int open_fd_count() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d)) ++n;
        ::closedir(d);
    }
    return n;
}

TEST(FdLeak, EventFdsAndFailedOpensLeaveNoDescriptorBehind) {
    const int before = open_fd_count();
    for (int i = 0; i < 200; ++i) {
        auto a = kvmxx::EventFd::create();
        auto b = kvmxx::EventFd::create({.semaphore = true});
        ASSERT_TRUE(a && b);
        kvmxx::EventFd moved = std::move(*a);
        // Kvm::open opens /dev/null, then the version probe fails: the fd must be closed.
        EXPECT_FALSE(kvmxx::Kvm::open("/dev/null"));
        EXPECT_FALSE(kvmxx::Kvm::open("/nonexistent"));
    }
    EXPECT_EQ(open_fd_count(), before);
}

TEST(FdLeak, RealKvmVmAndVcpuCycles) {
    if (::access("/dev/kvm", F_OK) != 0) GTEST_SKIP() << "no /dev/kvm on this host: the real-kernel suite runs in the testbed";
    auto kvm = kvmxx::Kvm::open();
    ASSERT_TRUE(kvm) << kvm.error().message();
    const int before = open_fd_count();
    for (int i = 0; i < 50; ++i) {
        auto vm = kvm->create_vm();
        ASSERT_TRUE(vm) << vm.error().message();
        ASSERT_TRUE(vm->add_memory(0x10000, 0x10000));
        auto cpu = vm->create_vcpu(0);
        ASSERT_TRUE(cpu) << cpu.error().message();
    }
    EXPECT_EQ(open_fd_count(), before);
}

}  // namespace
