// passthrough.hpp — from `--device vfio:BDF` to a device on the guest's PCI bus.
//
// The VFIO order of things (Documentation/driver-api/vfio.rst):
//   1. the device's IOMMU group (/dev/vfio/N), which must be viable: every
//      device of the group on vfio-pci;
//   2. a container holding the groups, with the Type1 IOMMU set;
//   3. all guest RAM mapped for DMA with IOVA = guest-physical address, so the
//      addresses the guest's driver hands its device are right as they are;
//   4. the KVM-VFIO pseudo-device told of each group;
//   5. the device fd, wrapped in a VfioPciDevice at its guest slot.
// Any failure is an Error saying what to do, "--device vfio:BDF: ..." naming
// the device; what was opened or mapped so far is released by the owners'
// destructors.
#pragma once

#include "errors.hpp"
#include "gsi_router.hpp"
#include "pci_host.hpp"
#include "vfio_pci.hpp"

#include <kvmxx/kvmxx.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vmm {

/// Whether `s` is a PCI address as sysfs names it, DDDD:BB:DD.F in hex (device
/// 00-1f, function 0-7). Anything else (a path, "..", a short form) is refused
/// before it becomes part of a sysfs path.
inline bool is_bdf(std::string_view s) {
    auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); };
    if (s.size() != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.') return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (!hex(s[i])) return false;
    return (s[8] == '0' || s[8] == '1') && s[11] >= '0' && s[11] <= '7';
}

class Passthrough {
public:
    /// Steps 1-2: opens every device of `bdfs` and the groups they need; the
    /// first to fail ends it.
    static kvmxx::Result<std::unique_ptr<Passthrough>> open(const std::vector<std::string>& bdfs) {
        std::unique_ptr<Passthrough> p(new Passthrough);
        if (bdfs.empty()) return p;
        for (const auto& bdf : bdfs)
            if (!is_bdf(bdf))
                return bad_input("--device vfio:" + bdf + ": not a PCI address; write DDDD:BB:DD.F as in "
                                 "/sys/bus/pci/devices, e.g. vfio:0000:00:04.0");
        auto container = kvmxx::VfioContainer::open();
        if (!container) return context("--device vfio:" + bdfs.front(), container.error());
        p->container_ = std::move(*container);
        for (const auto& bdf : bdfs)
            if (auto r = p->open_one(bdf); !r) return context("--device vfio:" + bdf, r.error());
        return p;
    }

    /// The devices on the guest's bus, and what they need while there. Declared
    /// after the VM in main(), it goes first: the devices' interrupts off, their
    /// BAR slots gone, then the DMA map.
    class Plugged {
    public:
        explicit Plugged(kvmxx::VfioContainer& container) : container_(container) {}
        Plugged(const Plugged&) = delete;
        Plugged& operator=(const Plugged&) = delete;
        ~Plugged() {
            devices_.clear();
            if (dma_) (void)container_.unmap_dma(dma_->gpa, dma_->size);
        }

    private:
        friend class Passthrough;
        kvmxx::VfioContainer& container_;
        std::optional<kvmxx::MemoryRegion> dma_;
        std::optional<kvmxx::KvmVfio> kvm_vfio_;
        std::vector<std::unique_ptr<VfioPciDevice>> devices_;
    };

    /// Steps 3-5: guest RAM in the IOMMU, the groups in KVM, the devices on the
    /// guest's bus in command-line order, each at the slot `host` gives it.
    kvmxx::Result<std::unique_ptr<Plugged>> plug(kvmxx::Vm& vm, const kvmxx::MemoryRegion& ram, GsiRouter& router,
                                                 PciHost& host) {
        auto p = std::make_unique<Plugged>(container_);
        if (opened_.empty()) return p;
        const std::string first = "--device vfio:" + opened_.front().first;
        if (auto r = container_.map_dma(ram); !r) return context(first, r.error());
        p->dma_ = ram;
        auto kv = kvmxx::KvmVfio::create(vm);
        if (!kv) return context(first, kv.error());
        p->kvm_vfio_ = std::move(*kv);
        for (auto& [n, g] : groups_)
            if (auto r = p->kvm_vfio_->add_group(g); !r) return context(first, r.error());
        for (auto& [bdf, dev] : opened_) {
            auto slot = host.next_slot();
            if (!slot) return context("--device vfio:" + bdf, slot.error());
            auto d = VfioPciDevice::create(std::move(dev), bdf, {vm, router, host, *slot});
            if (!d) return context("--device vfio:" + bdf, d.error());
            host.attach(*slot, **d);
            p->devices_.push_back(std::move(*d));
        }
        opened_.clear();
        return p;
    }

    Passthrough(const Passthrough&) = delete;
    Passthrough& operator=(const Passthrough&) = delete;

private:
    Passthrough() = default;

    kvmxx::Result<> open_one(const std::string& bdf) {
        kvmxx::vfio::Sysfs sysfs;
        auto n = sysfs.group_of(bdf);
        if (!n) return kvmxx::unexpected<kvmxx::Error>(std::move(n).error());
        if (!groups_.contains(*n)) {
            auto g = kvmxx::VfioGroup::for_device(bdf);
            if (!g) return kvmxx::unexpected<kvmxx::Error>(std::move(g).error());
            if (auto v = g->check_viable(); !v) return v;
            if (auto a = container_.attach(*g); !a) return a;
            groups_.emplace(*n, std::move(*g));
        }
        auto dev = groups_.at(*n).device(bdf);
        if (!dev) return kvmxx::unexpected<kvmxx::Error>(std::move(dev).error());
        opened_.push_back({bdf, std::move(*dev)});
        return {};
    }

    kvmxx::VfioContainer container_;
    std::map<unsigned, kvmxx::VfioGroup> groups_;
    std::vector<std::pair<std::string, kvmxx::VfioDevice>> opened_;
};

}  // namespace vmm
