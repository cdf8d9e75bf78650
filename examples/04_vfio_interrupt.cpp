// Example 4 — a VFIO device interrupt → an EventFd. No guest involved.
//
// What it teaches: with a device bound to vfio-pci, userspace opens its IOMMU
// group (/dev/vfio/N), puts the group in a container (one IOMMU address space)
// and gets a device fd. VFIO_DEVICE_SET_IRQS hands the device's interrupt to an
// eventfd: when QEMU's edu device raises INTx, vfio-pci's host interrupt handler
// masks the line and signals the eventfd. Whoever reads the eventfd (this
// program) acknowledges the device and asks VFIO to unmask.
//
// Usage: 04_vfio_interrupt [BDF]   (default 0000:00:04.0, an edu bound to vfio-pci)
#include "common.hpp"

#include <chrono>

using example::must;
namespace vfio = kvmxx::vfio;

int main(int argc, char** argv) {
    const std::string bdf = argc > 1 ? argv[1] : "0000:00:04.0";
    auto container = must(kvmxx::VfioContainer::open());             // /dev/vfio/vfio
    auto group = must(kvmxx::VfioGroup::for_device(bdf));            // sysfs iommu_group → /dev/vfio/N
    must(group.check_viable());
    must(container.attach(group));                                   // SET_CONTAINER + SET_IOMMU(Type1v2)
    auto dev = must(group.device(bdf));                              // VFIO_GROUP_GET_DEVICE_FD
    must(dev.enable_memory_and_bus_master());
    auto bar0 = must(dev.mmap(vfio::region::bar0));
    auto reg = [&](std::uint32_t off) -> volatile std::uint32_t& {
        return *reinterpret_cast<volatile std::uint32_t*>(bar0.data() + off);
    };
    EXAMPLE_SAY(ex4_device, bdf.c_str(), group.number(), bar0.size() >> 10, static_cast<unsigned>(reg(0x00)));

    auto irq = must(kvmxx::EventFd::create());
    must(dev.set_irq(vfio::Irq::Intx, irq));                         // VFIO_DEVICE_SET_IRQS: INTx → eventfd
    EXAMPLE_SAY(ex4_set_irqs, irq.event_fd());

    for (std::uint32_t i = 1; i <= 3; ++i) {
        reg(0x60) = i;                                               // edu: raise interrupt, status |= i
        if (!must(irq.wait_for(std::chrono::milliseconds(2000)))) {
            EXAMPLE_SAY(ex4_lost, i);
            return 1;
        }
        auto count = must(irq.try_read());
        EXAMPLE_SAY(ex4_interrupt, i, (unsigned long long)count.value_or(0), static_cast<unsigned>(reg(0x24)));
        reg(0x64) = i;                                               // edu: acknowledge (lowers INTx)
        must(dev.unmask(vfio::Irq::Intx));                           // VFIO masked it on arrival: unmask
        EXAMPLE_SAY(ex4_acked);
    }
    must(dev.disable_irqs(vfio::Irq::Intx));
    EXAMPLE_SAY(ex4_done);
    return 0;
}
