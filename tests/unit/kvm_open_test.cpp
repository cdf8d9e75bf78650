// Kvm::open on things that are not KVM: each gives a clear error, never a crash.
#include <kvmxx/kvm.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

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

}  // namespace
