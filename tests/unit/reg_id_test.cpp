// ONE_REG ids: sizes, arm64 encodings (checked against the documented values;
// on aarch64 builds the header also static_asserts them against <asm/kvm.h>).
#include <kvmxx/arm64/regs.hpp>
#include <kvmxx/reg_id.hpp>

#include <gtest/gtest.h>

namespace {

using namespace kvmxx::arm64;

TEST(RegId, SizeDecoding) {
    EXPECT_EQ(kvmxx::reg_size(KVM_REG_SIZE_U32), 4u);
    EXPECT_EQ(kvmxx::reg_size(KVM_REG_SIZE_U64), 8u);
    EXPECT_EQ(kvmxx::reg_size(KVM_REG_SIZE_U128), 16u);
    EXPECT_EQ(kvmxx::reg_size_code(8), static_cast<std::uint64_t>(KVM_REG_SIZE_U64));
}

// KVM_REG_SIZE_* as api.rst defines them (KVM_SET_ONE_REG: the size is 1 << bits 52-55 bytes).
TEST(RegId, EverySizeCodeIsTheDocumentedOneAndDecodesBackToItsSize) {
    EXPECT_EQ(kvmxx::reg_size_code(1), 0x0000000000000000ULL);
    EXPECT_EQ(kvmxx::reg_size_code(2), 0x0010000000000000ULL);
    EXPECT_EQ(kvmxx::reg_size_code(4), 0x0020000000000000ULL);
    EXPECT_EQ(kvmxx::reg_size_code(8), 0x0030000000000000ULL);
    EXPECT_EQ(kvmxx::reg_size_code(16), 0x0040000000000000ULL);
    EXPECT_EQ(kvmxx::reg_size_code(32), 0x0050000000000000ULL);
    for (std::uint64_t bytes : {1u, 2u, 4u, 8u, 16u, 32u})
        EXPECT_EQ(kvmxx::reg_size(kvmxx::reg_size_code(bytes)), bytes) << bytes << " bytes";
}

// Values as the arm64 KVM ABI defines them (Documentation/virt/kvm/api.rst, "ARM64 registers").
TEST(RegId, Arm64CoreRegisterIds) {
    EXPECT_EQ(reg::x(0).id, 0x6030000000100000ULL);
    EXPECT_EQ(reg::x(1).id, 0x6030000000100002ULL);
    EXPECT_EQ(reg::x(30).id, 0x603000000010003cULL);
    EXPECT_EQ(reg::sp.id, 0x603000000010003eULL);
    EXPECT_EQ(reg::pc.id, 0x6030000000100040ULL);
    EXPECT_EQ(reg::pstate.id, 0x6030000000100042ULL);
    EXPECT_EQ(reg::sp_el1.id, 0x6030000000100044ULL);
    EXPECT_EQ(reg::elr_el1.id, 0x6030000000100046ULL);
    EXPECT_EQ(reg::v(0).id, 0x6040000000100054ULL);
    EXPECT_EQ(reg::v(1).id, 0x6040000000100058ULL) << "each V register is four 32-bit words";
    EXPECT_EQ(reg::v(31).id, 0x60400000001000d0ULL);
    EXPECT_EQ(reg::fpsr.id, 0x60200000001000d4ULL);
    EXPECT_EQ(reg::fpcr.id, 0x60200000001000d5ULL);
    EXPECT_EQ(kvmxx::reg_size(reg::v(31).id), 16u);
}

// spsr[KVM_SPSR_EL1..KVM_SPSR_FIQ]: five 64-bit fields after elr_el1 (api.rst, "ARM64 registers").
TEST(RegId, Arm64SpsrBanksAreTwoWordsApart) {
    EXPECT_EQ(reg::spsr(0).id, 0x6030000000100048ULL);
    EXPECT_EQ(reg::spsr(1).id, 0x603000000010004aULL);
    EXPECT_EQ(reg::spsr(2).id, 0x603000000010004cULL);
    EXPECT_EQ(reg::spsr(3).id, 0x603000000010004eULL);
    EXPECT_EQ(reg::spsr(4).id, 0x6030000000100050ULL);
}

TEST(RegId, Arm64SystemRegisterIds) {
    EXPECT_EQ(sysreg::MPIDR_EL1.id, 0x603000000013c005ULL);
    EXPECT_EQ(sysreg::SCTLR_EL1.id, 0x603000000013c080ULL);
    EXPECT_EQ(sysreg::CNTVCT_EL0.id, 0x603000000013df1aULL);
    EXPECT_EQ(fwreg::PSCI_VERSION.id, 0x6030000000140000ULL);
}

// KVM's timer registers (arch/arm64/include/uapi/asm/kvm.h): KVM_REG_ARM_TIMER_CTL is
// ARM64_SYS_REG(3, 3, 14, 3, 1), and CVAL and CNT have each other's architectural
// encodings — KVM_REG_ARM_TIMER_CVAL is (3, 3, 14, 0, 2), KVM_REG_ARM_TIMER_CNT (3, 3, 14, 3, 2).
TEST(RegId, Arm64TimerRegistersUseKvmsSwappedCvalAndCntEncodings) {
    EXPECT_EQ(sysreg::CNTV_CTL_EL0.id, 0x603000000013df19ULL);
    EXPECT_EQ(sysreg::CNTV_CVAL_EL0.id, 0x603000000013df02ULL);
    EXPECT_EQ(sysreg::CNTVCT_EL0.id, 0x603000000013df1aULL);
}

TEST(RegId, LookUpByNameAndBack) {
    auto sctlr = sysreg_by_name("SCTLR_EL1");
    ASSERT_TRUE(sctlr.has_value());
    EXPECT_EQ(sctlr->id, sysreg::SCTLR_EL1.id);
    EXPECT_FALSE(sysreg_by_name("NOT_A_REG").has_value());
    EXPECT_EQ(reg_name(sysreg::VBAR_EL1.id), "VBAR_EL1");
    EXPECT_EQ(reg_name(reg::pc.id), "PC");
    EXPECT_TRUE(reg_name(0x1234).empty());
}

// A RegId<T> whose id encodes another size does not compile (consteval check);
// here we check the run-time escape hatch keeps the raw id unchanged.
TEST(RegId, UncheckedKeepsRawId) {
    auto r = kvmxx::RegId<std::uint64_t>::unchecked(0x42);
    EXPECT_EQ(r.id, 0x42u);
}

}  // namespace
