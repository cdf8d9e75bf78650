// pic_guest.hpp — the guest side of example 3 on x86_64: an 8259 PIC "driver" in
// real mode, the x86 counterpart of gic_guest.hpp.
//
// Boot: point interrupt vector 0x25 (the master PIC's base 0x20 + IRQ 5) at the
// handler, program both PICs (ICW1-ICW4: vectors 0x20-0x2f, cascade on IRQ 2),
// unmask IRQ 5 only, report "ready" at 0x0a000000, then wait: `sti; hlt`.
// The handler reports its vector at 0x0a000008, sends the PIC a non-specific EOI
// and returns with IRET. The PIC's ports are the in-kernel PIC's (KVM_CREATE_IRQCHIP):
// none of them exits to userspace, and HLT waits inside KVM for the interrupt.
//
// Real-mode interrupts load CS:IP from the vector table at address 0, so this
// guest runs below 1 MiB with CS selector = its address / 16 (IRET must return to
// a CS whose base matches its selector): RAM at 0, code at 0x1000 (CS = 0x100).
#pragma once

#include "common.hpp"

namespace example {

inline constexpr std::uint64_t report = 0x0a00'0000;  // ebx in the guest: its MMIO "printf"
inline constexpr std::uint64_t pic_guest_entry = 0x1000;

inline constexpr std::uint8_t pic_guest[] = {
    0xc7, 0x06, 0x94, 0x00, 0x40, 0x00,        // movw $handler, 0x94     IVT[0x25].ip
    0x8c, 0x0e, 0x96, 0x00,                    // movw %cs, 0x96          IVT[0x25].cs
    0xb0, 0x11, 0xe6, 0x20, 0xe6, 0xa0,        // ICW1 = 0x11 to both PICs: edge, cascade, ICW4 follows
    0xb0, 0x20, 0xe6, 0x21,                    // ICW2 master: vectors 0x20-0x27
    0xb0, 0x28, 0xe6, 0xa1,                    // ICW2 slave: vectors 0x28-0x2f
    0xb0, 0x04, 0xe6, 0x21,                    // ICW3 master: the slave is on IRQ 2
    0xb0, 0x02, 0xe6, 0xa1,                    // ICW3 slave: its cascade id is 2
    0xb0, 0x01, 0xe6, 0x21, 0xe6, 0xa1,        // ICW4 both: 8086 mode
    0xb0, 0xdf, 0xe6, 0x21,                    // OCW1 master: mask all but IRQ 5
    0xb0, 0xff, 0xe6, 0xa1,                    // OCW1 slave: mask all
    0x66, 0xbb, 0x00, 0x00, 0x00, 0x0a,        // mov  $0x0a000000, %ebx  the report window
    0x67, 0x66, 0xc7, 0x03, 0, 0, 0, 0,        // movl $0, (%ebx)         report "ready"
    0xfb,                                      // wait: sti
    0xf4,                                      //       hlt               KVM waits for the interrupt
    0xeb, 0xfc,                                //       jmp wait
    // handler (offset 0x40):
    0x67, 0x66, 0xc7, 0x43, 0x08, 0x25, 0, 0, 0,  // movl $0x25, 8(%ebx)  report the vector
    0xb0, 0x20, 0xe6, 0x20,                    // outb $0x20, $0x20       non-specific EOI
    0xcf,                                      // iret
};
static_assert(sizeof pic_guest == 0x4e, "the handler's offset (0x40) is in the code above");

/// Loads the guest into `ram` (which must start at guest-physical 0) and sets vCPU
/// `cpu` to real mode at it: CS = 0x100:0, data segments flat with a 4 GiB limit so
/// 32-bit addresses reach the report window, the stack at the top of the first 64 KiB.
inline void load_pic_guest(const kvmxx::MemoryRegion& ram, kvmxx::Vcpu& cpu) {
    load(ram, pic_guest_entry, pic_guest);
    must(kvmxx::x86::enter_real_mode(cpu, pic_guest_entry));  // CS = 0x100:0, SP = 0xfff0
    auto sregs = must(cpu.sregs());
    for (kvm_segment* data : {&sregs.ds, &sregs.es, &sregs.ss}) {  // 4 GiB data limits
        data->limit = 0xffff'ffff;
        data->g = 1;
    }
    must(cpu.set_sregs(sregs));
}

/// Runs until the guest's next report; exits with a message on anything else.
inline kvmxx::exit::MmioWrite next_report(kvmxx::Vcpu& cpu) {
    for (;;) {
        auto exit = must(cpu.run());
        if (auto* w = std::get_if<kvmxx::exit::MmioWrite>(&exit)) return *w;
        if (std::holds_alternative<kvmxx::exit::Interrupted>(exit)) continue;
        EXAMPLE_SAY(unexpected_exit, kvmxx::describe(exit).c_str());
        std::exit(1);
    }
}

}  // namespace example
