// x86_guest.hpp — the VMs the x86_64 host benchmarks run (hostkvm_bench.cpp and
// instr_count.cpp): 512 KiB of RAM at 0, one vCPU in real mode at a loop of
// x86_guest.S, optionally the in-kernel irqchip with the interrupt guest of
// tests/kvm/x86/irq_guest.S waiting for IRQ 5 through the PIC.
#pragma once

#include <kvmxx/kvmxx.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <variant>

extern "C" const std::uint8_t xbench_mmio_write[], xbench_mmio_write_end[], xbench_mmio_read[],
    xbench_mmio_read_end[], xbench_pio_out[], xbench_pio_out_end[], xbench_ioeventfd[], xbench_ioeventfd_end[];
extern "C" const std::uint8_t guest_irq_wait[], guest_irq_wait_end[];  // tests/kvm/x86/irq_guest.S

namespace xbench {

constexpr std::uint64_t low_ram = 0x8'0000, entry = 0x1'0000, stack_top = 0xfff0;
constexpr std::uint64_t mmio = 0x0a00'0000, doorbell = mmio + 0x1000;
constexpr std::uint16_t port = 0x500;
// irq_guest.S: READY on 0x500, "handler ran" on 0x501, "EOI done" on 0x502.
constexpr std::uint16_t port_ready = 0x500, port_irq = 0x501, port_eoi = 0x502;
constexpr std::uint32_t irq = 5;  // PIC master IRQ 5, vector 0x25

enum class Program { MmioWrite, MmioRead, PioOut, Ioeventfd, Irq };

inline std::span<const std::uint8_t> code(Program p) {
    auto span = [](const std::uint8_t* b, const std::uint8_t* e) {
        return std::span<const std::uint8_t>(b, static_cast<std::size_t>(e - b));
    };
    switch (p) {
        case Program::MmioWrite: return span(xbench_mmio_write, xbench_mmio_write_end);
        case Program::MmioRead: return span(xbench_mmio_read, xbench_mmio_read_end);
        case Program::PioOut: return span(xbench_pio_out, xbench_pio_out_end);
        case Program::Ioeventfd: return span(xbench_ioeventfd, xbench_ioeventfd_end);
        case Program::Irq: break;
    }
    return span(guest_irq_wait, guest_irq_wait_end);
}

/// One VM, its RAM and one vCPU at the program. For Program::Irq the VM has the
/// in-kernel irqchip and the guest has programmed its PICs (IRQ 5 unmasked) and
/// said READY: it now halts inside KVM until an interrupt comes.
struct Guest {
    kvmxx::Kvm kvm;
    kvmxx::Vm vm;
    kvmxx::Vcpu cpu;

    static std::unique_ptr<Guest> make(Program p, std::string& why) {
        auto fail = [&why](const kvmxx::Error& e) -> std::unique_ptr<Guest> {
            why = e.message();
            return nullptr;
        };
        auto kvm = kvmxx::Kvm::open();
        if (!kvm) return fail(kvm.error());
        auto vm = kvm->create_vm();
        if (!vm) return fail(vm.error());
        if (p == Program::Irq)
            if (auto c = vm->create_irqchip(); !c) return fail(c.error());
        if (auto m = vm->add_memory(0, low_ram); !m) return fail(m.error());
        if (auto w = vm->write(entry, code(p)); !w) return fail(w.error());
        auto cpu = vm->create_vcpu(0);
        if (!cpu) return fail(cpu.error());
        if (auto r = kvmxx::x86::enter_unreal_mode(*cpu, entry, stack_top); !r) return fail(r.error());
        std::unique_ptr<Guest> g(new Guest{std::move(*kvm), std::move(*vm), std::move(*cpu)});
        if (p != Program::Irq) return g;
        // irq_guest.S takes real-mode interrupts: IRET reloads CS's base from its selector.
        auto s = g->cpu.sregs();
        if (!s) return fail(s.error());
        s->cs.selector = static_cast<std::uint16_t>(entry >> 4);
        if (auto r = g->cpu.set_sregs(*s); !r) return fail(r.error());
        auto regs = g->cpu.regs();
        if (!regs) return fail(regs.error());
        regs->rsi = 1;                                   // program both PICs
        regs->rcx = 0xff00u | (0xffu & ~(1u << irq));    // slave all masked, master: IRQ 5 only
        regs->rdi = 0;                                   // no doorbell
        if (auto r = g->cpu.set_regs(*regs); !r) return fail(r.error());
        auto ready = g->cpu.run();
        auto* out = ready ? std::get_if<kvmxx::exit::IoOut>(&*ready) : nullptr;
        if (!out || out->port != port_ready) {
            why = "the interrupt guest did not say READY: " + (ready ? kvmxx::describe(*ready) : ready.error().message());
            return nullptr;
        }
        return g;
    }
};

}  // namespace xbench
