// Real-kernel tests, x86_64: the in-kernel irqchip (PIC, IOAPIC, LAPIC), the split
// irqchip, the PIT, the real-mode TSS and identity-map addresses and the VM clock; and
// every way an interrupt reaches an x86 guest (irqfd, irqfd with resample, ioeventfd
// doorbells turned into interrupts, GSI routes to a PIC pin and to an MSI, KVM_SIGNAL_MSI,
// KVM_IRQ_LINE), each proven by the guest's own interrupt handler (irq_guest.S) writing
// the vector it was entered through.
#include "../test_vm.hpp"

#include <chrono>
#include <condition_variable>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <thread>

GUEST_PROGRAM(irq_wait)
GUEST_PROGRAM(port_read)  // guest.S

using namespace kvmtest;
using namespace std::chrono_literals;
namespace x86 = kvmxx::x86;

namespace {

// irq_guest.S's ports and inputs.
constexpr std::uint16_t port_ready = 0x500;
constexpr std::uint16_t port_irq = 0x501;
constexpr std::uint16_t port_eoi = 0x502;
constexpr std::uint32_t ready = 0x52454459;
constexpr std::uint16_t doorbell_port = 0x510;
constexpr std::uint64_t doorbell_mmio = 0x0a00'1000;
constexpr std::uint32_t pic_vector_base = 0x20;  // master 0x20-0x27, slave 0x28-0x2f
constexpr std::uint64_t lapic_msi_address = 0xfee0'0000;  // destination APIC id 0, physical

// Guest memory of these VMs: 512 KiB at GPA 0, for the IVT (0-0x3ff), the stack (below
// 0x10000) and the program (somewhere in 0x10000-0x4ffff): a real-mode handler must be
// below 1 MiB.
constexpr std::uint64_t low_ram = 0x8'0000;
constexpr std::uint64_t stack_top = 0xfff0;

enum class Chip { None, Full, Split };
enum class Doorbell : std::uint32_t { None = 0, Pio = 1, Mmio = 2 };

struct Guest {
    bool pic = false;    ///< the guest programs both PICs
    bool lapic = false;  ///< the guest software-enables its LAPIC
    std::uint8_t master_mask = 0xff;
    std::uint8_t slave_mask = 0xff;
    Doorbell doorbell = Doorbell::None;
};

/// PIC masks with only `irqs` (0-15) unmasked (and the cascade, IRQ 2, for slave IRQs).
constexpr Guest pic_guest(std::initializer_list<unsigned> irqs, bool lapic = false) {
    Guest g{.pic = true, .lapic = lapic};
    for (unsigned irq : irqs) {
        if (irq < 8) {
            g.master_mask = static_cast<std::uint8_t>(g.master_mask & ~(1u << irq));
        } else {
            g.slave_mask = static_cast<std::uint8_t>(g.slave_mask & ~(1u << (irq - 8)));
            g.master_mask = static_cast<std::uint8_t>(g.master_mask & ~(1u << 2));
        }
    }
    return g;
}

/// Runs until an exit other than Interrupted, or until `limit` passes: then a watchdog
/// kicks the vCPU and the result is nullopt. A guest halted inside KVM (in-kernel LAPIC)
/// waiting for an interrupt that never comes would otherwise block run() forever.
std::optional<kvmxx::Exit> run_for(kvmxx::Vcpu& cpu, std::chrono::milliseconds limit = 20s) {
    std::mutex m;
    std::condition_variable cv;
    bool done = false, fired = false;
    auto kicker = cpu.kicker();
    std::thread watchdog([&] {
        std::unique_lock lock(m);
        if (!cv.wait_for(lock, limit, [&] { return done; })) {
            fired = true;
            kicker.kick();
        }
    });
    std::optional<kvmxx::Exit> result;
    for (;;) {
        auto exit = cpu.run();
        if (!exit) {
            ADD_FAILURE() << exit.error().message();
            result = kvmxx::exit::Unknown{~0u};
            break;
        }
        if (!std::holds_alternative<kvmxx::exit::Interrupted>(*exit)) {
            result = *exit;
            break;
        }
        std::lock_guard lock(m);
        if (fired) break;  // the watchdog's kick: nothing came in time
    }
    {
        std::lock_guard lock(m);
        done = true;
    }
    cv.notify_one();
    watchdog.join();
    return result;
}

/// Runs and expects a 4-byte write to `port`; returns its value (~0 on anything else).
std::uint32_t expect_port(kvmxx::Vcpu& cpu, std::uint16_t port, const char* what) {
    auto exit = run_for(cpu);
    if (!exit) {
        ADD_FAILURE() << "expected " << what << ", but the guest made no exit in 20 s "
                      << "(halted, waiting for an interrupt that did not come?)";
        return ~0u;
    }
    auto* out = std::get_if<kvmxx::exit::IoOut>(&*exit);
    if (!out || out->port != port || out->size != 4) {
        ADD_FAILURE() << "expected " << what << " (a 4-byte write to port " << port << "), got "
                      << kvmxx::describe(*exit);
        return ~0u;
    }
    return static_cast<std::uint32_t>(out->value());
}

/// The guest's handler for `vector` ran (its report), then acknowledged the interrupt.
void expect_handler(kvmxx::Vcpu& cpu, std::uint32_t vector) {
    EXPECT_EQ(expect_port(cpu, port_irq, "the interrupt handler's report"), vector);
}
void expect_eoi(kvmxx::Vcpu& cpu, std::uint32_t vector) {
    EXPECT_EQ(expect_port(cpu, port_eoi, "the handler's report after its EOI"), vector);
}
void expect_interrupt(kvmxx::Vcpu& cpu, std::uint32_t vector) {
    expect_handler(cpu, vector);
    expect_eoi(cpu, vector);
}

/// A VM with the chosen irqchip, 512 KiB of RAM at 0 and one vCPU running irq_wait.
struct IrqVm {
    kvmxx::Kvm kvm;
    kvmxx::Vm vm;
    kvmxx::Vcpu cpu;
    std::uint64_t entry = 0;

    /// Up to the VM with its irqchip and RAM, no vCPU (for what must come first).
    static void open(IrqVm& t, Chip chip) {
        auto kvm = kvmxx::Kvm::open();
        ASSERT_OK(kvm);
        t.kvm = std::move(*kvm);
        auto vm = t.kvm.create_vm();
        ASSERT_OK(vm);
        t.vm = std::move(*vm);
        if (chip == Chip::Full) {
            ASSERT_OK(t.vm.create_irqchip());
        } else if (chip == Chip::Split) {
            ASSERT_OK(t.vm.enable_split_irqchip());
        }
        auto ram = t.vm.add_memory(0, low_ram);
        ASSERT_OK(ram);
    }

    /// The vCPU at the program with the guest's inputs set; then runs it to READY.
    static void start(IrqVm& t, const Guest& g) {
        // A distinct PC per VM (see TestVm::load for the TCG reason).
        static unsigned next = 0;
        t.entry = 0x1'0000 + (next++ % 32) * 0x2000;
        auto program = program_irq_wait();
        ASSERT_LE(program.size(), 0x2000u);
        ASSERT_OK(t.vm.write(t.entry, program));
        auto cpu = create_vcpu_at(t.vm, 0, t.entry);
        ASSERT_OK(cpu);
        t.cpu = std::move(*cpu);
        auto sregs = t.cpu.sregs();
        ASSERT_OK(sregs);
        sregs->cs.selector = static_cast<std::uint16_t>(t.entry >> 4);  // IRET reloads CS from it
        ASSERT_OK(t.cpu.set_sregs(*sregs));
        auto regs = t.cpu.regs();
        ASSERT_OK(regs);
        regs->rsp = stack_top;
        regs->rsi = (g.pic ? 1u : 0u) | (g.lapic ? 2u : 0u);
        regs->rcx = static_cast<std::uint64_t>(g.slave_mask) << 8 | g.master_mask;
        regs->rdi = static_cast<std::uint32_t>(g.doorbell);
        ASSERT_OK(t.cpu.set_regs(*regs));
        ASSERT_EQ(expect_port(t.cpu, port_ready, "READY"), ready) << "the guest did not set up its interrupts";
    }

    static void create(IrqVm& t, Chip chip, const Guest& g) {
        open(t, chip);
        if (::testing::Test::HasFatalFailure()) return;
        start(t, g);
    }
};

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// ---- state: irqchip, PIT, clock, TSS, identity map, split irqchip ---------------------

TEST(KvmX86Irqchip, PicAndIoapicStateRoundTripsThroughGetAndSetIrqchip) {
    REQUIRE_KVM();
    IrqVm t;
    IrqVm::open(t, Chip::Full);
    ASSERT_FALSE(HasFatalFailure());
    auto master = t.vm.irqchip(x86::Irqchip::PicMaster);
    ASSERT_OK(master);
    EXPECT_EQ(master->chip_id, static_cast<std::uint32_t>(KVM_IRQCHIP_PIC_MASTER));
    master->chip.pic.imr = 0xa5;
    master->chip.pic.irq_base = 0x40;
    ASSERT_OK(t.vm.set_irqchip(*master));
    auto slave = t.vm.irqchip(x86::Irqchip::PicSlave);
    ASSERT_OK(slave);
    slave->chip.pic.imr = 0x5a;
    ASSERT_OK(t.vm.set_irqchip(*slave));
    auto ioapic = t.vm.irqchip(x86::Irqchip::Ioapic);
    ASSERT_OK(ioapic);
    EXPECT_EQ(ioapic->chip.ioapic.base_address, 0xfec0'0000u) << "the IOAPIC's default MMIO base";
    EXPECT_NE(static_cast<unsigned>(ioapic->chip.ioapic.redirtbl[3].fields.mask), 0u) << "IOAPIC pins start masked";
    ioapic->chip.ioapic.redirtbl[3].fields.vector = 0x33;
    ioapic->chip.ioapic.redirtbl[3].fields.trig_mode = 1;  // level
    ASSERT_OK(t.vm.set_irqchip(*ioapic));

    auto master2 = t.vm.irqchip(x86::Irqchip::PicMaster);
    auto slave2 = t.vm.irqchip(x86::Irqchip::PicSlave);
    auto ioapic2 = t.vm.irqchip(x86::Irqchip::Ioapic);
    ASSERT_OK(master2);
    ASSERT_OK(slave2);
    ASSERT_OK(ioapic2);
    EXPECT_EQ(master2->chip.pic.imr, 0xa5);
    EXPECT_EQ(master2->chip.pic.irq_base, 0x40);
    EXPECT_EQ(slave2->chip.pic.imr, 0x5a) << "the slave is a chip of its own";
    EXPECT_EQ(static_cast<unsigned>(ioapic2->chip.ioapic.redirtbl[3].fields.vector), 0x33u);
    EXPECT_EQ(static_cast<unsigned>(ioapic2->chip.ioapic.redirtbl[3].fields.trig_mode), 1u);
    EXPECT_NE(static_cast<unsigned>(ioapic2->chip.ioapic.redirtbl[3].fields.mask), 0u);

    auto twice = t.vm.create_irqchip();
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().errnum(), EEXIST);
    EXPECT_STREQ(twice.error().operation(), "KVM_CREATE_IRQCHIP");
    EXPECT_TRUE(contains(twice.error().hint(), "already has an in-kernel irqchip")) << twice.error().message();
}

TEST(KvmX86Irqchip, AfterTheFirstVcpuCreateIrqchipIsEinvalAndGetIrqchipEnxio) {
    REQUIRE_KVM();
    IrqVm t;
    IrqVm::open(t, Chip::None);
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_OK(t.vm.create_vcpu(0));
    auto late = t.vm.create_irqchip();
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().errnum(), EINVAL);
    EXPECT_TRUE(contains(late.error().hint(), "before the first vCPU")) << late.error().message();
    auto none = t.vm.irqchip(x86::Irqchip::Ioapic);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().errnum(), ENXIO);
    EXPECT_STREQ(none.error().operation(), "KVM_GET_IRQCHIP");
    EXPECT_TRUE(contains(none.error().message(), "chip=IOAPIC")) << none.error().message();
    EXPECT_TRUE(contains(none.error().hint(), "create_irqchip()")) << none.error().message();
}

TEST(KvmX86Pit, Pit2StateRoundTripsAndAPitIsCreatedOnce) {
    REQUIRE_KVM();
    IrqVm t;
    IrqVm::open(t, Chip::Full);
    ASSERT_FALSE(HasFatalFailure());
    auto before = t.vm.pit2();
    ASSERT_FALSE(before);
    EXPECT_EQ(before.error().errnum(), ENXIO);
    EXPECT_TRUE(contains(before.error().hint(), "create_pit2()")) << before.error().message();
    ASSERT_OK(t.vm.create_pit2());
    auto twice = t.vm.create_pit2();
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().errnum(), EEXIST);
    auto state = t.vm.pit2();
    ASSERT_OK(state);
    // Channel 2 (the speaker's): its gate is port 0x61, so no timer interrupt starts.
    state->channels[2].count = 0x1234;
    state->channels[2].mode = 3;
    state->channels[2].rw_mode = 3;  // low byte, then high byte
    ASSERT_OK(t.vm.set_pit2(*state));
    auto back = t.vm.pit2();
    ASSERT_OK(back);
    EXPECT_EQ(back->channels[2].count, 0x1234u);
    EXPECT_EQ(back->channels[2].mode, 3);
    EXPECT_EQ(back->channels[2].rw_mode, 3);
}

// KVM_PIT_SPEAKER_DUMMY (api.rst 4.71, KVM_CREATE_PIT2): the kernel also answers the PC
// speaker port 0x61 (arch/x86/kvm/i8254.c, speaker_ioport_read), so a guest's read of it
// makes no exit; a PIT created without the flag leaves the port to userspace.
TEST(KvmX86Pit, TheDummySpeakerAnswersPort0x61InsideTheKernelAndWithoutItThePortExits) {
    REQUIRE_KVM();
    for (bool dummy : {true, false}) {
        SCOPED_TRACE(dummy ? "KVM_PIT_SPEAKER_DUMMY" : "flags 0");
        TestVm t;
        TestVm::open(t);
        ASSERT_OK(t.vm.create_irqchip());
        if (dummy) {
            ASSERT_OK(t.vm.create_pit2());  // the default flags
        } else {
            ASSERT_OK(t.vm.create_pit2(0));
        }
        TestVm::load(t, program_port_read());
        ASSERT_FALSE(HasFatalFailure());
        ASSERT_OK(set_arg(t.cpu(), 4, 0x61));  // edx: the speaker port
        auto exit = run_for(t.cpu());
        ASSERT_TRUE(exit);
        if (dummy) {
            auto* out = std::get_if<kvmxx::exit::IoOut>(&*exit);
            ASSERT_NE(out, nullptr) << "the read of port 0x61 exited: " << kvmxx::describe(*exit);
            EXPECT_EQ(out->port, port_ready) << "the report after the in-kernel read";
            EXPECT_EQ(out->value() & ~0xffu, 0u) << "one byte from the kernel's speaker port";
        } else {
            auto* in = std::get_if<kvmxx::exit::IoIn>(&*exit);
            ASSERT_NE(in, nullptr) << "expected the read of port 0x61 to exit: " << kvmxx::describe(*exit);
            EXPECT_EQ(in->port, 0x61);
            EXPECT_EQ(in->size, 1);
        }
    }
}

TEST(KvmX86Clock, SetClockMovesTheVmClockAndGetClockReadsIt) {
    REQUIRE_KVM();
    IrqVm t;
    IrqVm::open(t, Chip::None);
    ASSERT_FALSE(HasFatalFailure());
    auto now = t.vm.clock();
    ASSERT_OK(now);
    constexpr std::uint64_t ahead = 1'000'000'000'000ULL;  // 1000 s
    kvm_clock_data later{};
    later.clock = now->clock + ahead;
    ASSERT_OK(t.vm.set_clock(later));
    auto back = t.vm.clock();
    ASSERT_OK(back);
    EXPECT_GE(back->clock, now->clock + ahead);
    EXPECT_LT(back->clock, now->clock + ahead + 60'000'000'000ULL) << "the clock runs on, not away";
    kvm_clock_data bad{};
    bad.clock = now->clock;
    bad.flags = 0x8000'0000;  // no such flag
    auto refused = t.vm.set_clock(bad);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().errnum(), EINVAL);
    EXPECT_STREQ(refused.error().operation(), "KVM_SET_CLOCK");
}

TEST(KvmX86RealMode, TssAndIdentityMapAddressesAreTakenBeforeTheVcpusAndTheKernelSaysWhenNot) {
    REQUIRE_KVM();
    IrqVm t;
    IrqVm::open(t, Chip::None);
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_OK(t.vm.set_tss_addr(0xfffb'd000));
    ASSERT_OK(t.vm.set_identity_map_addr(0xfffb'c000));
    auto high = t.vm.set_tss_addr(0xffff'e000);  // the three pages would cross 4 GiB
    ASSERT_FALSE(high);
    EXPECT_EQ(high.error().errnum(), EINVAL);
    EXPECT_TRUE(contains(high.error().hint(), "below 4 GiB")) << high.error().message();
    ASSERT_OK(t.vm.create_vcpu(0));
    auto late = t.vm.set_identity_map_addr(0xfffb'c000);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().errnum(), EINVAL);
    EXPECT_STREQ(late.error().operation(), "KVM_SET_IDENTITY_MAP_ADDR");
    EXPECT_TRUE(contains(late.error().hint(), "before the first vCPU")) << late.error().message();
    EXPECT_TRUE(t.vm.set_tss_addr(0xfffb'd000)) << "KVM_SET_TSS_ADDR has no order: it is taken after a vCPU too";
}

TEST(KvmX86SplitIrqchip, TheLapicIsInTheKernelAndThePicAndIoapicAreNot) {
    REQUIRE_KVM();
    IrqVm t;
    IrqVm::open(t, Chip::Split);
    ASSERT_FALSE(HasFatalFailure());
    auto full = t.vm.create_irqchip();
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error().errnum(), EEXIST);
    auto pic = t.vm.irqchip(x86::Irqchip::PicMaster);
    ASSERT_FALSE(pic);
    EXPECT_EQ(pic.error().errnum(), ENXIO);
    EXPECT_TRUE(contains(pic.error().hint(), "split irqchip")) << pic.error().message();
    IrqVm::start(t, {.lapic = true});  // the guest enables its in-kernel LAPIC
    ASSERT_FALSE(HasFatalFailure());

    // An MSI reaches the guest through the in-kernel LAPIC, as with the full irqchip.
    auto delivered = t.vm.signal_msi({.address = lapic_msi_address, .data = 0x44});
    ASSERT_OK(delivered);
    EXPECT_TRUE(*delivered);
    expect_interrupt(t.cpu, 0x44);

    // A level irqfd needs the in-kernel IOAPIC or PIC to tell it about the EOI.
    auto ev = kvmxx::EventFd::create();
    auto resample = kvmxx::EventFd::create();
    ASSERT_OK(ev);
    ASSERT_OK(resample);
    auto level = t.vm.irqfd(*ev, 5, *resample);
    ASSERT_FALSE(level);
    EXPECT_EQ(level.error().errnum(), EINVAL);
    EXPECT_TRUE(contains(level.error().hint(), "full in-kernel irqchip")) << level.error().message();

    // With no in-kernel PIC, the guest's PIC programming is port I/O for userspace.
    IrqVm p;
    IrqVm::open(p, Chip::Split);
    ASSERT_FALSE(HasFatalFailure());
    auto program = program_irq_wait();
    p.entry = 0x5'0000;  // used by no other VM of the run
    ASSERT_OK(p.vm.write(p.entry, program));
    auto cpu = create_vcpu_at(p.vm, 0, p.entry);
    ASSERT_OK(cpu);
    ASSERT_OK(set_arg(*cpu, 5, 1));  // esi: program the PIC
    auto icw1 = run_for(*cpu);
    ASSERT_TRUE(icw1);
    auto* out = std::get_if<kvmxx::exit::IoOut>(&*icw1);
    ASSERT_NE(out, nullptr) << kvmxx::describe(*icw1);
    EXPECT_EQ(out->port, 0x20) << "ICW1 to the master PIC";
    EXPECT_EQ(out->value(), 0x11u);
}

// ---- interrupts into the guest -----------------------------------------------------------

TEST(KvmX86Irqfd, AnEventFdOnGsi5ReachesTheGuestsHandlerThroughThePic) {
    REQUIRE_KVM();
    IrqVm t;
    IrqVm::create(t, Chip::Full, pic_guest({5}));
    ASSERT_FALSE(HasFatalFailure());
    auto ev = kvmxx::EventFd::create();
    ASSERT_OK(ev);
    ASSERT_OK(t.vm.irqfd(*ev, 5));
    for (int i = 0; i < 3; ++i) {
        ASSERT_OK(ev->signal());  // eventfd → KVM → PIC IRQ 5 → vector 0x25, no ioctl between
        expect_interrupt(t.cpu, pic_vector_base + 5);
    }
    ASSERT_OK(t.vm.remove_irqfd(*ev, 5));
    ASSERT_OK(ev->signal());
    auto quiet = run_for(t.cpu, 500ms);
    EXPECT_FALSE(quiet) << "an interrupt after remove_irqfd: " << kvmxx::describe(*quiet);
}

TEST(KvmX86Irqfd, ALevelIrqfdSignalsItsResampleFdOnlyAfterThePicEoi) {
    REQUIRE_KVM();
    IrqVm t;
    IrqVm::create(t, Chip::Full, pic_guest({6}));
    ASSERT_FALSE(HasFatalFailure());
    auto ev = kvmxx::EventFd::create();
    auto resample = kvmxx::EventFd::create();
    ASSERT_OK(ev);
    ASSERT_OK(resample);
    ASSERT_OK(t.vm.irqfd(*ev, 6, *resample));
    for (int i = 0; i < 2; ++i) {
        ASSERT_OK(ev->signal());
        expect_handler(t.cpu, pic_vector_base + 6);
        EXPECT_FALSE(*resample->wait_for(0ms)) << "resample before the guest's EOI";
        expect_eoi(t.cpu, pic_vector_base + 6);
        EXPECT_TRUE(*resample->wait_for(2s)) << "no resample after the guest's EOI";
        EXPECT_EQ(**resample->try_read(), 1u);
    }
}

TEST(KvmX86Irqfd, WithoutAnIrqchipEveryInterruptIoctlSaysToCreateOne) {
    REQUIRE_KVM();
    IrqVm t;
    IrqVm::open(t, Chip::None);
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_OK(t.vm.create_vcpu(0));
    auto ev = kvmxx::EventFd::create();
    ASSERT_OK(ev);
    auto irqfd = t.vm.irqfd(*ev, 5);
    ASSERT_FALSE(irqfd);
    EXPECT_EQ(irqfd.error().errnum(), EINVAL);
    EXPECT_STREQ(irqfd.error().operation(), "KVM_IRQFD");
    kvmxx::IrqRoute route;
    route.add_irqchip(5, KVM_IRQCHIP_PIC_MASTER, 5);
    auto routes = t.vm.set_routes(route);
    ASSERT_FALSE(routes);
    auto line = t.vm.irq_line(5, true);
    ASSERT_FALSE(line);
    auto msi = t.vm.signal_msi({.address = lapic_msi_address, .data = 0x41});
    ASSERT_FALSE(msi);
    for (const kvmxx::Error* e : {&irqfd.error(), &routes.error(), &line.error(), &msi.error()}) {
        EXPECT_TRUE(e->errnum() == EINVAL || e->errnum() == ENXIO) << e->message();
        EXPECT_TRUE(contains(e->hint(), "no in-kernel irqchip")) << e->message();
        EXPECT_TRUE(contains(e->hint(), "call create_irqchip()")) << e->message();
    }
    EXPECT_EQ(line.error().errnum(), ENXIO) << line.error().message();
}

TEST(KvmX86Ioeventfd, APioDoorbellBecomesTheGuestsOwnInterruptWithoutAnExit) {
    REQUIRE_KVM();
    IrqVm t;
    IrqVm::open(t, Chip::Full);
    ASSERT_FALSE(HasFatalFailure());
    // One eventfd for both: the guest's port write signals it (KVM_IOEVENTFD), which
    // raises GSI 5 (KVM_IRQFD). No userspace in between, so the doorbell makes no exit.
    auto ev = kvmxx::EventFd::create();
    ASSERT_OK(ev);
    ASSERT_OK(t.vm.ioeventfd(*ev, {.space = kvmxx::IoEvent::Space::Pio, .address = doorbell_port, .length = 2}));
    ASSERT_OK(t.vm.irqfd(*ev, 5));
    auto g = pic_guest({5});
    g.doorbell = Doorbell::Pio;
    IrqVm::start(t, g);
    ASSERT_FALSE(HasFatalFailure());
    for (int i = 0; i < 3; ++i) expect_interrupt(t.cpu, pic_vector_base + 5);
    ASSERT_OK(t.vm.remove_ioeventfd(*ev, {.space = kvmxx::IoEvent::Space::Pio, .address = doorbell_port, .length = 2}));
    auto exit = run_for(t.cpu);  // the handler returns; the next doorbell is a plain port write
    ASSERT_TRUE(exit);
    auto* out = std::get_if<kvmxx::exit::IoOut>(&*exit);
    ASSERT_NE(out, nullptr) << kvmxx::describe(*exit);
    EXPECT_EQ(out->port, doorbell_port);
    EXPECT_EQ(out->value(), 0xd00bu);
}

TEST(KvmX86Ioeventfd, AnMmioDoorbellBecomesTheGuestsOwnInterruptWithoutAnExit) {
    REQUIRE_KVM();
    IrqVm t;
    IrqVm::open(t, Chip::Full);
    ASSERT_FALSE(HasFatalFailure());
    auto ev = kvmxx::EventFd::create();
    ASSERT_OK(ev);
    ASSERT_OK(t.vm.ioeventfd(*ev, {.address = doorbell_mmio, .length = 4, .datamatch = 0xd00b}));
    ASSERT_OK(t.vm.irqfd(*ev, 9));  // a slave PIC IRQ: vector 0x29, through the cascade
    auto g = pic_guest({9});
    g.doorbell = Doorbell::Mmio;
    IrqVm::start(t, g);
    ASSERT_FALSE(HasFatalFailure());
    for (int i = 0; i < 3; ++i) expect_interrupt(t.cpu, pic_vector_base + 9);
    ASSERT_OK(t.vm.remove_ioeventfd(*ev, {.address = doorbell_mmio, .length = 4, .datamatch = 0xd00b}));
    auto write = expect_write(t.cpu);  // now the doorbell is an MMIO exit
    EXPECT_EQ(write.address, doorbell_mmio);
    EXPECT_EQ(write.value(), 0xd00bu);
}

TEST(KvmX86Routes, ARoutingTableSendsOneGsiToAnotherPicPinAndOneToAnMsi) {
    REQUIRE_KVM();
    IrqVm t;
    IrqVm::create(t, Chip::Full, pic_guest({3, 5}, /*lapic=*/true));
    ASSERT_FALSE(HasFatalFailure());
    kvmxx::IrqRoute route;
    route.add_irqchip(5, KVM_IRQCHIP_PIC_MASTER, 3)  // GSI 5 → IRQ 3 (vector 0x23), not IRQ 5
        .add_irqchip(5, KVM_IRQCHIP_IOAPIC, 3)
        .add_msi(40, {.address = lapic_msi_address, .data = 0x41});  // GSI 40 → LAPIC vector 0x41
    ASSERT_OK(t.vm.set_routes(route));
    auto pin = kvmxx::EventFd::create();
    auto msi = kvmxx::EventFd::create();
    ASSERT_OK(pin);
    ASSERT_OK(msi);
    ASSERT_OK(t.vm.irqfd(*pin, 5));
    ASSERT_OK(t.vm.irqfd(*msi, 40));
    ASSERT_OK(pin->signal());
    expect_interrupt(t.cpu, pic_vector_base + 3);
    ASSERT_OK(msi->signal());
    expect_interrupt(t.cpu, 0x41);
    ASSERT_OK(pin->signal());
    expect_interrupt(t.cpu, pic_vector_base + 3);

    kvmxx::IrqRoute beyond;
    beyond.add_msi(1u << 20, {.address = lapic_msi_address, .data = 0x41});
    auto refused = t.vm.set_routes(beyond);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().errnum(), EINVAL);
    EXPECT_FALSE(contains(refused.error().hint(), "no in-kernel irqchip")) << "this VM has one";
}

TEST(KvmX86Msi, SignalMsiReachesTheGuestOnlyOnceItEnabledItsLapic) {
    REQUIRE_KVM();
    IrqVm t;
    IrqVm::open(t, Chip::Full);
    ASSERT_FALSE(HasFatalFailure());
    // Before its first instruction the guest's LAPIC is software-disabled: not delivered.
    IrqVm probe;
    IrqVm::open(probe, Chip::Full);
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_OK(probe.vm.create_vcpu(0));
    auto early = probe.vm.signal_msi({.address = lapic_msi_address, .data = 0x42});
    ASSERT_OK(early);
    EXPECT_FALSE(*early) << "a LAPIC that is not software-enabled accepts no fixed interrupt";

    IrqVm::start(t, {.lapic = true});
    ASSERT_FALSE(HasFatalFailure());
    for (std::uint32_t vector : {0x42u, 0x43u}) {
        auto delivered = t.vm.signal_msi({.address = lapic_msi_address, .data = vector});
        ASSERT_OK(delivered);
        EXPECT_TRUE(*delivered);
        expect_interrupt(t.cpu, vector);
    }
}

TEST(KvmX86IrqLine, RaisingAndLoweringALineReachesTheGuestThroughMasterAndSlavePic) {
    REQUIRE_KVM();
    IrqVm t;
    IrqVm::create(t, Chip::Full, pic_guest({4, 10}));
    ASSERT_FALSE(HasFatalFailure());
    for (std::uint32_t irq : {4u, 10u, 4u}) {
        ASSERT_OK(t.vm.irq_line(irq, true));
        ASSERT_OK(t.vm.irq_line(irq, false));  // an edge: the PIC latched it
        expect_interrupt(t.cpu, pic_vector_base + irq);
    }
    auto masked = t.vm.irq_line(3, true);  // accepted; the guest masked IRQ 3
    ASSERT_OK(masked);
    ASSERT_OK(t.vm.irq_line(3, false));
    auto quiet = run_for(t.cpu, 500ms);
    EXPECT_FALSE(quiet) << "a masked PIC IRQ reached the guest: " << kvmxx::describe(*quiet);
}

}  // namespace
