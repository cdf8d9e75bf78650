// Real-kernel tests, arm64: MMIO exits, registers, PSCI, mp_state, vCPU attributes.
#include "../test_vm.hpp"

GUEST_PROGRAM(psci_off)
GUEST_PROGRAM(psci_reset)
GUEST_PROGRAM(cpu_on)

using namespace kvmtest;
namespace reg = kvmxx::arm64::reg;
namespace sysreg = kvmxx::arm64::sysreg;

namespace {

TEST(KvmMmio, WritesAndReadsRoundTripWithEveryWidth) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_mmio_rw());
    ASSERT_OK(t.cpu().set(reg::x(2), 0xdeadbeefcafef00dULL));

    auto w = expect_write(t.cpu());
    EXPECT_EQ(w.address, report);
    EXPECT_EQ(w.data.size(), 4u);
    EXPECT_EQ(w.value(), 0xcafef00du);

    auto r = expect_read(t.cpu());
    EXPECT_EQ(r.address, report + 8);
    ASSERT_EQ(r.data.size(), 8u);
    r.set(0x1122334455667788ULL);  // must reach the guest's x3

    auto echo = expect_write(t.cpu());
    EXPECT_EQ(echo.address, report + 16);
    EXPECT_EQ(echo.value(), 0x1122334455667788ULL);
    EXPECT_EQ(*t.cpu().get(reg::x(3)), 0x1122334455667788ULL);

    auto byte = expect_read(t.cpu());
    EXPECT_EQ(byte.data.size(), 1u);
    byte.set(0xa5);
    auto half = expect_write(t.cpu());
    EXPECT_EQ(half.data.size(), 2u);
    EXPECT_EQ(half.value(), 0xa5u);
}

TEST(KvmInit, CreateVcpuInitialisesAndAnUninitialisedVcpuIsEnoexecWithHint) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::open(t);
    // create_vcpu(id) alone gives a vCPU that takes registers (KVM_ARM_VCPU_INIT done)...
    auto ready = t.vm.create_vcpu(0);
    ASSERT_OK(ready);
    ASSERT_OK(ready->set(reg::pc, ram_base));
    EXPECT_EQ(*ready->get(reg::pc), ram_base);
    // ...while the kernel refuses every register of one that skipped KVM_ARM_VCPU_INIT.
    auto bare = t.vm.create_uninitialized_vcpu(1);
    ASSERT_OK(bare);
    auto r = bare->set(reg::pc, ram_base);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), ENOEXEC);
    EXPECT_NE(r.error().hint().find("not initialised"), std::string::npos) << r.error().message();
}

TEST(KvmRegs, CoreRegistersRoundTripByName) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    for (unsigned n : {0u, 7u, 30u}) {
        ASSERT_OK(t.cpu().set(reg::x(n), 0x1000 + n));
        EXPECT_EQ(*t.cpu().get(reg::x(n)), 0x1000u + n);
    }
    ASSERT_OK(t.cpu().set(reg::sp_el1, 0x4010'0000));
    EXPECT_EQ(*t.cpu().get(reg::sp_el1), 0x4010'0000u);
    EXPECT_EQ(*t.cpu().get(reg::pc), t.entry);
    // After KVM_ARM_VCPU_INIT the vCPU is at EL1h with DAIF masked.
    EXPECT_EQ(*t.cpu().get(reg::pstate), kvmxx::arm64::pstate_el1h_masked);
}

TEST(KvmRegs, WideAndNarrowRegistersKeepTheirWidth) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    const kvmxx::arm64::u128 q = (static_cast<kvmxx::arm64::u128>(0x0123456789abcdefULL) << 64) | 0xfedcba9876543210ULL;
    ASSERT_OK(t.cpu().set(reg::v(3), q));
    EXPECT_TRUE(*t.cpu().get(reg::v(3)) == q);
    ASSERT_OK(t.cpu().set(reg::fpcr, std::uint32_t{0x0300'0000}));  // FZ | DN style bits
    EXPECT_EQ(*t.cpu().get(reg::fpcr), 0x0300'0000u);
}

TEST(KvmRegs, SystemRegistersByNameAndMpidrPerVcpu) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin(), 2);
    ASSERT_OK(t.cpu().set(sysreg::TPIDR_EL1, 0xabcdef));
    EXPECT_EQ(*t.cpu().get(sysreg::TPIDR_EL1), 0xabcdefu);
    auto by_name = kvmxx::arm64::sysreg_by_name("VBAR_EL1");
    ASSERT_TRUE(by_name);
    ASSERT_OK(t.cpu().set(*by_name, 0x4000'0800));
    EXPECT_EQ(*t.cpu().get(sysreg::VBAR_EL1), 0x4000'0800u);
    EXPECT_EQ(*t.cpu(0).get(sysreg::MPIDR_EL1) & 0xff, 0u);
    EXPECT_EQ(*t.cpu(1).get(sysreg::MPIDR_EL1) & 0xff, 1u);
    EXPECT_GE(*t.cpu().get(kvmxx::arm64::fwreg::PSCI_VERSION), 0x10000u);  // PSCI >= 1.0 with PSCI_0_2
}

TEST(KvmRegs, RegisterListHoldsTheCoreAndSystemRegisters) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    auto list = t.cpu().reg_list();
    ASSERT_OK(list);
    auto has = [&](std::uint64_t id) { return std::find(list->begin(), list->end(), id) != list->end(); };
    EXPECT_GT(list->size(), 100u);
    EXPECT_TRUE(has(reg::pc.id));
    EXPECT_TRUE(has(reg::x(0).id));
    EXPECT_TRUE(has(sysreg::SCTLR_EL1.id));
    EXPECT_TRUE(has(sysreg::MPIDR_EL1.id));
}

TEST(KvmRegs, WrongBufferSizeIsRefusedBeforeTheIoctl) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    std::uint8_t four[4];
    auto r = t.cpu().get_one_reg(reg::pc.id, four);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), EINVAL);
    EXPECT_NE(r.error().message().find("is 8 bytes, buffer is 4"), std::string::npos);
}

TEST(KvmPsci, SystemOffEndsRunWithAShutdownEvent) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_psci_off());
    EXPECT_TRUE(expect_system_event(t.cpu()).is_shutdown());
}

TEST(KvmPsci, SystemResetEndsRunWithAResetEvent) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_psci_reset());
    EXPECT_TRUE(expect_system_event(t.cpu()).is_reset());
}

TEST(KvmPsci, SecondaryStaysOffUntilCpuOnStartsItWithTheContextId) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_cpu_on(), 2);
    EXPECT_EQ(*t.cpu(1).mp_state(), static_cast<std::uint32_t>(KVM_MP_STATE_STOPPED));
    auto answer = expect_write(t.cpu(0));
    EXPECT_EQ(answer.address, report);
    EXPECT_EQ(answer.value(), 0u) << "PSCI CPU_ON returned an error";
    EXPECT_EQ(*t.cpu(1).mp_state(), static_cast<std::uint32_t>(KVM_MP_STATE_RUNNABLE));
    auto hello = expect_write(t.cpu(1));
    EXPECT_EQ(hello.address, report + 8);
    EXPECT_EQ(hello.value(), 0x77u);
}

TEST(KvmMpState, SettingRunnableStartsAPoweredOffSecondaryWithoutPsci) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_load_report(), 2);
    auto& second = t.cpu(1);
    EXPECT_EQ(*second.mp_state(), static_cast<std::uint32_t>(KVM_MP_STATE_STOPPED));
    ASSERT_OK(second.set(reg::pc, t.entry));
    ASSERT_OK(second.set(reg::x(5), report + 0x40));
    ASSERT_OK(second.set_mp_state(KVM_MP_STATE_RUNNABLE));
    EXPECT_EQ(*second.mp_state(), static_cast<std::uint32_t>(KVM_MP_STATE_RUNNABLE));
    auto r = expect_read(second);  // a stopped vCPU would not run at all
    EXPECT_EQ(r.address, report + 0x40);
    auto bad = second.set_mp_state(0x1234);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().errnum(), EINVAL);
    EXPECT_STREQ(bad.error().operation(), "KVM_SET_MP_STATE");
}

TEST(KvmVcpuAttr, TimerInterruptIsAVcpuAttributeThatTakesOnlyAPpi) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    auto& cpu = t.cpu();
    EXPECT_TRUE(cpu.has_attr(KVM_ARM_VCPU_TIMER_CTRL, KVM_ARM_VCPU_TIMER_IRQ_VTIMER));
    EXPECT_FALSE(cpu.has_attr(KVM_ARM_VCPU_TIMER_CTRL, 0x99));
    // The timer's interrupt can only be routed once an in-kernel GIC exists.
    auto gic = kvmxx::arm64::Vgic::create(t.vm);
    ASSERT_OK(gic);
    const std::uint64_t ppi = 28, sgi = 5;
    ASSERT_OK(cpu.set_attr(KVM_ARM_VCPU_TIMER_CTRL, KVM_ARM_VCPU_TIMER_IRQ_VTIMER, &ppi));
    auto refused = cpu.set_attr(KVM_ARM_VCPU_TIMER_CTRL, KVM_ARM_VCPU_TIMER_IRQ_VTIMER, &sgi);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().errnum(), EINVAL);
    EXPECT_STREQ(refused.error().operation(), "KVM_SET_DEVICE_ATTR");
}

}  // namespace
