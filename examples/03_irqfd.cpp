// Example 3 — irqfd: an EventFd → KVM_IRQFD → the in-kernel interrupt controller
// (arm64: the VGIC; x86_64: the 8259 PIC) → the guest's interrupt handler. No
// device yet: the host signals the eventfd itself.
//
// What it teaches: KVM_IRQFD ties an eventfd to a guest interrupt line (a GSI;
// on arm64, GSI n is SPI n, INTID 32 + n; on x86, GSI 0-15 are the PIC's IRQs).
// Whoever signals the eventfd — this program now, vfio-pci in example 5 — makes
// KVM inject the interrupt into the guest's virtual interrupt controller, with no
// exit to userspace and no ioctl per interrupt.
#include <kvmxx/config.hpp>  // KVMXX_ARCH_*: which guest this example carries

#if KVMXX_ARCH_ARM64
#include "gic_guest.hpp"

using example::must;
namespace arm64 = kvmxx::arm64;

// The guest's IRQ handler: acknowledge (read the INTID), report it, end it.
constexpr std::uint32_t irq_handler[] = {
    0xd538cc03,  // mrs  x3, ICC_IAR1_EL1     acknowledge: x3 = INTID
    0xf9000423,  // str  x3, [x1, #8]         report it
    0xd518cc23,  // msr  ICC_EOIR1_EL1, x3    end of interrupt
    0xd5033fdf,  // isb
    0xd69f03e0,  // eret                      back to the WFI loop
};

int main() {
    constexpr std::uint64_t ram_base = 0x4000'0000;
    constexpr std::uint32_t spi = 5;  // INTID 37, edge-triggered in the guest's GIC setup
    auto kvm = must(kvmxx::Kvm::open());
    auto vm = must(kvm.create_vm());
    auto ram = must(vm.add_memory(ram_base, 0x10000));
    auto cpu = must(vm.create_vcpu(0, {}));
    example::load_gic_guest(ram, cpu, ram_base, ram_base + 0x1000, irq_handler);
    auto gic = must(arm64::Vgic::setup(vm, {}));              // GICv3 + ITS, in the kernel's order
    EXAMPLE_SAY(ex3_gic, (unsigned long long)arm64::GicLayout{}.distributor, spi, arm64::spi_intid(spi));

    auto irq = must(kvmxx::EventFd::create());
    must(vm.irqfd(irq, arm64::spi_gsi(spi)));                  // KVM_IRQFD: eventfd → GSI 5
    EXAMPLE_SAY(ex3_irqfd, irq.event_fd(), arm64::spi_gsi(spi));

    auto ready = example::next_report(cpu);
    EXAMPLE_SAY(ex3_gic_ready, (unsigned long long)ready.address);
    for (int i = 1; i <= 3; ++i) {
        must(irq.signal());                                    // write(2) 1 to the eventfd
        auto seen = example::next_report(cpu);                 // the guest handler ran
        EXAMPLE_SAY(ex3_gic_signal, i, (unsigned long long)seen.value());
        if (seen.value() != arm64::spi_intid(spi)) return 1;
    }
    EXAMPLE_SAY(ex3_done);
    return 0;
}
#else
#include "pic_guest.hpp"

using example::must;

int main() {
    constexpr std::uint32_t irq_line = 5;  // PIC IRQ 5 = GSI 5 = vector 0x25 in the guest's setup
    auto kvm = must(kvmxx::Kvm::open());
    auto vm = must(kvm.create_vm());
    must(vm.create_irqchip());                                 // KVM_CREATE_IRQCHIP: PICs, IOAPIC, LAPICs
    auto ram = must(vm.add_memory(0, 0x10000));                // 64 KiB at 0: the vector table lives there
    auto cpu = must(vm.create_vcpu(0));
    example::load_pic_guest(ram, cpu);
    EXAMPLE_SAY(ex3_pic, irq_line, 0x20 + irq_line);

    auto irq = must(kvmxx::EventFd::create());
    must(vm.irqfd(irq, irq_line));                             // KVM_IRQFD: eventfd → GSI 5
    EXAMPLE_SAY(ex3_irqfd, irq.event_fd(), irq_line);

    auto ready = example::next_report(cpu);
    EXAMPLE_SAY(ex3_pic_ready, (unsigned long long)ready.address);
    for (int i = 1; i <= 3; ++i) {
        must(irq.signal());                                    // write(2) 1 to the eventfd
        auto seen = example::next_report(cpu);                 // the guest handler ran
        EXAMPLE_SAY(ex3_pic_signal, i, (unsigned long long)seen.value());
        if (seen.value() != 0x20 + irq_line) return 1;
    }
    EXAMPLE_SAY(ex3_done);
    return 0;
}
#endif
