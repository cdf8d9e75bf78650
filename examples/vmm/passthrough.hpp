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
// Any failure is an Error saying what to do, with `which` naming the device;
// what was opened or mapped so far is released by the owners' destructors.
#pragma once

#include "board.hpp"
#include "gsi_router.hpp"
#include "pci_host.hpp"
#include "vfio_pci.hpp"

#include <kvmxx/kvmxx.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vmm {

class Passthrough {
public:
    /// Opens every device of `bdfs` and the groups they need; the first to fail
    /// ends it, with `which` = its address.
    static kvmxx::Result<std::unique_ptr<Passthrough>> open(const std::vector<std::string>& bdfs, std::string& which) {
        std::unique_ptr<Passthrough> pp(new Passthrough);
        Passthrough& p = *pp;
        if (bdfs.empty()) return pp;
        which = bdfs.front();
        auto container = kvmxx::VfioContainer::open();
        if (!container) return kvmxx::unexpected<kvmxx::Error>(std::move(container).error());
        p.container_ = std::move(*container);
        for (const auto& bdf : bdfs) {
            which = bdf;
            kvmxx::vfio::Sysfs sysfs;
            auto n = sysfs.group_of(bdf);
            if (!n) return kvmxx::unexpected<kvmxx::Error>(std::move(n).error());
            if (!p.groups_.contains(*n)) {
                auto g = kvmxx::VfioGroup::for_device(bdf);
                if (!g) return kvmxx::unexpected<kvmxx::Error>(std::move(g).error());
                if (auto v = g->check_viable(); !v) return kvmxx::unexpected<kvmxx::Error>(std::move(v).error());
                if (auto a = p.container_.attach(*g); !a) return kvmxx::unexpected<kvmxx::Error>(std::move(a).error());
                p.groups_.emplace(*n, std::move(*g));
            }
            auto dev = p.groups_.at(*n).device(bdf);
            if (!dev) return kvmxx::unexpected<kvmxx::Error>(std::move(dev).error());
            p.opened_.push_back({bdf, std::move(*dev)});
        }
        return pp;
    }

    /// Steps 3-5: guest RAM in the IOMMU, the groups in KVM, the devices on the
    /// guest bus at slots 1, 2, ... in command-line order.
    kvmxx::Result<> plug(kvmxx::Vm& vm, const kvmxx::MemoryRegion& ram, GsiRouter& router, PciHost& host,
                         std::string& which) {
        if (opened_.empty()) return {};
        if (auto r = container_.map_dma(ram); !r) return r;
        dma_ = ram;
        auto kv = kvmxx::KvmVfio::create(vm);
        if (!kv) return kvmxx::unexpected<kvmxx::Error>(std::move(kv).error());
        kvm_vfio_ = std::move(*kv);
        for (auto& [n, g] : groups_)
            if (auto r = kvm_vfio_->add_group(g); !r) return r;
        unsigned slot = 1;
        for (auto& [bdf, dev] : opened_) {
            which = bdf;
            auto d = VfioPciDevice::create(std::move(dev), bdf, {vm, router, host, slot, Board::pci_intx_spi(slot)});
            if (!d) return kvmxx::unexpected<kvmxx::Error>(std::move(d).error());
            host.attach(slot++, **d);
            devices_.push_back(std::move(*d));
        }
        opened_.clear();
        return {};
    }

    /// Guest bus slots the devices will take (for the device tree).
    std::vector<unsigned> slots() const {
        std::vector<unsigned> s;
        for (unsigned i = 1; i <= opened_.size() + devices_.size(); ++i) s.push_back(i);
        return s;
    }

    Passthrough(const Passthrough&) = delete;
    Passthrough& operator=(const Passthrough&) = delete;
    ~Passthrough() {
        devices_.clear();  // interrupts off, BAR slots gone, before the DMA map goes
        if (dma_) (void)container_.unmap_dma(dma_->gpa, dma_->size);
    }

private:
    Passthrough() = default;

    kvmxx::VfioContainer container_;
    std::map<unsigned, kvmxx::VfioGroup> groups_;
    std::vector<std::pair<std::string, kvmxx::VfioDevice>> opened_;
    std::optional<kvmxx::MemoryRegion> dma_;
    std::optional<kvmxx::KvmVfio> kvm_vfio_;
    std::vector<std::unique_ptr<VfioPciDevice>> devices_;
};

}  // namespace vmm
