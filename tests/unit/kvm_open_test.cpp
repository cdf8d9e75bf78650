// Kvm::open on things that are not KVM: each gives a clear error, never a crash.
#include <kvmxx/kvm.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace {

TEST(KvmOpen, MissingPathIsEnoentNamingThePath) {
    auto kvm = kvmxx::Kvm::open("/nonexistent/kvm");
    ASSERT_FALSE(kvm);
    EXPECT_EQ(kvm.error().errnum(), ENOENT);
    EXPECT_STREQ(kvm.error().operation(), "open");
    EXPECT_NE(kvm.error().message().find("/nonexistent/kvm"), std::string::npos);
}

TEST(KvmOpen, NonKvmDeviceIsEnottyWithHint) {
    auto kvm = kvmxx::Kvm::open("/dev/null");
    ASSERT_FALSE(kvm);
    EXPECT_STREQ(kvm.error().operation(), "KVM_GET_API_VERSION");
    EXPECT_EQ(kvm.error().errnum(), ENOTTY);
    EXPECT_NE(kvm.error().message().find("/dev/null is not a KVM device"), std::string::npos);
    EXPECT_NE(kvm.error().hint().find("/dev/kvm"), std::string::npos);
}

TEST(KvmOpen, RegularFileIsNotKvm) {
    char path[] = "/tmp/kvmxx-not-kvm-XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    auto kvm = kvmxx::Kvm::open(path);
    ::unlink(path);
    ASSERT_FALSE(kvm);
    EXPECT_EQ(kvm.error().errnum(), ENOTTY);
}

TEST(KvmOpen, DirectoryIsRefusedByOpen) {
    auto kvm = kvmxx::Kvm::open("/tmp");
    ASSERT_FALSE(kvm);
    EXPECT_EQ(kvm.error().errnum(), EISDIR);
}

// Real /dev/kvm where this host has one; the testbed always does.
TEST(KvmOpen, RealDevKvmReportsApiVersion12) {
    if (::access("/dev/kvm", F_OK) != 0) GTEST_SKIP() << "no /dev/kvm on this host: the real-kernel suite runs in the testbed";
    auto kvm = kvmxx::Kvm::open();
    ASSERT_TRUE(kvm) << kvm.error().message();
    EXPECT_EQ(*kvm->api_version(), 12);
    EXPECT_GT(*kvm->vcpu_mmap_size(), 0u);
    auto vm = kvm->create_vm();
    ASSERT_TRUE(vm) << vm.error().message();
}

}  // namespace
