// Error: one readable line, errno kept, std::error_code conversion, hints.
#include <kvmxx/error.hpp>

#include <gtest/gtest.h>

#include <system_error>

namespace {

TEST(Error, MessageNamesOperationErrnoDetailAndHint) {
    auto e = kvmxx::fail("KVM_CREATE_VCPU", EEXIST, "vcpu_id=0").error();
    EXPECT_STREQ(e.operation(), "KVM_CREATE_VCPU");
    EXPECT_EQ(e.errnum(), EEXIST);
    EXPECT_EQ(e.detail(), "vcpu_id=0");
    EXPECT_EQ(e.message(), "KVM_CREATE_VCPU: File exists (EEXIST) [vcpu_id=0]; hint: each vCPU id can be created once per VM");
    EXPECT_EQ(e.message().find('\n'), std::string::npos);
}

TEST(Error, ConvertsToSystemErrorCode) {
    auto e = kvmxx::fail("KVM_RUN", EFAULT).error();
    std::error_code code = e;
    EXPECT_EQ(code, std::errc::bad_address);
    EXPECT_EQ(code.category(), std::system_category());
    EXPECT_EQ(e.code().value(), EFAULT);
}

TEST(Error, HintsForMissingOrForbiddenDevKvm) {
    auto missing = kvmxx::fail("open", ENOENT, "/dev/kvm").error();
    EXPECT_NE(missing.hint().find("kvm"), std::string::npos);
    EXPECT_NE(missing.hint().find("testbed"), std::string::npos);
    auto denied = kvmxx::fail("open", EACCES, "/dev/kvm").error();
    EXPECT_NE(denied.hint().find("kvm group"), std::string::npos);
    EXPECT_NE(denied.hint().find("root-only"), std::string::npos) << "a 0600 root node with no kvm group";
    EXPECT_NE(denied.hint().find("chmod 660 /dev/kvm"), std::string::npos);
    auto busy = kvmxx::fail("VFIO_GROUP_SET_CONTAINER", EBUSY).error();
    EXPECT_NE(busy.hint().find("in use"), std::string::npos);
}

TEST(Error, AnUninitialisedArm64VcpuSaysHowToInitialiseIt) {
    for (const char* op : {"KVM_SET_ONE_REG", "KVM_GET_ONE_REG", "KVM_RUN"}) {
        auto e = kvmxx::fail(op, ENOEXEC).error();
        EXPECT_NE(e.hint().find("not initialised"), std::string::npos) << op;
        EXPECT_NE(e.hint().find("Vcpu::init"), std::string::npos) << op;
    }
}

TEST(Error, OverlappingSlotAndInvalidArgumentHintsNameTheFix) {
    auto overlap = kvmxx::fail("KVM_SET_USER_MEMORY_REGION", EEXIST, "slot=1").error();
    EXPECT_NE(overlap.hint().find("overlaps"), std::string::npos);
    auto bad = kvmxx::fail("KVM_SET_USER_MEMORY_REGION", EINVAL, "slot=1").error();
    EXPECT_NE(bad.hint().find("page aligned"), std::string::npos);
}

TEST(Error, NoHintWhereNoneHelps) {
    auto e = kvmxx::fail("KVM_GET_ONE_REG", ENOENT, "reg=0x1").error();
    EXPECT_TRUE(e.hint().empty());
    EXPECT_EQ(e.message(), "KVM_GET_ONE_REG: No such file or directory (ENOENT) [reg=0x1]");
}

TEST(Error, ErrnoNames) {
    EXPECT_STREQ(kvmxx::errno_name(EBUSY), "EBUSY");
    EXPECT_STREQ(kvmxx::errno_name(ENOTTY), "ENOTTY");
    EXPECT_STREQ(kvmxx::errno_name(100000), "E?");
}

// Each name is the <errno.h> macro's own spelling (the preprocessor writes the expected text).
TEST(Error, EveryListedErrnoIsNamedByItsMacro) {
#define KVMXX_ERRNO(e) EXPECT_STREQ(kvmxx::errno_name(e), #e)
    KVMXX_ERRNO(EPERM); KVMXX_ERRNO(ENOENT); KVMXX_ERRNO(ESRCH); KVMXX_ERRNO(EINTR);
    KVMXX_ERRNO(EIO); KVMXX_ERRNO(ENXIO); KVMXX_ERRNO(E2BIG); KVMXX_ERRNO(EBADF);
    KVMXX_ERRNO(EAGAIN); KVMXX_ERRNO(ENOMEM); KVMXX_ERRNO(EACCES); KVMXX_ERRNO(EFAULT);
    KVMXX_ERRNO(EBUSY); KVMXX_ERRNO(EEXIST); KVMXX_ERRNO(ENODEV); KVMXX_ERRNO(ENOTDIR);
    KVMXX_ERRNO(EISDIR); KVMXX_ERRNO(EINVAL); KVMXX_ERRNO(ENFILE); KVMXX_ERRNO(EMFILE);
    KVMXX_ERRNO(ENOTTY); KVMXX_ERRNO(EFBIG); KVMXX_ERRNO(ENOSPC); KVMXX_ERRNO(ERANGE);
    KVMXX_ERRNO(ENOSYS); KVMXX_ERRNO(EOPNOTSUPP); KVMXX_ERRNO(ETIMEDOUT); KVMXX_ERRNO(EOVERFLOW);
    KVMXX_ERRNO(ENOEXEC); KVMXX_ERRNO(EHWPOISON);
#undef KVMXX_ERRNO
}

// arm64 refuses KVM_CREATE_VCPU with EBUSY once the VGIC is initialised
// (kvm_arch_vcpu_precreate), and with EINVAL for an id at or above KVM_CAP_MAX_VCPU_ID.
TEST(Error, CreateVcpuBusyAndInvalidHintsNameTheirOwnCause) {
    auto busy = kvmxx::fail("KVM_CREATE_VCPU", EBUSY, "vcpu_id=1").error();
    EXPECT_NE(busy.hint().find("VGIC"), std::string::npos) << busy.hint();
    auto invalid = kvmxx::fail("KVM_CREATE_VCPU", EINVAL, "vcpu_id=9999").error();
    EXPECT_NE(invalid.hint().find("KVM_CAP_MAX_VCPU_ID"), std::string::npos) << invalid.hint();
    EXPECT_EQ(invalid.hint().find("VGIC"), std::string::npos) << invalid.hint();
}

// open(2) says EPERM as well as EACCES for a node the caller may not use (a device
// cgroup or an LSM refusing /dev/kvm): the permission hint is for both.
TEST(Error, EpermOpeningDevKvmGetsThePermissionHint) {
    auto e = kvmxx::fail("open", EPERM, "/dev/kvm").error();
    EXPECT_NE(e.hint().find("no permission on /dev/kvm"), std::string::npos) << e.hint();
}

TEST(Error, FailErrnoKeepsTheErrnoOfTheCallThatJustFailed) {
    errno = EIO;
    auto e = kvmxx::fail_errno("read", "fd=3").error();
    EXPECT_EQ(e.errnum(), EIO);
    EXPECT_EQ(e.message(), "read: Input/output error (EIO) [fd=3]");
}

}  // namespace
