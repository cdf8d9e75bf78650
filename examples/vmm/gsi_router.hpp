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

/// The table itself, pure (the fuzz harness drives it without a VM): which GSIs
/// are given out and which MSI each routes to.
class GsiTable {
public:
    explicit GsiTable(std::uint32_t spis) : spis_(spis), next_(msi_base(spis)) {}

    /// The first GSI for MSI vectors: past every SPI.
    static constexpr std::uint32_t msi_base(std::uint32_t spis) noexcept { return spis; }

    /// Reserves `count` consecutive GSIs for one device's vectors.
    std::uint32_t allocate(std::uint32_t count) noexcept {
        const auto first = next_;
        next_ += count;
        return first;
    }

    void set(std::uint32_t gsi, const kvmxx::Msi& msi) { msis_[gsi] = msi; }
    /// False when `gsi` had no route.
    bool erase(std::uint32_t gsi) { return msis_.erase(gsi) != 0; }

    /// What KVM_SET_GSI_ROUTING is given: the SPIs' identity routes, then every MSI.
    kvmxx::IrqRoute routes() const {
        kvmxx::IrqRoute table;
        table.add_irqchip_pins(0, spis_);
        for (const auto& [gsi, msi] : msis_) table.add_msi(gsi, msi);
        return table;
    }

private:
    std::uint32_t spis_;
    std::uint32_t next_;
    std::map<std::uint32_t, kvmxx::Msi> msis_;
};

class GsiRouter {
public:
    /// `spis`: how many wired interrupts keep their identity route.
    GsiRouter(kvmxx::Vm& vm, std::uint32_t spis) : vm_(vm), table_(spis) {}

    /// The first GSI for MSI vectors: past every SPI.
    static constexpr std::uint32_t msi_base(std::uint32_t spis) noexcept { return GsiTable::msi_base(spis); }

    /// Reserves `count` consecutive GSIs for one device's vectors.
    std::uint32_t allocate(std::uint32_t count) noexcept { return table_.allocate(count); }

    /// GSI `gsi` → `msi`; committed at once (KVM_SET_GSI_ROUTING).
    kvmxx::Result<> route_msi(std::uint32_t gsi, const kvmxx::Msi& msi) {
        table_.set(gsi, msi);
        return vm_.set_routes(table_.routes());
    }
    /// Drops the route of `gsi` (an irqfd on it then injects nothing).
    kvmxx::Result<> remove(std::uint32_t gsi) {
        if (!table_.erase(gsi)) return {};
        return vm_.set_routes(table_.routes());
    }

private:
    kvmxx::Vm& vm_;
    GsiTable table_;
};

}  // namespace vmm
