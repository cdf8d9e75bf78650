// kvmxx/irq_route.hpp — `IrqRoute`: a GSI routing table, built then committed whole.
//
// KVM_SET_GSI_ROUTING replaces the VM's entire table of "GSI n means ...":
// an interrupt controller pin (irqchip entry) or an MSI message (address and
// data, plus on arm64 the requester's device id for the ITS). irqfds name a
// GSI, so the routing table decides what a signalled eventfd becomes.
//
// Build it, inspect it, then commit with `vm.set_routes(route)`:
//
// Example [irq_route], built by tests/unit/doc_examples_test.cpp:
//
//     kvmxx::IrqRoute route;
//     route.add_irqchip_pins(0, 64);                 // keep GSI n → SPI n
//     route.add_msi(64, {.address = 0x0808'0040, .data = 0, .devid = 0x8});
//
// On arm64 the ITS needs the device id: when the VM has KVM_CAP_MSI_DEVID the
// commit sets KVM_MSI_VALID_DEVID on MSI entries that carry one; on kernels
// without it, the device id is left out, as the kernel requires.
#pragma once

#include "config.hpp"
#include "uapi.hpp"
#include "error.hpp"

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <vector>

KVMXX_BEGIN_NAMESPACE

/// An MSI message: what a device writes (data) where (address) to interrupt.
struct Msi {
    std::uint64_t address = 0;  ///< where the device writes (arm64: the ITS's GITS_TRANSLATER)
    std::uint32_t data = 0;     ///< what it writes (arm64 ITS: the event id)
    /// PCI requester id (bus << 8 | devfn) for the arm64 ITS; nullopt when not needed.
    std::optional<std::uint32_t> devid = std::nullopt;
};

/// The packed argument of KVM_SET_GSI_ROUTING: the `kvm_irq_routing` header
/// followed by its entries, in one suitably aligned allocation (see uapi.hpp for
/// why this is not a `kvm_irq_routing*`).
class RoutingTable {
public:
    /// Room for `entries` zeroed entries, and a header that counts them.
    explicit RoutingTable(std::size_t entries) : arg_(entries) {
        arg_.head().nr = static_cast<std::uint32_t>(entries);
    }
    const uapi::IrqRoutingHead& head() const noexcept { return arg_.head(); }  ///< `nr` and `flags`
    /// The entries, as the kernel will read them.
    /// @{
    std::span<kvm_irq_routing_entry> entries() noexcept { return arg_.entries(arg_.head().nr); }
    std::span<const kvm_irq_routing_entry> entries() const noexcept { return arg_.entries(arg_.head().nr); }
    /// @}
    /// What KVM_SET_GSI_ROUTING takes.
    const void* arg() const noexcept { return arg_.arg(); }

private:
    uapi::FlexArg<uapi::IrqRoutingHead, kvm_irq_routing_entry> arg_;
};

/// A GSI routing table built up in userspace and committed as one
/// KVM_SET_GSI_ROUTING (Vm::set_routes), which replaces the VM's whole table:
/// irqchip entries (GSI → interrupt-controller pin) and MSI entries (GSI → message).
class IrqRoute {
public:
    /// GSI `gsi` → pin `pin` of interrupt controller `irqchip` (arm64: irqchip 0, pin = SPI number).
    IrqRoute& add_irqchip(std::uint32_t gsi, std::uint32_t irqchip, std::uint32_t pin) {
        kvm_irq_routing_entry e{};
        e.gsi = gsi;
        e.type = KVM_IRQ_ROUTING_IRQCHIP;
        e.u.irqchip.irqchip = irqchip;
        e.u.irqchip.pin = pin;
        entries_.push_back(e);
        return *this;
    }

    /// GSI first..first+count-1 → irqchip 0 pins 0..count-1: the identity
    /// routing arm64 starts with, which a new table must repeat to keep SPI irqfds working.
    IrqRoute& add_irqchip_pins(std::uint32_t first_gsi, std::uint32_t count) {
        for (std::uint32_t i = 0; i < count; ++i) add_irqchip(first_gsi + i, 0, i);
        return *this;
    }

    /// GSI `gsi` → the MSI message `msi`.
    IrqRoute& add_msi(std::uint32_t gsi, const Msi& msi) {
        kvm_irq_routing_entry e{};
        e.gsi = gsi;
        e.type = KVM_IRQ_ROUTING_MSI;
        e.u.msi.address_lo = static_cast<std::uint32_t>(msi.address);
        e.u.msi.address_hi = static_cast<std::uint32_t>(msi.address >> 32);
        e.u.msi.data = msi.data;
        if (msi.devid) {
            e.flags = KVM_MSI_VALID_DEVID;
            e.u.msi.devid = *msi.devid;
        }
        entries_.push_back(e);
        return *this;
    }

    /// Removes every entry for `gsi`.
    IrqRoute& remove(std::uint32_t gsi) {
        std::erase_if(entries_, [gsi](const kvm_irq_routing_entry& e) { return e.gsi == gsi; });
        return *this;
    }
    void clear() noexcept { entries_.clear(); }  ///< Removes every entry.

    /// The entries so far, in the order added.
    std::span<const kvm_irq_routing_entry> entries() const noexcept { return entries_; }
    std::size_t size() const noexcept { return entries_.size(); }  ///< entries so far
    bool empty() const noexcept { return entries_.empty(); }       ///< no entry yet

    /// The KVM_SET_GSI_ROUTING argument. `msi_devid` says whether the VM has
    /// KVM_CAP_MSI_DEVID: without it the kernel rejects KVM_MSI_VALID_DEVID, so
    /// device ids are dropped.
    RoutingTable prepare(bool msi_devid) const {
        RoutingTable table(entries_.size());
        auto out = table.entries();
        if (!entries_.empty())  // an empty vector's data() may be null, which memcpy may not be given
            std::memcpy(out.data(), entries_.data(), entries_.size() * sizeof(kvm_irq_routing_entry));
        if (!msi_devid) {
            for (auto& e : out) {
                if (e.type == KVM_IRQ_ROUTING_MSI) {
                    e.flags &= ~static_cast<std::uint32_t>(KVM_MSI_VALID_DEVID);
                    e.u.msi.devid = 0;
                }
            }
        }
        return table;
    }

private:
    std::vector<kvm_irq_routing_entry> entries_;
};

KVMXX_END_NAMESPACE
