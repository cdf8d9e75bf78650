// gsi_router.hpp — the VM's one GSI routing table, shared by every device.
//
// KVM_SET_GSI_ROUTING replaces the whole table, so whoever changes one MSI
// route must commit all of them. GsiRouter keeps the table: GSI n → SPI n for
// the wired interrupts (what arm64 starts with; INTx irqfds rely on it), and
// GSI msi_base.. for the MSI and MSI-X vectors of passed-through devices, each
// naming the ITS device id the guest's ITS driver gave the device (its PCI
// requester id, through the device tree's msi-map).
#pragma once

#include <kvmxx/kvmxx.hpp>

#include <cstdint>
#include <map>

namespace vmm {

class GsiRouter {
public:
    /// `spis`: how many wired interrupts keep their identity route.
    GsiRouter(kvmxx::Vm& vm, std::uint32_t spis) : vm_(vm), spis_(spis), next_(msi_base(spis)) {}

    /// The first GSI for MSI vectors: past every SPI.
    static constexpr std::uint32_t msi_base(std::uint32_t spis) noexcept { return spis; }

    /// Reserves `count` consecutive GSIs for one device's vectors.
    std::uint32_t allocate(std::uint32_t count) noexcept {
        const auto first = next_;
        next_ += count;
        return first;
    }

    /// GSI `gsi` → `msi`; committed at once (KVM_SET_GSI_ROUTING).
    kvmxx::Result<> route_msi(std::uint32_t gsi, const kvmxx::Msi& msi) {
        msis_[gsi] = msi;
        return commit();
    }
    /// Drops the route of `gsi` (an irqfd on it then injects nothing).
    kvmxx::Result<> remove(std::uint32_t gsi) {
        if (msis_.erase(gsi) == 0) return {};
        return commit();
    }

private:
    kvmxx::Result<> commit() {
        kvmxx::IrqRoute table;
        table.add_irqchip_pins(0, spis_);
        for (const auto& [gsi, msi] : msis_) table.add_msi(gsi, msi);
        return vm_.set_routes(table);
    }

    kvmxx::Vm& vm_;
    std::uint32_t spis_;
    std::uint32_t next_;
    std::map<std::uint32_t, kvmxx::Msi> msis_;
};

}  // namespace vmm
