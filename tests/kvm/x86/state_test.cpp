// Real-kernel tests, x86_64 vCPU state: each wrapper's value set, read back, and
// where the guest can see it, seen by the guest (state_guest.S): the three modes of
// kvmxx/x86/modes.hpp, LAPIC, FPU, XSAVE, XCRs, debug registers, MSR batches and the
// MSR index list, NMIs, KVM_INTERRUPT and vCPU events through the guest's IVT,
// KVM_GET_CPUID2 and the TSC frequency.
#include "../test_vm.hpp"

#include <kvmxx/x86/modes.hpp>
#include <kvmxx/x86/vcpu_state.hpp>

#include <algorithm>
#include <cstring>

GUEST_PROGRAM(real_report)
GUEST_PROGRAM(ivt_wait)
GUEST_PROGRAM(debugregs_report)
GUEST_PROGRAM(rdmsr_three)
GUEST_PROGRAM(pm32_report)
GUEST_PROGRAM(pm32_fpu)
GUEST_PROGRAM(lm64_report)
GUEST_PROGRAM(lm64_xsave)
extern "C" const std::uint8_t guest_ivt_nmi[], guest_ivt_irq[];

using namespace kvmtest;
namespace x86 = kvmxx::x86;

namespace {

constexpr std::uint16_t port = 0x500;
constexpr std::uint64_t low_ram = 4 << 20;        // RAM at GPA 0: IVT, tables, programs, stacks
constexpr std::uint64_t tables_gpa = 0x1000;      // GDT + page tables (7 pages for 4 GiB)
constexpr std::uint32_t stack_top = 0x3f'fff0;

kvmxx::exit::IoOut expect_out(kvmxx::Vcpu& cpu) { return expect_exit<kvmxx::exit::IoOut>(cpu, "a port write"); }
void expect_hlt(kvmxx::Vcpu& cpu) { (void)expect_exit<kvmxx::exit::Hlt>(cpu, "a HLT"); }

/// A VM whose RAM starts at GPA 0 (so real mode, its IVT and identity-mapped long
/// mode all reach it), with one program copied in and one vCPU not yet in any mode.
struct LowVm {
    kvmxx::Kvm kvm;
    kvmxx::Vm vm;
    kvmxx::MemoryRegion ram;
    kvmxx::Vcpu cpu;
    std::uint32_t entry = 0;

    static void create(LowVm& t, std::span<const std::uint8_t> program) {
        auto kvm = kvmxx::Kvm::open();
        ASSERT_OK(kvm);
        t.kvm = std::move(*kvm);
        auto vm = t.kvm.create_vm();
        ASSERT_OK(vm);
        t.vm = std::move(*vm);
        auto ram = t.vm.add_memory(0, low_ram);
        ASSERT_OK(ram);
        t.ram = *ram;
        // A different address per VM of the run (the TCG quirk in test_vm.hpp).
        static unsigned next_slot = 0;
        t.entry = 0x10000 + (next_slot++ % 32) * static_cast<std::uint32_t>(program_stride);
        std::memcpy(t.ram.host + t.entry, program.data(), program.size());
        auto cpu = t.vm.create_vcpu(0);
        ASSERT_OK(cpu);
        t.cpu = std::move(*cpu);
    }
};

// ---- modes ------------------------------------------------------------------------------

TEST(KvmX86Modes, RealModeGuestRunsAtTheSegmentTheHelperChose) {
    REQUIRE_KVM();
    LowVm t;
    LowVm::create(t, program_real_report());
    ASSERT_OK(x86::enter_real_mode(t.cpu, t.entry));
    auto s = t.cpu.sregs();
    ASSERT_OK(s);
    EXPECT_EQ(s->cr0 & x86::cr0_pe, 0u);
    EXPECT_EQ(s->cs.base, t.entry);
    auto cs = expect_out(t.cpu);
    EXPECT_EQ(cs.port, port);
    EXPECT_EQ(cs.value(), t.entry >> 4) << "the guest's own CS";
    EXPECT_EQ(expect_out(t.cpu).value(), 0x1616u);
    expect_hlt(t.cpu);
    auto bad = x86::enter_real_mode(t.cpu, 0x20'0000);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().errnum(), EINVAL);
}

TEST(KvmX86Modes, ProtectedModeGuestWritesAKnownValueWithItsFlatSegments) {
    REQUIRE_KVM();
    LowVm t;
    LowVm::create(t, program_pm32_report());
    ASSERT_OK(x86::enter_protected_mode(t.cpu, t.ram, tables_gpa, t.entry, stack_top));
    auto s = t.cpu.sregs();
    ASSERT_OK(s);
    EXPECT_EQ(s->cr0 & (x86::cr0_pe | x86::cr0_pg), x86::cr0_pe) << "protection on, paging off";
    EXPECT_EQ(s->cs.db, 1);
    auto w = expect_write(t.cpu);
    EXPECT_EQ(w.address, report);
    EXPECT_EQ(w.data.size(), 4u);
    EXPECT_EQ(w.value(), 0x32323232u);
    EXPECT_EQ(expect_write(t.cpu).value(), x86::code32_selector);
    EXPECT_EQ(expect_out(t.cpu).value(), 0x3232u);
    expect_hlt(t.cpu);
    EXPECT_EQ(t.cpu.regs()->rip, t.entry + program_pm32_report().size() - 2) << "stopped after its hlt";
}

TEST(KvmX86Modes, LongModeGuestWritesEightBytesThroughTheIdentityMap) {
    REQUIRE_KVM();
    LowVm t;
    LowVm::create(t, program_lm64_report());
    ASSERT_OK(x86::enter_long_mode(t.cpu, t.ram, tables_gpa, t.entry, stack_top));
    auto s = t.cpu.sregs();
    ASSERT_OK(s);
    EXPECT_TRUE(s->efer & x86::efer_lma) << "KVM_SET_SREGS kept EFER.LMA";
    EXPECT_EQ(s->cs.l, 1);
    auto w = expect_write(t.cpu);
    EXPECT_EQ(w.address, report);
    ASSERT_EQ(w.data.size(), 8u) << "a 64-bit store: the guest runs in 64-bit mode";
    EXPECT_EQ(w.value(), 0x6464646464646464u);
    EXPECT_EQ(expect_write(t.cpu).value(), tables_gpa + x86::page_size) << "the guest's CR3";
    EXPECT_EQ(expect_out(t.cpu).value(), 0x6464u);
    expect_hlt(t.cpu);
    auto outside = x86::enter_long_mode(t.cpu, t.ram, low_ram - 0x1000, t.entry, stack_top);
    ASSERT_FALSE(outside);
    EXPECT_EQ(outside.error().errnum(), ERANGE) << outside.error().message();
}

// ---- LAPIC --------------------------------------------------------------------------------

TEST(KvmX86Lapic, RegistersRoundTripAndTheGuestReadsTheTprFromItsMmioPage) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::open(t);
    ASSERT_OK(t.vm.create_irqchip());
    TestVm::load(t, program_load_report());
    auto s = t.cpu().lapic();
    ASSERT_OK(s);
    EXPECT_EQ(kvmxx::lapic::get(*s, kvmxx::lapic::id) >> 24, 0u) << "vCPU 0's APIC ID";
    EXPECT_EQ(kvmxx::lapic::get(*s, kvmxx::lapic::version) & 0xff, 0x14u) << "KVM's integrated APIC";
    kvmxx::lapic::set(*s, kvmxx::lapic::tpr, 0x50);
    ASSERT_OK(t.cpu().set_lapic(*s));
    auto back = t.cpu().lapic();
    ASSERT_OK(back);
    EXPECT_EQ(kvmxx::lapic::get(*back, kvmxx::lapic::tpr), 0x50u);
    ASSERT_OK(set_arg(t.cpu(), 5, 0xfee0'0000 + kvmxx::lapic::tpr));  // esi: the xAPIC page
    EXPECT_EQ(expect_write(t.cpu()).value(), 0x50u) << "the guest's read of the TPR";

    // Without an in-kernel irqchip there is no LAPIC to read.
    TestVm plain;
    TestVm::create(plain, program_spin());
    auto none = plain.cpu().lapic();
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().errnum(), EINVAL);
    EXPECT_STREQ(none.error().operation(), "KVM_GET_LAPIC");
}

// ---- FPU, XSAVE, XCRs -------------------------------------------------------------------

// What the testbed's 6.1 kernel (kvm_amd) does with struct kvm_fpu: x87, FCW and XMM
// round trip, but its `mxcsr` field is neither read nor written (KVM_GET_FPU leaves it 0,
// KVM_SET_FPU ignores it: MXCSR goes through KVM_GET/SET_XSAVE). And a KVM_SET_FPU
// before the vCPU's first KVM_RUN did not reach the guest (it read the reset FCW and a
// zero XMM0), so the guest halts once first.
// kvm_pvm runs these small guests through KVM's x86 instruction emulator (they are not
// PVM-aware kernels), and the emulator has no SSE register moves (movd, psrldq,
// stmxcsr) and no xgetbv: the guest's first one ends KVM_RUN with an emulation
// failure (docs/testing.md, "Backend differences"). The ioctls around it still work.
void expect_pvm_emulation_failure(kvmxx::Vcpu& cpu, const char* insn) {
    auto e = expect_exit<kvmxx::exit::InternalError>(cpu, "an emulation failure (kvm_pvm)");
    EXPECT_EQ(e.suberror, static_cast<std::uint32_t>(KVM_INTERNAL_ERROR_EMULATION)) << insn;
}

TEST(KvmX86Fpu, TheGuestSeesXmm0AndFcwSetWithSetFpuAndGetFpuSeesItsXmm1ButNotMxcsr) {
    REQUIRE_KVM();
    LowVm t;
    LowVm::create(t, program_pm32_fpu());
    ASSERT_OK(x86::enter_protected_mode(t.cpu, t.ram, tables_gpa, t.entry, stack_top));
    expect_hlt(t.cpu);
    auto f = t.cpu.fpu();
    ASSERT_OK(f);
    EXPECT_EQ(f->mxcsr, 0u) << "KVM_GET_FPU does not fill in MXCSR";
    EXPECT_EQ(f->fcw, 0x037fu) << "the reset value";
    const std::uint64_t xmm0 = 0x5566'7788'1122'3344ULL;
    std::memcpy(f->xmm[0], &xmm0, 8);
    f->mxcsr = 0x7f80;  // round toward zero: ignored, as the guest shows
    f->fcw = 0x027f;    // 53-bit precision
    ASSERT_OK(t.cpu.set_fpu(*f));
    auto back = t.cpu.fpu();
    ASSERT_OK(back);
    EXPECT_EQ(back->mxcsr, 0u);
    EXPECT_EQ(back->fcw, 0x027fu);
    EXPECT_EQ(std::memcmp(back->xmm[0], &xmm0, 8), 0);
    if (kvmtest::backend_is_pvm()) return expect_pvm_emulation_failure(t.cpu, "movd %xmm0, %eax");
    EXPECT_EQ(expect_write(t.cpu).value(), 0x11223344u) << "XMM0 bits 0..31 in the guest";
    EXPECT_EQ(expect_write(t.cpu).value(), 0x55667788u) << "XMM0 bits 32..63 in the guest";
    EXPECT_EQ(expect_write(t.cpu).value(), 0x1f80u) << "the guest's stmxcsr: still the reset value";
    EXPECT_EQ(expect_write(t.cpu).value(), 0x027fu) << "the guest's fnstcw";
    expect_hlt(t.cpu);
    auto after = t.cpu.fpu();
    ASSERT_OK(after);
    std::uint32_t xmm1 = 0;
    std::memcpy(&xmm1, after->xmm[1], 4);
    EXPECT_EQ(xmm1, 0xfeedfaceu) << "what the guest left in XMM1";
}

TEST(KvmX86Xsave, Xcr0AndXmm2SetWithSetXcrsAndSetXsaveAreWhatTheLongModeGuestSees) {
    REQUIRE_KVM();
    LowVm t;
    LowVm::create(t, program_lm64_xsave());
    auto table = t.kvm.supported_cpuid();
    ASSERT_OK(table);
    ASSERT_OK(t.cpu.set_cpuid(*table));
    const kvm_cpuid_entry2* leaf1 = table->find(1);
    ASSERT_NE(leaf1, nullptr);
    // kvm_pvm hides XSAVE from its guests (the host CPU has it); its XCR and XSAVE
    // ioctls still round-trip the state.
    const bool pvm = kvmtest::backend_is_pvm();
    if (pvm) EXPECT_FALSE(leaf1->ecx & (1u << 26)) << "kvm_pvm does not offer XSAVE";
    else ASSERT_TRUE(leaf1->ecx & (1u << 26)) << "the testbed's KVM offers XSAVE";
    ASSERT_OK(t.kvm.check(kvmxx::Cap::Xsave2));
    const int size = *t.kvm.check(kvmxx::Cap::Xsave2);
    EXPECT_GE(size, 4096) << "KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2) is the image size";
    EXPECT_EQ(t.cpu.xsave_size(), static_cast<std::size_t>(size)) << "the size set_xsave requires";

    auto xcrs = t.cpu.xcrs();
    ASSERT_OK(xcrs);
    ASSERT_EQ(xcrs->nr_xcrs, 1u);
    EXPECT_EQ(xcrs->xcrs[0].xcr, 0u);
    EXPECT_EQ(xcrs->xcrs[0].value, 1u) << "XCR0 after reset: x87 only";
    xcrs->xcrs[0].value = 0x3;  // x87 | SSE
    ASSERT_OK(t.cpu.set_xcrs(*xcrs));
    EXPECT_EQ(t.cpu.xcrs()->xcrs[0].value, 0x3u);
    kvm_xcrs bad = *xcrs;
    bad.xcrs[0].value = 0x2;  // SSE without x87: invalid
    auto refused = t.cpu.set_xcrs(bad);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().errnum(), EINVAL);

    auto image = t.cpu.xsave2(static_cast<std::size_t>(size));
    ASSERT_OK(image);
    EXPECT_EQ(image->size(), static_cast<std::size_t>(size));
    EXPECT_EQ(image->mxcsr(), 0x1f80u);
    const std::uint64_t xmm2 = 0x0123'4567'89ab'cdefULL;
    std::memcpy(image->xmm(2).data(), &xmm2, 8);
    image->set_xstate_bv(image->xstate_bv() | 0x2);  // the SSE component is in the image
    ASSERT_OK(t.cpu.set_xsave(*image));
    auto legacy = t.cpu.xsave();
    ASSERT_OK(legacy);
    EXPECT_EQ(std::memcmp(legacy->xmm(2).data(), &xmm2, 8), 0) << "KVM_GET_XSAVE reads back KVM_SET_XSAVE";
    // The kernel's own layout, not XsaveArea's: KVM_GET_FPU finds XMM2 where xmm(2) put it.
    auto fpu = t.cpu.fpu();
    ASSERT_OK(fpu);
    EXPECT_EQ(std::memcmp(fpu->xmm[2], &xmm2, 8), 0) << "KVM_GET_FPU sees the XMM2 KVM_SET_XSAVE wrote";
    EXPECT_TRUE(legacy->xstate_bv() & 0x2);
    EXPECT_FALSE(t.cpu.xsave2(100)) << "a size below 4096 is refused before the ioctl";

    ASSERT_OK(x86::enter_long_mode(t.cpu, t.ram, tables_gpa, t.entry, stack_top));
    auto s = t.cpu.sregs();
    ASSERT_OK(s);
    s->cr4 |= x86::cr4_osxsave;
    ASSERT_OK(t.cpu.set_sregs(*s));
    if (pvm) return expect_pvm_emulation_failure(t.cpu, "xgetbv");
    EXPECT_EQ(expect_write(t.cpu).value(), 0x3u) << "the guest's xgetbv";
    auto w = expect_write(t.cpu);
    EXPECT_EQ(w.data.size(), 8u);
    EXPECT_EQ(w.value(), xmm2) << "the guest's XMM2";
    expect_hlt(t.cpu);
}

// ---- debug registers ------------------------------------------------------------------------

TEST(KvmX86DebugRegs, DebugRegistersSetWithSetDebugregsAreWhatTheGuestReads) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_debugregs_report());
    auto d = t.cpu().debugregs();
    ASSERT_OK(d);
    EXPECT_EQ(d->dr7, 0x400u) << "DR7 after reset";
    d->db[0] = 0x1000;
    d->db[3] = 0x4000;
    d->dr7 = 0x600;  // GE and the always-one bit 10: no breakpoint enabled
    ASSERT_OK(t.cpu().set_debugregs(*d));
    auto back = t.cpu().debugregs();
    ASSERT_OK(back);
    EXPECT_EQ(back->db[0], 0x1000u);
    EXPECT_EQ(back->db[3], 0x4000u);
    EXPECT_EQ(back->dr7, 0x600u);
    EXPECT_EQ(expect_write(t.cpu()).value(), 0x1000u) << "mov %dr0 in the guest";
    EXPECT_EQ(expect_write(t.cpu()).value(), 0x4000u) << "mov %dr3 in the guest";
    EXPECT_EQ(expect_write(t.cpu()).value(), 0x600u) << "mov %dr7 in the guest";
    expect_hlt(t.cpu());
    kvm_debugregs flagged = *back;
    flagged.flags = 1;
    auto r = t.cpu().set_debugregs(flagged);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), EINVAL);
    EXPECT_STREQ(r.error().operation(), "KVM_SET_DEBUGREGS");
}

// ---- MSRs -----------------------------------------------------------------------------------

TEST(KvmX86Msrs, ABatchSetsManyInOneCallAndStopsAtTheFirstRefusedIndex) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_rdmsr_three());
    kvmxx::MsrBatch set;
    set.set(0x174, 0x10).set(0x175, 0x8000).set(0x176, 0x9000);  // IA32_SYSENTER_CS/ESP/EIP
    auto n = t.cpu().set_msrs(set);
    ASSERT_OK(n);
    EXPECT_EQ(*n, 3u);
    kvmxx::MsrBatch get{0x174, 0x175, 0x176};
    ASSERT_OK(t.cpu().get_msrs(get));
    EXPECT_EQ(get.value(0x174), 0x10u);
    EXPECT_EQ(get.value(0x175), 0x8000u);
    EXPECT_EQ(get.value(0x176), 0x9000u);

    // An MSR KVM does not know in the middle: the kernel sets the one before it and stops.
    kvmxx::MsrBatch partial;
    partial.set(0x174, 0x20).set(0x4000'7777, 1).set(0x176, 0xa000);
    auto r = t.cpu().set_msrs(partial);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), EINVAL);
    EXPECT_NE(r.error().message().find("processed=1 of=3, refused msr=0x40007777"), std::string::npos)
        << r.error().message();
    EXPECT_EQ(partial.processed(), 1u);
    EXPECT_EQ(partial.refused(), 0x4000'7777u);

    // KVM_GET_MSRS stops at the same MSR: only the entries before it hold values the kernel read.
    kvmxx::MsrBatch unread{0x174, 0x4000'7777, 0x176};
    auto g = t.cpu().get_msrs(unread);
    ASSERT_FALSE(g);
    EXPECT_EQ(unread.processed(), 1u);
    EXPECT_EQ(unread.value(0x174), 0x20u);
    EXPECT_FALSE(unread.value(0x4000'7777)) << "the kernel read no value for the MSR it refused";
    EXPECT_FALSE(unread.value(0x176)) << "nor for any after it";

    EXPECT_EQ(expect_write(t.cpu()).value(), 0x20u) << "the guest's rdmsr 0x174: set by the partial batch";
    EXPECT_EQ(expect_write(t.cpu()).value(), 0x8000u);
    EXPECT_EQ(expect_write(t.cpu()).value(), 0x9000u) << "0x176 was after the refused MSR: unchanged";
    expect_hlt(t.cpu());
}

TEST(KvmX86Msrs, TheIndexListHasTheSysenterMsrsAndTheyReadInOneBatch) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    auto list = t.kvm.msr_index_list();
    ASSERT_OK(list);
    EXPECT_GT(list->size(), 10u);
    for (std::uint32_t want : {0x10u /* TSC */, 0x174u, 0x175u, 0x176u, 0xc000'0081u /* STAR */})
        EXPECT_NE(std::find(list->begin(), list->end(), want), list->end()) << "msr " << std::hex << want;
    kvmxx::MsrBatch all(std::span<const std::uint32_t>(list->data(), list->size()));
    auto n = t.cpu().get_msrs(all);
    ASSERT_OK(n);
    EXPECT_EQ(*n, list->size());
    EXPECT_EQ(all.value(0xc000'0081u), 0u) << "STAR after reset";
    EXPECT_EQ(std::find(list->begin(), list->end(), 0xc000'0080u), list->end())
        << "EFER is state KVM_GET/SET_SREGS carries, not in the list";
}

// ---- NMI, KVM_INTERRUPT, vCPU events: the guest's IVT handlers ------------------------------

/// ivt_wait in real mode with IVT vectors 2 and 0x20 pointing at its handlers; runs to
/// the first HLT (interrupts enabled).
void start_ivt_guest(LowVm& t) {
    LowVm::create(t, program_ivt_wait());
    if (::testing::Test::HasFatalFailure()) return;
    ASSERT_OK(x86::enter_real_mode(t.cpu, t.entry));
    const std::uint16_t seg = static_cast<std::uint16_t>(t.entry >> 4);
    auto vector = [&](unsigned v, const std::uint8_t* handler) {
        const std::uint16_t far[2] = {static_cast<std::uint16_t>(handler - guest_ivt_wait), seg};
        std::memcpy(t.ram.host + 4 * v, far, 4);
    };
    vector(2, guest_ivt_nmi);
    vector(0x20, guest_ivt_irq);
    expect_hlt(t.cpu);
    EXPECT_EQ(t.cpu.raw_run().if_flag, 1) << "the guest's sti";
}

TEST(KvmX86Nmi, AnNmiRunsTheGuestsVector2Handler) {
    REQUIRE_KVM();
    LowVm t;
    start_ivt_guest(t);
    ASSERT_OK(t.cpu.nmi());
    auto events = t.cpu.vcpu_events();
    ASSERT_OK(events);
    EXPECT_EQ(events->nmi.pending, 1) << "queued, not yet taken";
    auto out = expect_out(t.cpu);
    EXPECT_EQ(out.port, port);
    EXPECT_EQ(out.value(), 0x4e02u) << "the NMI handler";
    expect_hlt(t.cpu);
}

TEST(KvmX86Interrupt, KvmInterruptRunsTheGuestsHandlerForThatVector) {
    REQUIRE_KVM();
    LowVm t;
    start_ivt_guest(t);
    ASSERT_EQ(t.cpu.raw_run().ready_for_interrupt_injection, 1);
    ASSERT_OK(t.cpu.interrupt(0x20));
    auto events = t.cpu.vcpu_events();
    ASSERT_OK(events);
    EXPECT_EQ(events->interrupt.injected, 1);
    EXPECT_EQ(events->interrupt.nr, 0x20);
    EXPECT_EQ(expect_out(t.cpu).value(), 0x4920u) << "the vector 0x20 handler";
    expect_hlt(t.cpu);

    // With an in-kernel irqchip interrupts come through its lines: KVM_INTERRUPT is ENXIO.
    TestVm chip;
    TestVm::open(chip);
    ASSERT_OK(chip.vm.create_irqchip());
    TestVm::load(chip, program_spin());
    auto r = chip.cpu().interrupt(0x20);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), ENXIO);
    EXPECT_STREQ(r.error().operation(), "KVM_INTERRUPT");
}

TEST(KvmX86VcpuEvents, SetVcpuEventsCancelsAndThenRaisesAPendingNmi) {
    REQUIRE_KVM();
    LowVm t;
    start_ivt_guest(t);
    ASSERT_OK(t.cpu.nmi());
    auto events = t.cpu.vcpu_events();
    ASSERT_OK(events);
    ASSERT_EQ(events->nmi.pending, 1);
    events->nmi.pending = 0;
    events->flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
    ASSERT_OK(t.cpu.set_vcpu_events(*events));
    EXPECT_EQ(t.cpu.vcpu_events()->nmi.pending, 0);
    expect_hlt(t.cpu);  // no handler ran: the NMI is gone

    events->nmi.pending = 1;
    ASSERT_OK(t.cpu.set_vcpu_events(*events));
    EXPECT_EQ(expect_out(t.cpu).value(), 0x4e02u) << "the NMI set through KVM_SET_VCPU_EVENTS";
    expect_hlt(t.cpu);
}

// ---- CPUID and TSC --------------------------------------------------------------------------

TEST(KvmX86Cpuid, GetCpuid2ReadsBackTheTableSetWithSetCpuid) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    auto empty = t.cpu().cpuid();
    ASSERT_OK(empty);
    EXPECT_EQ(empty->size(), 0u) << "no table set yet";
    auto table = t.kvm.supported_cpuid();
    ASSERT_OK(table);
    std::memcpy(&table->find(0)->ebx, "kvmx", 4);
    ASSERT_OK(t.cpu().set_cpuid(*table));
    auto back = t.cpu().cpuid();
    ASSERT_OK(back);
    EXPECT_EQ(back->size(), table->size());
    ASSERT_NE(back->find(0), nullptr);
    EXPECT_EQ(std::memcmp(&back->find(0)->ebx, "kvmx", 4), 0);
}

TEST(KvmX86Tsc, TheTscRateReadsBackAndALowerOneNeedsTscScaling) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    auto khz = t.cpu().tsc_khz();
    ASSERT_OK(khz);
    EXPECT_GT(*khz, 0u);
    ASSERT_OK(t.cpu().set_tsc_khz(*khz));
    EXPECT_EQ(*t.cpu().tsc_khz(), *khz);
    const std::uint32_t half = *khz / 2;
    auto r = t.cpu().set_tsc_khz(half);
    if (t.kvm.has(kvmxx::Cap::TscControl)) {
        ASSERT_OK(r);
        EXPECT_EQ(*t.cpu().tsc_khz(), half);
    } else {
        ASSERT_FALSE(r) << "without TSC scaling the kernel cannot slow the guest's TSC";
        EXPECT_EQ(r.error().errnum(), EINVAL);
        EXPECT_STREQ(r.error().operation(), "KVM_SET_TSC_KHZ");
    }
}

}  // namespace
