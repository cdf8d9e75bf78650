// Example 5 — the whole chain, the reason kvmxx exists:
//   edu raises INTx → host GIC/SMMU → vfio-pci's handler → eventfd →
//   KVM_IRQFD → the in-kernel VGIC → the guest's handler,
// and back: the guest acks edu through the BAR mapped into its memory, its EOI
// makes KVM signal the resample eventfd, and VFIO unmasks INTx. This program
// sets the chain up and then only runs the vCPU: it never reads the eventfd.
// KVM is a subscriber to vfio's eventfd, not an interceptor of interrupts.
//
// Usage: 05_passthrough_irq [BDF]   (default 0000:00:04.0, an edu bound to vfio-pci)
#include "gic_guest.hpp"

using example::must;
namespace arm64 = kvmxx::arm64;
namespace vfio = kvmxx::vfio;

// The guest's IRQ handler — its edu driver. x5 = edu's BAR0 in guest memory.
constexpr std::uint32_t irq_handler[] = {
    0xd538cc03,  // mrs  x3, ICC_IAR1_EL1     acknowledge: x3 = INTID
    0xf9000423,  // str  x3, [x1, #8]         report it
    0xb94024a4,  // ldr  w4, [x5, #0x24]      edu interrupt status (a load from the BAR: no exit)
    0xb90064a4,  // str  w4, [x5, #0x64]      edu acknowledge: the device lowers INTx
    0xd5033f9f,  // dsb  sy
    0xd518cc23,  // msr  ICC_EOIR1_EL1, x3    EOI → KVM signals the resample eventfd
    0xd5033fdf,  // isb
    0xf9000824,  // str  x4, [x1, #16]        report the status it acknowledged
    0xd69f03e0,  // eret
};

int main(int argc, char** argv) {
    const std::string bdf = argc > 1 ? argv[1] : "0000:00:04.0";
    constexpr std::uint64_t ram_base = 0x4000'0000, bar_gpa = 0x1000'0000;
    constexpr std::uint32_t spi = 6;  // INTID 38: level, like the INTx line behind it

    // The VM and its GIC (examples 1 and 3).
    auto kvm = must(kvmxx::Kvm::open());
    auto vm = must(kvm.create_vm());
    auto ram = must(vm.add_memory(ram_base, 0x10000));
    auto cpu = must(vm.create_vcpu(0, {}));
    example::load_gic_guest(ram, cpu, ram_base, ram_base + 0x1000, irq_handler);
    auto gic = must(arm64::Vgic::setup(vm, {}));

    // The device (example 4), and its BAR0 as guest memory at bar_gpa.
    auto container = must(kvmxx::VfioContainer::open());
    auto group = must(kvmxx::VfioGroup::for_device(bdf));
    must(group.check_viable());
    must(container.attach(group));
    auto dev = must(group.device(bdf));
    must(dev.enable_memory_and_bus_master());
    auto bar0 = must(dev.mmap(vfio::region::bar0));
    must(vm.add_user_memory(bar_gpa, bar0.bytes()));                 // KVM_SET_USER_MEMORY_REGION
    must(cpu.set(arm64::reg::x(5), bar_gpa));
    EXAMPLE_SAY(ex5_bar, bdf.c_str(), (unsigned long long)bar_gpa);

    // The chain: VFIO signals `trigger`; KVM injects; the guest's EOI signals `unmask`.
    auto trigger = must(kvmxx::EventFd::create());
    auto unmask = must(kvmxx::EventFd::create());
    must(dev.set_irq(vfio::Irq::Intx, trigger));                     // VFIO_DEVICE_SET_IRQS (TRIGGER)
    must(dev.set_unmask_eventfd(vfio::Irq::Intx, unmask));           // VFIO_DEVICE_SET_IRQS (UNMASK)
    must(vm.irqfd(trigger, arm64::spi_gsi(spi), unmask));            // KVM_IRQFD with KVM_IRQFD_FLAG_RESAMPLE
    EXAMPLE_SAY(ex5_chain, trigger.event_fd(), arm64::spi_gsi(spi), arm64::spi_intid(spi), unmask.event_fd());

    example::next_report(cpu);  // the guest's GIC driver is ready
    auto edu_status = [&] { return *reinterpret_cast<volatile std::uint32_t*>(bar0.data() + 0x24); };
    for (std::uint32_t i = 1; i <= 3; ++i) {
        *reinterpret_cast<volatile std::uint32_t*>(bar0.data() + 0x60) = i;  // the device interrupts
        // An exit's data lives in the shared kvm_run page until the next run(): keep the values.
        const auto intid = example::next_report(cpu).value();
        const auto acked = example::next_report(cpu).value();
        EXAMPLE_SAY(ex5_interrupt, i, (unsigned long long)intid, (unsigned long long)acked, edu_status());
        if (intid != arm64::spi_intid(spi) || acked != i) return 1;
    }
    auto left = must(trigger.try_read());
    if (left) {
        EXAMPLE_SAY(ex5_left);
        return 1;
    }
    EXAMPLE_SAY(ex5_consumed);  // KVM consumed every signal: userspace never saw one
    return 0;
}
