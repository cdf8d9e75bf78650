// The teaching trace: one decoded line per ioctl, through a sink, only when on.
#include <kvmxx/eventfd.hpp>
#include <kvmxx/ioctl.hpp>
#include <kvmxx/kvm.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/kvm.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct Capture {
    std::vector<std::string> lines;
    static void sink(std::string_view line, void* self) {
        static_cast<Capture*>(self)->lines.emplace_back(line);
    }
};

class Trace : public ::testing::Test {
protected:
    void SetUp() override { kvmxx::trace::set_sink(&Capture::sink, &capture); }
    void TearDown() override {
        kvmxx::trace::disable();
        kvmxx::trace::set_sink(nullptr);
    }
    Capture capture;
};

TEST_F(Trace, OffPrintsNothing) {
    kvmxx::trace::disable();
    EXPECT_FALSE(kvmxx::Kvm::open("/dev/null"));
    EXPECT_TRUE(capture.lines.empty());
}

TEST_F(Trace, FailedIoctlLineNamesIoctlArgumentsAndErrno) {
    kvmxx::trace::enable();
    auto ev = kvmxx::EventFd::create();
    ASSERT_TRUE(ev);
    // KVM_CREATE_VCPU on an eventfd: the kernel says ENOTTY, the trace says so in words.
    auto r = kvmxx::sys::ioctl(ev->fd(), KVM_CREATE_VCPU, "KVM_CREATE_VCPU", 3UL,
                               [] { return std::string("vcpu_id=3"); });
    ASSERT_FALSE(r);
    ASSERT_EQ(capture.lines.size(), 1u);
    EXPECT_EQ(capture.lines[0], "KVM_CREATE_VCPU vcpu_id=3 -> ENOTTY (Inappropriate ioctl for device)");
    EXPECT_EQ(r.error().detail(), "vcpu_id=3");
}

TEST_F(Trace, KvmOpenTracesOpenAndTheVersionProbe) {
    kvmxx::trace::enable();
    EXPECT_FALSE(kvmxx::Kvm::open("/dev/null"));
    ASSERT_EQ(capture.lines.size(), 2u);
    EXPECT_EQ(capture.lines[0].rfind("open path=/dev/null -> ", 0), 0u);
    EXPECT_EQ(capture.lines[1], "KVM_GET_API_VERSION -> ENOTTY (Inappropriate ioctl for device)");
}

TEST_F(Trace, ArgsFormatting) {
    auto text = kvmxx::trace::Args().dec("slot", 1).hex("gpa", 0x4000'0000).sdec("delta", -5).str("dir", "write").take();
    EXPECT_EQ(text, "slot=1 gpa=0x40000000 delta=-5 dir=write");
    EXPECT_EQ(kvmxx::trace::hex(255), "0xff");
}

TEST_F(Trace, SignedDecimalCoversTheWholeInt64Range) {
    EXPECT_EQ(kvmxx::trace::Args().sdec("v", INT64_MIN).take(), "v=-9223372036854775808");
    EXPECT_EQ(kvmxx::trace::Args().sdec("v", INT64_MAX).take(), "v=9223372036854775807");
    EXPECT_EQ(kvmxx::trace::Args().sdec("v", -1).take(), "v=-1");
    EXPECT_EQ(kvmxx::trace::Args().sdec("v", 0).take(), "v=0");
}

// KVMXX_TRACE=1 turns the trace on; unset, empty or "0" leaves it off.
TEST_F(Trace, TheEnvironmentSwitchIsOffForUnsetEmptyAndZero) {
    const char* saved = std::getenv("KVMXX_TRACE");
    const std::string before = saved ? saved : "";
    ::unsetenv("KVMXX_TRACE");
    EXPECT_FALSE(kvmxx::trace::detail::enabled_from_environment());
    ::setenv("KVMXX_TRACE", "", 1);
    EXPECT_FALSE(kvmxx::trace::detail::enabled_from_environment());
    ::setenv("KVMXX_TRACE", "0", 1);
    EXPECT_FALSE(kvmxx::trace::detail::enabled_from_environment());
    ::setenv("KVMXX_TRACE", "1", 1);
    EXPECT_TRUE(kvmxx::trace::detail::enabled_from_environment());
    if (saved) ::setenv("KVMXX_TRACE", before.c_str(), 1);
    else ::unsetenv("KVMXX_TRACE");
}

}  // namespace
