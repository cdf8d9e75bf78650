// gic_guest.hpp — the guest side of examples 3 and 5: a GICv3 "driver" in 22
// instructions and the exception vectors it needs (arm64, EL1, MMU off).
//
// Boot: enable the GIC's system-register CPU interface and group 1, turn on the
// distributor, put INTIDs 37 and 38 (SPIs 5 and 6) in group 1, make 37 edge- and
// 38 level-triggered (KVM's VGIC resets SPIs to edge; a device's INTx is level),
// enable both, report "ready" at 0x0a000000, unmask IRQs and wait in WFI.
// The vectors live at VBAR_EL1, which the host sets; the IRQ handler is
// supplied by each example (what "handling" means differs).
#pragma once

#include "common.hpp"

#include <array>

namespace example {

inline constexpr std::uint64_t report = 0x0a00'0000;  // x1 in the guest: its MMIO "printf"

inline constexpr std::uint32_t gic_boot[] = {
    0xd2a14001,  // mov  x1, #0x0a000000        the report window
    0xd2800020,  // mov  x0, #1
    0xd518cca0,  // msr  ICC_SRE_EL1, x0        system-register interface
    0xd5033fdf,  // isb
    0xd2801fe0,  // mov  x0, #0xff
    0xd5184600,  // msr  ICC_PMR_EL1, x0        let every priority through
    0xd2800020,  // mov  x0, #1
    0xd518cce0,  // msr  ICC_IGRPEN1_EL1, x0    enable group 1 interrupts
    0xd5033fdf,  // isb
    0xd2a10002,  // mov  x2, #0x08000000        the distributor (GicLayout default)
    0x52800240,  // mov  w0, #0x12
    0xb9000040,  // str  w0, [x2]               GICD_CTLR: ARE | EnableGrp1
    0x52800c00,  // mov  w0, #0x60
    0xb9008440,  // str  w0, [x2, #0x84]        GICD_IGROUPR1: INTIDs 37, 38 → group 1
    0x52810000,  // mov  w0, #0x800
    0xb90c0840,  // str  w0, [x2, #0xc08]       GICD_ICFGR2: 37 edge, 38 level
    0x52800c00,  // mov  w0, #0x60
    0xb9010440,  // str  w0, [x2, #0x104]       GICD_ISENABLER1: enable 37, 38
    0xf9000020,  // str  x0, [x1]               report "ready"
    0xd50342ff,  // msr  daifclr, #2            unmask IRQs
    0xd503207f,  // wfi                         wait for an interrupt...
    0x17ffffff,  // b    .-4                    ...forever
};

/// At VBAR_EL1 + 0x200 (synchronous exception): report ESR_EL1 at +0x100 and stop.
inline constexpr std::uint32_t sync_vector[] = {
    0xd5385203,  // mrs  x3, ESR_EL1
    0xf9008023,  // str  x3, [x1, #0x100]
    0x14000000,  // b    .
};

/// Loads the boot code at `entry`, the vectors at `vbar` (2 KiB aligned) with
/// `irq_handler` at +0x280, and points vCPU `cpu` at them.
inline void load_gic_guest(const kvmxx::MemoryRegion& ram, kvmxx::Vcpu& cpu, std::uint64_t entry, std::uint64_t vbar,
                           std::span<const std::uint32_t> irq_handler) {
    load(ram, entry, gic_boot);
    load(ram, vbar + 0x200, sync_vector);
    load(ram, vbar + 0x280, irq_handler);  // "IRQ, current EL with SP_ELx"
    must(cpu.set(kvmxx::arm64::reg::pc, entry));
    must(cpu.set(kvmxx::arm64::sysreg::VBAR_EL1, vbar));
}

/// Runs until the guest's next report; exits with a message on anything else.
inline kvmxx::exit::MmioWrite next_report(kvmxx::Vcpu& cpu) {
    for (;;) {
        auto exit = must(cpu.run());
        if (auto* w = std::get_if<kvmxx::exit::MmioWrite>(&exit)) {
            if (w->address == report + 0x100) {
                EXAMPLE_SAY(guest_exception, (unsigned long long)w->value());
                std::exit(1);
            }
            return *w;
        }
        if (std::holds_alternative<kvmxx::exit::Interrupted>(exit)) continue;
        EXAMPLE_SAY(unexpected_exit, kvmxx::describe(exit).c_str());
        std::exit(1);
    }
}

}  // namespace example
