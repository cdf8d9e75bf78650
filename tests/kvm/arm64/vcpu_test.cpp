// Real-kernel tests, arm64: MMIO exits, registers, PSCI, mp_state, vCPU attributes.
#include "../test_vm.hpp"

#include <algorithm>
#include <cstring>

GUEST_PROGRAM(psci_off)
GUEST_PROGRAM(psci_reset)
GUEST_PROGRAM(cpu_on)
GUEST_PROGRAM(gic_pokes)

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

TEST(KvmRegs, SetOneRegWithARawIdReachesTheGuestAndTheKernelRefusesIdsItLacksOrMissizes) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_mmio_rw());
    const std::uint64_t value = 0x0123'4567'89ab'cdefULL;
    auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(&value), sizeof value);
    ASSERT_OK(t.cpu().set_one_reg(reg::x(2).id, bytes));
    EXPECT_EQ(*t.cpu().get(reg::x(2)), value);
    auto w = expect_write(t.cpu());  // the program's first store: w2
    EXPECT_EQ(w.value(), 0x89ab'cdefu) << "the guest ran with the x2 that set_one_reg gave it";
    namespace enc = kvmxx::arm64::encoding;
    // A core offset past struct kvm_regs (set_core_reg): ENOENT.
    auto past = t.cpu().set_one_reg(enc::core_id(sizeof(kvm_regs) / sizeof(std::uint32_t), 8), bytes);
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error().errnum(), ENOENT) << past.error().message();
    // X0 named as a 32-bit register (validate_core_offset: the size must be the field's): EINVAL.
    auto narrow = t.cpu().set_one_reg(enc::core_id(enc::off_x0, 4), bytes.first(4));
    ASSERT_FALSE(narrow);
    EXPECT_EQ(narrow.error().errnum(), EINVAL) << narrow.error().message();
    EXPECT_EQ(*t.cpu().get(reg::x(0)), 0u) << "the refused write left X0 alone";
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
    // Fatal: a secondary that did not start stopped runs from its reset PC, outside RAM, for ever.
    ASSERT_EQ(*t.cpu(1).mp_state(), static_cast<std::uint32_t>(KVM_MP_STATE_STOPPED));
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

/// KVM_GET_DEVICE_ATTR on a vCPU (Vcpu wraps only set_attr/has_attr): the kernel's value.
/// The timer attributes are an int (kvm_arm_timer_get_attr writes 4 bytes).
std::uint32_t vcpu_attr(const kvmxx::Vcpu& cpu, std::uint32_t group, std::uint64_t attr) {
    std::uint32_t v = ~0u;
    auto r = kvmxx::detail::get_attr(cpu.fd(), group, attr, reinterpret_cast<std::uint64_t>(&v));
    EXPECT_TRUE(r) << r.error().message();
    return v;
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
    // Documentation/virt/kvm/devices/vcpu.rst: the virtual timer defaults to PPI 27.
    EXPECT_EQ(vcpu_attr(cpu, KVM_ARM_VCPU_TIMER_CTRL, KVM_ARM_VCPU_TIMER_IRQ_VTIMER), 27u);
    const std::uint64_t ppi = 28, sgi = 5;
    ASSERT_OK(cpu.set_attr(KVM_ARM_VCPU_TIMER_CTRL, KVM_ARM_VCPU_TIMER_IRQ_VTIMER, &ppi));
    EXPECT_EQ(vcpu_attr(cpu, KVM_ARM_VCPU_TIMER_CTRL, KVM_ARM_VCPU_TIMER_IRQ_VTIMER), 28u) << "the PPI reads back";
    auto refused = cpu.set_attr(KVM_ARM_VCPU_TIMER_CTRL, KVM_ARM_VCPU_TIMER_IRQ_VTIMER, &sgi);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().errnum(), EINVAL);
    EXPECT_STREQ(refused.error().operation(), "KVM_SET_DEVICE_ATTR");
    EXPECT_EQ(vcpu_attr(cpu, KVM_ARM_VCPU_TIMER_CTRL, KVM_ARM_VCPU_TIMER_IRQ_VTIMER), 28u) << "the SGI was not taken";
}

TEST(KvmVcpuAttr, TheGuestTakesItsVirtualTimerOnThePpiSetAsTheVcpuAttribute) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_gic_pokes());
    if (HasFatalFailure()) return;
    // The gic_pokes guest's MMIO writes: group 1 and enable for PPI 20 in vCPU 0's
    // redistributor SGI frame (GICR_IGROUPR0 / GICR_ISENABLER0, RD_base + 64 KiB).
    constexpr std::uint64_t list = 0x4100'0000, sgi_frame = 0x080a'0000 + 0x1'0000;
    constexpr std::uint32_t ppi = 20;
    auto slot = t.vm.add_memory(list, 0x1'0000);
    ASSERT_OK(slot);
    const std::uint64_t pokes[] = {0x0800'0000 | 1, 0x12,                // GICD_CTLR: ARE | EnableGrp1
                                   (sgi_frame + 0x080) | 1, 1u << ppi,   // GICR_IGROUPR0
                                   (sgi_frame + 0x100) | 1, 1u << ppi,   // GICR_ISENABLER0
                                   0, 0};
    std::memcpy(slot->host, pokes, sizeof pokes);
    ASSERT_OK(t.cpu().set(reg::x(6), list));
    auto gic = kvmxx::arm64::Vgic::setup(t.vm, {});
    ASSERT_OK(gic);
    const std::uint64_t vtimer = ppi;
    ASSERT_OK(t.cpu().set_attr(KVM_ARM_VCPU_TIMER_CTRL, KVM_ARM_VCPU_TIMER_IRQ_VTIMER, &vtimer));
    // The virtual timer enabled, unmasked, with a compare value already passed: it fires at once.
    ASSERT_OK(t.cpu().set(sysreg::CNTV_CVAL_EL0, 0));
    ASSERT_OK(t.cpu().set(sysreg::CNTV_CTL_EL0, 1));
    auto ready = expect_write(t.cpu());
    ASSERT_EQ(ready.address, report) << "guest did not reach 'ready' (ESR at +0x100?)";
    auto taken = expect_write(t.cpu());
    EXPECT_EQ(taken.address, report + 8);
    EXPECT_EQ(taken.value(), ppi) << "the guest's IAR read the timer's INTID";
}

// ---- KVM_ARM_PREFERRED_TARGET and KVM_ARM_VCPU_INIT called directly, and the optional features

TEST(KvmInit, PreferredTargetIsTheGenericV8AndInitTakesExactlyTheFeaturesAsked) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::open(t);
    if (HasFatalFailure()) return;
    auto init = t.vm.preferred_target({.psci_0_2 = false});
    ASSERT_OK(init);
    // QEMU's -cpu max has implementer 0, no CPU KVM names: kvm_target_cpu() says generic.
    EXPECT_EQ(init->target, static_cast<std::uint32_t>(KVM_ARM_TARGET_GENERIC_V8));
    for (auto f : init->features) EXPECT_EQ(f, 0u) << "the kernel suggests no feature, and none was asked";
    auto cpu = t.vm.create_uninitialized_vcpu(0);
    ASSERT_OK(cpu);
    ASSERT_OK(cpu->init(*init));
    EXPECT_EQ((*cpu->get(sysreg::MIDR_EL1) >> 24) & 0xff, 0u) << "MIDR_EL1.Implementer";
    // Without KVM_ARM_VCPU_PSCI_0_2 the vCPU gets PSCI 0.1 (kvm_psci_version: 0.1 = 1).
    EXPECT_EQ(*cpu->get(kvmxx::arm64::fwreg::PSCI_VERSION), 1u);
    // A second init must repeat the first one's features (kvm_vcpu_set_target): EINVAL.
    auto with_psci = t.vm.preferred_target({});
    ASSERT_OK(with_psci);
    EXPECT_EQ(with_psci->features[0], 1u << KVM_ARM_VCPU_PSCI_0_2);
    auto changed = cpu->init(*with_psci);
    ASSERT_FALSE(changed);
    EXPECT_EQ(changed.error().errnum(), EINVAL);
    EXPECT_STREQ(changed.error().operation(), "KVM_ARM_VCPU_INIT");
    ASSERT_OK(cpu->init(*init)) << "the same features again are accepted";
    // A feature bit the kernel does not know: ENOENT.
    auto unknown = *init;
    unknown.features[0] |= 1u << 31;
    auto other = t.vm.create_uninitialized_vcpu(1);
    ASSERT_OK(other);
    auto refused = other->init(unknown);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().errnum(), ENOENT);
}

TEST(KvmInit, PmuV3FeatureGivesTheVcpuAPmuToInitialise) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::open(t);
    if (HasFatalFailure()) return;
    ASSERT_TRUE(t.kvm.has(kvmxx::Cap::ArmPmuV3)) << "the testbed's -cpu max has a PMU";
    // A second VM for the vCPU without the feature: from Linux 6.7 on the features are
    // VM-wide (the first KVM_ARM_VCPU_INIT fixes them; another set is EINVAL).
    auto other_vm = t.kvm.create_vm();
    ASSERT_OK(other_vm);
    auto plain = other_vm->create_vcpu(0, {});
    auto pmu = t.vm.create_vcpu(1, {.power_off = true, .pmu_v3 = true});
    ASSERT_OK(plain);
    ASSERT_OK(pmu);
    // The PMU attributes exist only on a vCPU initialised with KVM_ARM_VCPU_PMU_V3.
    EXPECT_TRUE(pmu->has_attr(KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_INIT));
    EXPECT_FALSE(plain->has_attr(KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_INIT));
}

TEST(KvmVcpuAttr, PmuIsGivenItsPpiThenInitialisedAfterTheVgicInTheKernelsOrder) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::open(t);
    if (HasFatalFailure()) return;
    ASSERT_TRUE(t.kvm.has(kvmxx::Cap::ArmPmuV3)) << "the testbed's -cpu max has a PMU";
    // A second VM for the vCPU without the feature: from Linux 6.7 on the features are
    // VM-wide (the first KVM_ARM_VCPU_INIT fixes them; another set is EINVAL).
    auto other_vm = t.kvm.create_vm();
    ASSERT_OK(other_vm);
    auto cpu = t.vm.create_vcpu(0, {.pmu_v3 = true});
    auto plain = other_vm->create_vcpu(1, {.power_off = true});
    ASSERT_OK(cpu);
    ASSERT_OK(plain);
    auto expect_errno = [](const kvmxx::Result<>& r, int err, const char* why) {
        ASSERT_FALSE(r) << why;
        EXPECT_EQ(r.error().errnum(), err) << why << ": " << r.error().message();
        EXPECT_STREQ(r.error().operation(), "KVM_SET_DEVICE_ATTR");
    };
    // Documentation/virt/kvm/devices/vcpu.rst, group KVM_ARM_VCPU_PMU_V3_CTRL.
    expect_errno(cpu->set_pmu_irq(23), EINVAL, "no in-kernel irqchip yet");
    expect_errno(plain->set_pmu_irq(23), ENODEV, "a vCPU without the PMU feature");
    auto gic = kvmxx::arm64::Vgic::create(t.vm);
    ASSERT_OK(gic);
    ASSERT_OK(cpu->set_pmu_irq(23)) << "PPI 7, once the GIC exists";
    expect_errno(cpu->init_pmu(), ENODEV, "the GIC is not initialised yet");
    ASSERT_OK(gic->set_distributor(0x0800'0000));
    ASSERT_OK(gic->set_redistributor(0x080a'0000));
    ASSERT_OK(gic->init());
    ASSERT_OK(cpu->init_pmu());
    expect_errno(cpu->set_pmu_irq(24), EBUSY, "the PMU is made: its interrupt is fixed");
    expect_errno(cpu->init_pmu(), EBUSY, "made once");
}

TEST(KvmInit, SveFeatureIsFinalizedAndBringsTheZRegisters) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::open(t);
    if (HasFatalFailure()) return;
    ASSERT_TRUE(t.kvm.has(kvmxx::Cap::ArmSve)) << "the testbed's -cpu max has SVE";
    auto sve = t.vm.create_vcpu(0, {.sve = true});
    ASSERT_OK(sve);
    // The kernel refuses the register list of an SVE vCPU until KVM_ARM_VCPU_FINALIZE
    // (EPERM): it answers, so create_vcpu finalized it.
    auto list = sve->reg_list();
    ASSERT_OK(list);
    const std::uint64_t z0 = KVM_REG_ARM64_SVE_ZREG(0, 0);
    EXPECT_NE(std::find(list->begin(), list->end(), z0), list->end()) << "Z0 is a register of an SVE vCPU";
    // A second VM for the vCPU without the feature: from Linux 6.7 on the features are
    // VM-wide (the first KVM_ARM_VCPU_INIT fixes them; another set is EINVAL).
    auto other_vm = t.kvm.create_vm();
    ASSERT_OK(other_vm);
    auto plain = other_vm->create_vcpu(1, {.power_off = true});
    ASSERT_OK(plain);
    auto plain_list = plain->reg_list();
    ASSERT_OK(plain_list);
    EXPECT_EQ(std::find(plain_list->begin(), plain_list->end(), z0), plain_list->end());
}

TEST(KvmInit, PtrauthFeatureShowsPointerAuthenticationInTheGuestsIdRegister) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::open(t);
    if (HasFatalFailure()) return;
    ASSERT_TRUE(t.kvm.has(kvmxx::Cap::ArmPtrauthAddress) && t.kvm.has(kvmxx::Cap::ArmPtrauthGeneric))
        << "the testbed's -cpu max,pauth-impdef=on has pointer authentication";
    // ID_AA64ISAR1_EL1 (op0 3, op1 0, CRn 0, CRm 6, op2 1): APA/API (bits 4-11) and
    // GPA/GPI (24-31). KVM hides them from a vCPU without the ptrauth features.
    const auto isar1 = kvmxx::RegId<std::uint64_t>::unchecked(kvmxx::arm64::encoding::sys_id(3, 0, 0, 6, 1));
    auto with = t.vm.create_vcpu(0, {.ptrauth = true});
    ASSERT_OK(with);
    // A second VM for the vCPU without the feature: from Linux 6.7 on the features are
    // VM-wide (the first KVM_ARM_VCPU_INIT fixes them; another set is EINVAL).
    auto other_vm = t.kvm.create_vm();
    ASSERT_OK(other_vm);
    auto without = other_vm->create_vcpu(1, {.power_off = true});
    ASSERT_OK(without);
    const std::uint64_t on = *with->get(isar1), off = *without->get(isar1);
    EXPECT_NE((on >> 4) & 0xff, 0u) << "address authentication";
    EXPECT_NE((on >> 24) & 0xff, 0u) << "generic authentication";
    EXPECT_EQ((off >> 4) & 0xff, 0u);
    EXPECT_EQ((off >> 24) & 0xff, 0u);
    // The kernel takes the two ptrauth features only together (kvm_vcpu_enable_ptrauth): EINVAL.
    auto half = t.vm.preferred_target({.power_off = true});
    ASSERT_OK(half);
    half->features[0] |= 1u << KVM_ARM_VCPU_PTRAUTH_ADDRESS;
    auto lone = t.vm.create_uninitialized_vcpu(2);
    ASSERT_OK(lone);
    auto refused = lone->init(*half);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().errnum(), EINVAL);
}

}  // namespace
