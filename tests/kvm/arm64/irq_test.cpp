// Real-kernel tests: the in-kernel VGIC, irqfd (edge and level+resample), routing, MSIs.
#include "../test_vm.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <cstring>
#include <functional>
#include <optional>
#include <vector>

using namespace kvmtest;
using namespace std::chrono_literals;
namespace arm64 = kvmxx::arm64;

GUEST_PROGRAM(gic_irq)
GUEST_PROGRAM(gic_pokes)

namespace {

namespace vgic_attr = arm64::vgic_attr;

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

// ---- an ITS the guest really enables, so an MSI can reach its handler -------------
//
// Register offsets and command encodings from the GICv3/v4 architecture specification
// (IHI 0069: GICR_* in 12.11, GITS_* in 12.19, ITS commands in 5.3). KVM's ITS has a
// device table in GITS_BASER0 and a collection table in GITS_BASER1, with 64 KiB pages.
namespace gic {
constexpr std::uint64_t dist = 0x0800'0000, redist = 0x080a'0000, its = 0x0808'0000;  // GicLayout{}
constexpr std::uint64_t gicd_ctlr = 0x0, gicr_ctlr = 0x0, gicr_propbaser = 0x70, gicr_pendbaser = 0x78;
constexpr std::uint64_t gits_ctlr = 0x0, gits_cbaser = 0x80, gits_cwriter = 0x88, gits_creadr = 0x90;
constexpr std::uint64_t gits_baser0 = 0x100, gits_translater = 0x10040;
constexpr std::uint64_t valid = 1ull << 63;
constexpr std::uint32_t first_lpi = 8192;
}  // namespace gic

/// The ITS's and the LPIs' tables, in a memory slot of their own (64 KiB aligned).
constexpr std::uint64_t tables = 0x4100'0000;
constexpr std::uint64_t lpi_config = tables, lpi_pending = tables + 0x1'0000, device_table = tables + 0x2'0000,
                        collection_table = tables + 0x3'0000, command_queue = tables + 0x4'0000,
                        itt = tables + 0x4'1000, poke_list = tables + 0x4'2000;
constexpr std::uint32_t msi_devid = 8, msi_event = 3;  // not 0: the data word must reach the ITS

/// The gic_pokes guest's list of MMIO writes (bit 0 of an address: a 32-bit register).
struct Pokes {
    std::vector<std::uint64_t> words;
    Pokes& w32(std::uint64_t address, std::uint64_t value) { return add(address | 1, value); }
    Pokes& w64(std::uint64_t address, std::uint64_t value) { return add(address, value); }
    Pokes& add(std::uint64_t a, std::uint64_t v) {
        words.push_back(a);
        words.push_back(v);
        return *this;
    }
};

/// A VM with a GICv3 + ITS (Vgic::setup), a slot for the tables, and the gic_pokes guest
/// that performs `pokes` then waits for interrupts. Returns once the guest reported ready.
struct PokeVm : TestVm {
    std::optional<arm64::Vgic> gic;
    kvmxx::MemoryRegion slot;
    std::uint8_t* at(std::uint64_t gpa) { return slot.host + (gpa - tables); }
    static void create(PokeVm& t, Pokes pokes, const std::function<void(PokeVm&)>& before_run = {}) {
        TestVm::create(t, program_gic_pokes());
        if (::testing::Test::HasFatalFailure()) return;
        auto slot = t.vm.add_memory(tables, 0x10'0000);
        ASSERT_OK(slot);
        t.slot = *slot;
        pokes.add(0, 0);
        std::memcpy(t.at(poke_list), pokes.words.data(), pokes.words.size() * 8);
        ASSERT_OK(t.cpu().set(arm64::reg::x(6), poke_list));
        auto gic = arm64::Vgic::setup(t.vm, {});
        ASSERT_OK(gic);
        t.gic = std::move(*gic);
        if (before_run) before_run(t);
        if (::testing::Test::HasFatalFailure()) return;
        auto ready = expect_write(t.cpu());
        ASSERT_EQ(ready.address, report) << "guest did not reach 'ready' (ESR report at +0x100?)";
    }
};

/// The ITS commands (32 bytes each) that map (msi_devid, msi_event) to LPI `lpi` on vCPU 0.
void write_its_commands(PokeVm& t, std::uint32_t lpi) {
    const std::uint64_t cmds[3][4] = {
        {0x08 | std::uint64_t{msi_devid} << 32, 4 - 1, gic::valid | itt, 0},      // MAPD: 4 EventID bits, ITT
        {0x09, 0, gic::valid | (0ull << 16) | 0, 0},                             // MAPC: collection 0 → vCPU 0
        {0x0a | std::uint64_t{msi_devid} << 32, msi_event | std::uint64_t{lpi} << 32, 0, 0},  // MAPTI → collection 0
    };
    std::memcpy(t.at(command_queue), cmds, sizeof cmds);
    t.at(lpi_config)[lpi - gic::first_lpi] = 0xa0 | 1;  // priority 0xa0, enabled
}

/// The writes a guest's ITS driver makes: LPIs on in the redistributor, the ITS's
/// tables and command queue, the ITS on, then CWRITER past three commands.
Pokes its_pokes() {
    Pokes p;
    p.w32(gic::dist + gic::gicd_ctlr, 0x12)  // ARE | EnableGrp1
        .w64(gic::redist + gic::gicr_propbaser, lpi_config | (16 - 1))  // 16 INTID bits
        .w64(gic::redist + gic::gicr_pendbaser, lpi_pending)
        .w32(gic::redist + gic::gicr_ctlr, 1)  // EnableLPIs
        .w64(gic::its + gic::gits_baser0, gic::valid | device_table | (2u << 8))  // 64 KiB pages, 1 page
        .w64(gic::its + gic::gits_baser0 + 8, gic::valid | collection_table | (2u << 8))
        .w64(gic::its + gic::gits_cbaser, gic::valid | command_queue)  // 4 KiB of commands
        .w32(gic::its + gic::gits_ctlr, 1)  // Enabled
        .w64(gic::its + gic::gits_cwriter, 3 * 32);
    return p;
}

/// An ITS set up by the guest: LPI first_lpi + 5 is (msi_devid, msi_event).
void create_its_vm(PokeVm& t) {
    PokeVm::create(t, its_pokes(), [](PokeVm& vm) { write_its_commands(vm, gic::first_lpi + 5); });
    if (::testing::Test::HasFatalFailure()) return;
    // The kernel's ITS read the three commands: GITS_CREADR caught up with GITS_CWRITER.
    ASSERT_NE(t.gic->its(), nullptr);
    auto creadr = t.gic->its()->get_attr(KVM_DEV_ARM_VGIC_GRP_ITS_REGS, gic::gits_creadr);
    ASSERT_OK(creadr);
    EXPECT_EQ(*creadr, 3u * 32) << "the ITS did not process the guest's commands";
}

const kvmxx::Msi its_msi{.address = gic::its + gic::gits_translater, .data = msi_event, .devid = msi_devid};

/// The vCPU's next MMIO write, or a failure once `limit` passes without one: a watchdog
/// kicks the vCPU, so an interrupt that never arrives fails the test instead of hanging it.
kvmxx::exit::MmioWrite guest_write_within(kvmxx::Vcpu& cpu, std::chrono::milliseconds limit = 5000ms) {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    auto kicker = cpu.kicker();
    std::thread dog([&] {
        std::unique_lock lock(m);
        if (!cv.wait_for(lock, limit, [&] { return done; })) kicker.kick();
    });
    auto exit = cpu.run();
    {
        std::lock_guard lock(m);
        done = true;
    }
    cv.notify_one();
    dog.join();
    if (!exit) {
        ADD_FAILURE() << exit.error().message();
        return {};
    }
    if (auto* w = std::get_if<kvmxx::exit::MmioWrite>(&*exit)) return *w;
    ADD_FAILURE() << "expected a guest report, got " << kvmxx::describe(*exit)
                  << " (Interrupted: nothing within " << limit.count() << " ms)";
    return {};
}

TEST(KvmMsi, SignalMsiThroughTheItsTheGuestMappedReachesItsHandlerAsTheLpi) {
    REQUIRE_KVM();
    PokeVm t;
    create_its_vm(t);
    if (HasFatalFailure()) return;
    auto type = t.gic->its()->get_attr(KVM_DEV_ARM_VGIC_GRP_ITS_REGS, gic::gits_baser0);
    ASSERT_OK(type);
    EXPECT_EQ((*type >> 56) & 7, 1u) << "GITS_BASER0 holds the device table (type 1)";
    for (int i = 0; i < 3; ++i) {
        auto delivered = t.vm.signal_msi(its_msi);
        ASSERT_OK(delivered);
        EXPECT_TRUE(*delivered) << "KVM_SIGNAL_MSI returns > 0 for a delivered MSI";
        auto acked = guest_write_within(t.cpu());
        EXPECT_EQ(acked.address, report + 8);
        EXPECT_EQ(acked.value(), gic::first_lpi + 5) << "the guest's IAR read the LPI the ITS translated to";
        EXPECT_EQ(guest_write_within(t.cpu()).address, report + 16);
    }
    // An event the guest never mapped: the kernel reports it as blocked (0), not an error.
    auto unmapped = t.vm.signal_msi({.address = its_msi.address, .data = msi_event + 1, .devid = msi_devid});
    ASSERT_OK(unmapped);
    EXPECT_FALSE(*unmapped);
}

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

TEST(KvmRoutes, AnMsiRouteFiresItsLpiThroughTheItsWhenItsIrqfdIsSignalled) {
    REQUIRE_KVM();
    PokeVm t;
    create_its_vm(t);
    if (HasFatalFailure()) return;
    kvmxx::IrqRoute route;
    route.add_irqchip_pins(0, 32).add_msi(100, its_msi);
    ASSERT_OK(t.vm.set_routes(route));
    // GSI 100 is an MSI to the ITS: a signalled irqfd on it becomes the guest's LPI.
    auto msi = kvmxx::EventFd::create();
    ASSERT_OK(msi);
    ASSERT_OK(t.vm.irqfd(*msi, 100));
    for (int i = 0; i < 2; ++i) {
        ASSERT_OK(msi->signal());
        auto acked = guest_write_within(t.cpu());
        EXPECT_EQ(acked.address, report + 8);
        EXPECT_EQ(acked.value(), gic::first_lpi + 5) << "the MSI route's irqfd reached the guest as its LPI";
        EXPECT_EQ(guest_write_within(t.cpu()).address, report + 16);
    }
    ASSERT_OK(t.vm.remove_irqfd(*msi, 100));
}

TEST(KvmRoutes, IrqchipEntriesKeepGsiNOnSpiNAfterTheTableIsReplaced) {
    REQUIRE_KVM();
    GicVm t;
    GicVm::create(t);
    kvmxx::IrqRoute route;
    route.add_irqchip_pins(0, 32).add_msi(100, {.address = *t.gic->its_base() + 0x10040, .data = 0, .devid = 8});
    ASSERT_OK(t.vm.set_routes(route));
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

// KvmVgicGuard.*: kvmxx's own order checks (Vgic refuses before any ioctl, with a hint).
// They prove the guards, not the kernel; KvmVgicKernel.* below asks the kernel itself.

TEST(KvmVgicGuard, KvmxxRefusesAGicBeforeAnyVcpuThoughTheKernelWouldCreateIt) {
    REQUIRE_KVM();
    auto kvm = kvmxx::Kvm::open();
    ASSERT_OK(kvm);
    auto vm = kvm->create_vm();
    ASSERT_OK(vm);
    auto gic = arm64::Vgic::create(*vm);
    ASSERT_FALSE(gic);
    EXPECT_NE(gic.error().hint().find("create every vCPU before the GIC"), std::string::npos);
    // The kernel's own answer (kvm_vgic_create): a VGIC with no vCPU yet is allowed.
    auto raw = vm->create_device(KVM_DEV_TYPE_ARM_VGIC_V3);
    EXPECT_TRUE(raw) << raw.error().message();
}

TEST(KvmVgicGuard, KvmxxRefusesWrongOrdersWithWhatToDoFirst) {
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
    ASSERT_FALSE(twice);
    EXPECT_NE(twice.error().hint().find("already initialized"), std::string::npos);
}

// KvmVgicKernel.*: the same missteps sent to the kernel through the GIC's device fd
// (Vgic::device(), the raw attributes), asserting the errno the kernel's VGIC code returns.

TEST(KvmVgicKernel, TheKernelsOwnAnswersToBadAttributesAndWrongOrders) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    auto gic = arm64::Vgic::create(t.vm);
    ASSERT_OK(gic);
    const kvmxx::Device& dev = gic->device();
    auto errno_of = [](const kvmxx::Result<>& r) { return r ? 0 : r.error().errnum(); };
    // NR_IRQS must be a multiple of 32 from 64 on (vgic_set_common_attr): EINVAL.
    EXPECT_EQ(errno_of(dev.set_attr(vgic_attr::grp_nr_irqs, 0, std::uint32_t{50})), EINVAL);
    // A distributor base not 64 KiB aligned (vgic_check_iorange): EINVAL.
    EXPECT_EQ(errno_of(dev.set_attr(vgic_attr::grp_addr, vgic_attr::v3_dist, std::uint64_t{0x0800'1000})), EINVAL);
    // A GICv3 has no GICv2 CPU interface frame: kvm_vgic_addr's ENODEV, which
    // vgic_set_common_attr reports as ENXIO (unknown attribute).
    EXPECT_EQ(errno_of(dev.set_attr(vgic_attr::grp_addr, vgic_attr::v2_cpu, std::uint64_t{0x0801'0000})), ENXIO);
    // An address is set once (vgic_check_iorange): the second time EEXIST.
    ASSERT_OK(gic->set_distributor(0x0800'0000));
    EXPECT_EQ(errno_of(dev.set_attr(vgic_attr::grp_addr, vgic_attr::v3_dist, std::uint64_t{0x0900'0000})), EEXIST);
    auto dist = dev.get_attr(vgic_attr::grp_addr, vgic_attr::v3_dist);
    ASSERT_OK(dist);
    EXPECT_EQ(*dist, 0x0800'0000u) << "the refused address did not replace the first one";
    // NR_IRQS once (EBUSY the second time), and it reads back.
    ASSERT_OK(gic->set_nr_irqs(128));
    EXPECT_EQ(errno_of(dev.set_attr(vgic_attr::grp_nr_irqs, 0, std::uint32_t{256})), EBUSY);
    auto nr = dev.get_attr<std::uint32_t>(vgic_attr::grp_nr_irqs, 0);
    ASSERT_OK(nr);
    EXPECT_EQ(*nr, 128u);
    // CTRL_INIT with no redistributor address: the kernel accepts the init, and the
    // missing frame shows at the first KVM_RUN (vgic_v3_map_resources): ENXIO.
    // One in-kernel irqchip per VM (kvm_vgic_create): EEXIST.
    auto second = arm64::Vgic::create(t.vm);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().errnum(), EEXIST) << second.error().message();
    ASSERT_OK(dev.set_attr(vgic_attr::grp_ctrl, vgic_attr::ctrl_init));
    EXPECT_EQ(errno_of(dev.set_attr(vgic_attr::grp_ctrl, vgic_attr::ctrl_init)), 0) << "a second init is a no-op";
    auto run = t.cpu().run();
    ASSERT_FALSE(run) << "KVM_RUN with no redistributor address ran: " << kvmxx::describe(*run);
    EXPECT_EQ(run.error().errnum(), ENXIO) << run.error().message();
}

TEST(KvmVgicKernel, TheGicv3TestbedHasNoGicv2AndAGicv3HasNoCpuInterface) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    // QEMU's GICv3 has no GICv2 compatibility (no GICV frame), so the host kernel
    // registers no KVM_DEV_TYPE_ARM_VGIC_V2: KVM_CREATE_DEVICE is ENODEV.
    auto v2 = arm64::Vgic::create(t.vm, arm64::Vgic::Version::V2);
    ASSERT_FALSE(v2);
    EXPECT_EQ(v2.error().errnum(), ENODEV) << v2.error().message();
    EXPECT_STREQ(v2.error().operation(), "KVM_CREATE_DEVICE");
    auto gic = arm64::Vgic::create(t.vm);  // v3 first: no fallback needed
    ASSERT_OK(gic);
    EXPECT_EQ(gic->version(), arm64::Vgic::Version::V3);
    EXPECT_EQ(gic->device().type(), static_cast<std::uint32_t>(KVM_DEV_TYPE_ARM_VGIC_V3));
    // set_cpu_interface is a GICv2 call: kvmxx refuses it on a v3 (its guard) ...
    auto cpu_if = gic->set_cpu_interface(0x0801'0000);
    ASSERT_FALSE(cpu_if);
    EXPECT_NE(cpu_if.error().hint().find("use set_redistributor"), std::string::npos);
    // ... and the kernel, asked directly, has no such frame on a v3 (ENODEV inside,
    // ENXIO out of vgic_set_common_attr).
    auto raw = gic->device().set_attr(vgic_attr::grp_addr, vgic_attr::v2_cpu, std::uint64_t{0x0801'0000});
    ASSERT_FALSE(raw);
    EXPECT_EQ(raw.error().errnum(), ENXIO);
}

TEST(KvmVgicKernel, NrIrqsIsTheCountTheKernelTookAndNotASecondOneItRefused) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    auto gic = arm64::Vgic::create(t.vm);
    ASSERT_OK(gic);
    EXPECT_EQ(gic->nr_irqs(), 0u) << "nothing set yet";
    ASSERT_OK(gic->set_nr_irqs(160));
    EXPECT_EQ(gic->nr_irqs(), 160u);
    auto kernel = [&] { return gic->device().get_attr<std::uint32_t>(vgic_attr::grp_nr_irqs, 0); };
    ASSERT_OK(kernel());
    EXPECT_EQ(*kernel(), 160u);
    // The kernel takes NR_IRQS once (vgic_set_common_attr: EBUSY the second time).
    auto again = gic->set_nr_irqs(256);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().errnum(), EBUSY) << again.error().message();
    EXPECT_EQ(gic->nr_irqs(), 160u) << "a count the kernel refused is not recorded";
    EXPECT_EQ(*kernel(), 160u);
}

TEST(KvmVgicKernel, InitializedTurnsTrueWithTheKernelsInitAfterWhichItTakesNoMoreVcpus) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    auto gic = arm64::Vgic::create(t.vm);
    ASSERT_OK(gic);
    EXPECT_FALSE(gic->initialized());
    ASSERT_FALSE(gic->init()) << "no addresses yet: kvmxx refuses";
    EXPECT_FALSE(gic->initialized());
    ASSERT_OK(gic->set_distributor(0x0800'0000));
    ASSERT_OK(gic->set_redistributor(0x080a'0000));
    // Not initialized yet, so the kernel still takes a vCPU (kvm_arch_vcpu_precreate).
    auto before = t.vm.create_vcpu(1, {.power_off = true});
    ASSERT_OK(before);
    ASSERT_OK(gic->init());
    EXPECT_TRUE(gic->initialized());
    auto after = t.vm.create_vcpu(2, {.power_off = true});
    ASSERT_FALSE(after) << "the kernel took a vCPU after CTRL_INIT";
    EXPECT_EQ(after.error().errnum(), EBUSY) << after.error().message();
}

// The kernel refuses the vCPU itself (kvm_arch_vcpu_precreate: EBUSY); kvmxx adds the hint.
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
