// vfio_setup.hpp — the library's setup sequence for a VM with a passed-through
// device, for the lifecycle and fault-path tests: the KVM sequence of
// tests/kvm/setup_sequence.hpp, then
//   VfioContainer::open → VfioGroup::for_device → attach (VFIO_GROUP_SET_CONTAINER +
//   VFIO_SET_IOMMU Type1v2) → device → map_dma(the VM's RAM) → KvmVfio + add_group
//   → INTx trigger and unmask eventfds → VFIO_DEVICE_SET_IRQS → KVM_IRQFD (level, resample).
#pragma once

#include "../kvm/setup_sequence.hpp"
#include "vfio_env.hpp"

namespace vfiotest {

/// The SPI edu's INTx is wired to (a level irqfd with the unmask eventfd as resample fd).
inline constexpr std::uint32_t edu_spi = 6;

/// Members are destroyed in the reverse order: the eventfds, the KVM VFIO device,
/// the device, the group, the container (its DMA maps), then the VM.
struct VfioSetup {
    kvmtest::KvmSetup kvm;
    kvmxx::VfioContainer container;
    kvmxx::VfioGroup group;
    kvmxx::VfioDevice device;
    std::optional<kvmxx::KvmVfio> kvm_vfio;
    kvmxx::EventFd trigger;
    kvmxx::EventFd unmask;
};

/// The calls of the sequence that allocate an fd, in order.
inline std::vector<const char*> vfio_fd_steps() {
    auto steps = kvmtest::fd_steps();
    for (const char* s : {"open" /* /dev/vfio/vfio */, "open" /* /dev/vfio/N */, "VFIO_GROUP_GET_DEVICE_FD",
                          "KVM_CREATE_DEVICE" /* KVM_DEV_TYPE_VFIO */, "eventfd", "eventfd"})
        steps.push_back(s);
    return steps;
}

inline kvmxx::Result<> setup_vfio(VfioSetup& s, const std::string& bdf) {
    KVMTEST_TRY(kvmtest::setup_kvm(s.kvm));
    auto c = kvmxx::VfioContainer::open();
    KVMTEST_TRY(c);
    s.container = std::move(*c);
    auto g = kvmxx::VfioGroup::for_device(bdf);
    KVMTEST_TRY(g);
    s.group = std::move(*g);
    KVMTEST_TRY(s.group.check_viable());
    KVMTEST_TRY(s.container.attach(s.group));
    auto d = s.group.device(bdf);
    KVMTEST_TRY(d);
    s.device = std::move(*d);
    KVMTEST_TRY(s.container.map_dma(s.kvm.ram));
    auto kv = kvmxx::KvmVfio::create(s.kvm.vm);
    KVMTEST_TRY(kv);
    s.kvm_vfio.emplace(std::move(*kv));
    KVMTEST_TRY(s.kvm_vfio->add_group(s.group));
    auto t = kvmxx::EventFd::create();
    KVMTEST_TRY(t);
    s.trigger = std::move(*t);
    auto u = kvmxx::EventFd::create();
    KVMTEST_TRY(u);
    s.unmask = std::move(*u);
    KVMTEST_TRY(s.device.set_irq(kvmxx::vfio::Irq::Intx, s.trigger));
    KVMTEST_TRY(s.device.set_unmask_eventfd(kvmxx::vfio::Irq::Intx, s.unmask));
    KVMTEST_TRY(s.kvm.vm.irqfd(s.trigger, kvmxx::arm64::spi_gsi(edu_spi), s.unmask));
    return {};
}

}  // namespace vfiotest
