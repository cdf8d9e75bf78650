// Real-kernel tests: the in-kernel VGIC, irqfd (edge and level+resample), routing, MSIs.
#include "../test_vm.hpp"

#include <chrono>

using namespace kvmtest;
using namespace std::chrono_literals;
namespace arm64 = kvmxx::arm64;

GUEST_PROGRAM(gic_irq)

namespace {

/// A VM running the gic_irq program with a GICv3 + ITS set up in the kernel's order.
struct GicVm : TestVm {
    std::optional<arm64::Vgic> gic;
    static void create(GicVm& t) {
        TestVm::create(t, program_gic_irq());
        auto gic = arm64::Vgic::setup(t.vm, {});
        ASSERT_OK(gic);
        t.gic = std::move(*gic);
        auto ready = expect_write(t.cpu());
        ASSERT_EQ(ready.address, report) << "guest did not reach 'ready' (ESR report at +0x100?)";
    }
};

TEST(KvmIrqfd, EdgeEventFdReachesTheGuestHandlerThroughTheVgic) {
    REQUIRE_KVM();
    GicVm t;
    GicVm::create(t);
    ASSERT_EQ(t.gic->version(), arm64::Vgic::Version::V3);
    auto ev = kvmxx::EventFd::create();
    ASSERT_OK(ev);
    ASSERT_OK(t.vm.irqfd(*ev, arm64::spi_gsi(5)));
    for (int i = 0; i < 3; ++i) {
        ASSERT_OK(ev->signal());  // host → KVM → VGIC → guest, no ioctl in between
        auto acked = expect_write(t.cpu());
        EXPECT_EQ(acked.address, report + 8);
        EXPECT_EQ(acked.value(), arm64::spi_intid(5));
        auto eoi = expect_write(t.cpu());
        EXPECT_EQ(eoi.address, report + 16);
    }
    ASSERT_OK(t.vm.remove_irqfd(*ev, arm64::spi_gsi(5)));
}

TEST(KvmIrqfd, LevelWithResampleFiresTheResampleFdAfterTheGuestEoi) {
    REQUIRE_KVM();
    GicVm t;
    GicVm::create(t);
    auto ev = kvmxx::EventFd::create();
    auto resample = kvmxx::EventFd::create();
    ASSERT_OK(ev);
    ASSERT_OK(resample);
    ASSERT_OK(t.vm.irqfd(*ev, arm64::spi_gsi(6), *resample));
    ASSERT_OK(ev->signal());
    auto acked = expect_write(t.cpu());
    EXPECT_EQ(acked.value(), arm64::spi_intid(6));
    EXPECT_FALSE(*resample->wait_for(0ms)) << "resample must wait for the EOI";
    auto eoi = expect_write(t.cpu());
    EXPECT_EQ(eoi.address, report + 16);
    EXPECT_TRUE(*resample->wait_for(2s)) << "no resample after the guest's EOI";
}

TEST(KvmIrqfd, IrqLineRaisesAnSpiToo) {
    REQUIRE_KVM();
    GicVm t;
    GicVm::create(t);
    ASSERT_OK(t.vm.irq_line(arm64::irq_line_spi(arm64::spi_intid(5)), true));
    EXPECT_EQ(expect_write(t.cpu()).value(), arm64::spi_intid(5));
    ASSERT_OK(t.vm.irq_line(arm64::irq_line_spi(arm64::spi_intid(5)), false));
    auto bad = t.vm.irq_line(arm64::irq_line_spi(2000), true);  // beyond nr_irqs
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().errnum(), EINVAL);
}

TEST(KvmRoutes, IrqchipAndMsiEntriesAreAcceptedWithAnIts) {
    REQUIRE_KVM();
    GicVm t;
    GicVm::create(t);
    ASSERT_NE(t.gic->its(), nullptr);
    kvmxx::IrqRoute route;
    route.add_irqchip_pins(0, 32).add_msi(100, {.address = *t.gic->its_base() + 0x10040, .data = 0, .devid = 8});
    ASSERT_OK(t.vm.set_routes(route));
    // GSI 5 still reaches SPI 5 after the table was replaced.
    auto ev = kvmxx::EventFd::create();
    ASSERT_OK(t.vm.irqfd(*ev, 5));
    ASSERT_OK(ev->signal());
    EXPECT_EQ(expect_write(t.cpu()).value(), arm64::spi_intid(5));
}

TEST(KvmRoutes, GsiBeyondTheRoutingLimitIsRejected) {
    REQUIRE_KVM();
    GicVm t;
    GicVm::create(t);
    kvmxx::IrqRoute route;
    route.add_msi(1u << 20, {.address = 0x0808'0040});
    auto r = t.vm.set_routes(route);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), EINVAL);
    EXPECT_STREQ(r.error().operation(), "KVM_SET_GSI_ROUTING");
}

TEST(KvmMsi, SignalMsiToAnItsTheGuestHasNotEnabledIsNotDelivered) {
    REQUIRE_KVM();
    GicVm t;
    GicVm::create(t);
    // The kernel documents: > 0 delivered, 0 blocked by the guest, < 0 error. The guest
    // never enabled the ITS (GITS_CTLR), and the VGIC's ITS refuses a translation
    // while disabled with EBUSY (vgic_its_trigger_msi): nothing is delivered.
    auto r = t.vm.signal_msi({.address = *t.gic->its_base() + 0x10040, .data = 0, .devid = 8});
    ASSERT_FALSE(r) << "KVM_SIGNAL_MSI through a disabled ITS returned " << *r;
    EXPECT_EQ(r.error().errnum(), EBUSY) << r.error().message();
    EXPECT_STREQ(r.error().operation(), "KVM_SIGNAL_MSI");
    // Without a device id the ITS cannot translate at all (vgic_msi_to_its): EINVAL.
    auto anonymous = t.vm.signal_msi({.address = *t.gic->its_base() + 0x10040, .data = 0});
    ASSERT_FALSE(anonymous) << "KVM_SIGNAL_MSI with no device id returned " << *anonymous;
    EXPECT_EQ(anonymous.error().errnum(), EINVAL) << anonymous.error().message();
}

TEST(KvmVgic, CreatingTheGicBeforeAnyVcpuIsAClearError) {
    REQUIRE_KVM();
    auto kvm = kvmxx::Kvm::open();
    ASSERT_OK(kvm);
    auto vm = kvm->create_vm();
    ASSERT_OK(vm);
    auto gic = arm64::Vgic::create(*vm);
    ASSERT_FALSE(gic);
    EXPECT_NE(gic.error().hint().find("create every vCPU before the GIC"), std::string::npos);
}

TEST(KvmVgic, WrongOrdersAreRefusedWithWhatToDoFirst) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    auto gic = arm64::Vgic::create(t.vm);
    ASSERT_OK(gic);
    auto early = gic->init();
    ASSERT_FALSE(early);
    EXPECT_NE(early.error().hint().find("set the distributor address"), std::string::npos);
    auto its = gic->add_its(t.vm, 0x0808'0000);
    ASSERT_FALSE(its);
    EXPECT_NE(its.error().hint().find("before adding the ITS"), std::string::npos);
    auto odd = gic->set_nr_irqs(50);
    ASSERT_FALSE(odd);
    EXPECT_NE(odd.error().hint().find("multiple of 32"), std::string::npos);
    ASSERT_OK(gic->set_distributor(0x0800'0000));
    auto half = gic->init();
    ASSERT_FALSE(half);
    EXPECT_NE(half.error().hint().find("redistributor"), std::string::npos);
    ASSERT_OK(gic->set_redistributor(0x080a'0000));
    ASSERT_OK(gic->set_nr_irqs(128));
    ASSERT_OK(gic->init());
    auto late = gic->set_distributor(0x0900'0000);
    ASSERT_FALSE(late);
    EXPECT_NE(late.error().hint().find("initialized"), std::string::npos);
    auto twice = gic->init();
    EXPECT_FALSE(twice);
}

TEST(KvmVgic, VcpuAfterGicInitIsEbusyWithHint) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    auto gic = arm64::Vgic::setup(t.vm, {});
    ASSERT_OK(gic);
    auto late = t.vm.create_vcpu(1);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().errnum(), EBUSY);
    EXPECT_NE(late.error().hint().find("before the VGIC is initialized"), std::string::npos);
}

TEST(KvmDevice, GicAttributesCanBeQueriedAndReadBack) {
    REQUIRE_KVM();
    GicVm t;
    GicVm::create(t);
    const kvmxx::Device& dev = t.gic->device();
    EXPECT_EQ(dev.type(), static_cast<std::uint32_t>(KVM_DEV_TYPE_ARM_VGIC_V3));
    EXPECT_TRUE(dev.has_attr(KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT));
    EXPECT_TRUE(dev.has_attr(KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0));
    EXPECT_FALSE(dev.has_attr(KVM_DEV_ARM_VGIC_GRP_CTRL, 0x7777));
    auto nr = dev.get_attr<std::uint32_t>(KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0);
    ASSERT_OK(nr);
    EXPECT_EQ(*nr, arm64::GicLayout{}.nr_irqs);
    auto dist = dev.get_attr(KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST);
    ASSERT_OK(dist);
    EXPECT_EQ(*dist, arm64::GicLayout{}.distributor);
    auto unknown = dev.get_attr(KVM_DEV_ARM_VGIC_GRP_ADDR, 0x7777);
    ASSERT_FALSE(unknown);
    EXPECT_STREQ(unknown.error().operation(), "KVM_GET_DEVICE_ATTR");
}

TEST(KvmFdLeak, TwoHundredVmVcpuGicCyclesLeaveTheFdCountUnchanged) {
    REQUIRE_KVM();
    auto kvm = kvmxx::Kvm::open();
    ASSERT_OK(kvm);
    const int before = open_fd_count();
    ASSERT_GT(before, 0) << "/proc/self/fd must be readable for a leak test";
    for (int i = 0; i < 200; ++i) {
        auto vm = kvm->create_vm();
        ASSERT_OK(vm);
        ASSERT_OK(vm->add_memory(ram_base, 0x10000));
        auto c0 = vm->create_vcpu(0, {});
        auto c1 = vm->create_vcpu(1, {.power_off = true});
        ASSERT_OK(c0);
        ASSERT_OK(c1);
        auto gic = arm64::Vgic::setup(*vm, {});
        ASSERT_OK(gic);
    }
    EXPECT_EQ(open_fd_count(), before);
}

}  // namespace
