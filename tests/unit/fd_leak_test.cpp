// Create/destroy loops must leave the process's fd table as it was.
#include <kvmxx/kvmxx.hpp>

#include <gtest/gtest.h>

#include <dirent.h>
#include <unistd.h>

namespace {

int open_fd_count() {
    // -1 when /proc/self/fd cannot be read, so that a leak test cannot pass as 0 == 0.
    DIR* d = ::opendir("/proc/self/fd");
    if (d == nullptr) return -1;
    int n = 0;
    while (::readdir(d)) ++n;
    ::closedir(d);
    return n;
}

TEST(FdLeak, EventFdsAndFailedOpensLeaveNoDescriptorBehind) {
    const int before = open_fd_count();
    ASSERT_GT(before, 0) << "/proc/self/fd must be readable for a leak test";
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

}  // namespace
