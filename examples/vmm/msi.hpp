// msi.hpp — the MSI capability of a passed-through function, virtual in whole
// (PCI Local Bus 3.0, 6.8.1): the message the guest writes there is a doorbell
// and an event id for *its* ITS, which the host's device must not be told. The
// VMM offers one vector and turns the guest's message into a KVM MSI route
// (irq_modes.hpp); the host's vfio-pci programs the device's own.
//
//     vmm::VirtualMsi msi(*config.msi(), cfg);   // the bytes become virtual
//     if (written.overlaps(msi.bytes())) { auto s = msi.written(cfg); ... s.enabled, s.message }
#pragma once

#include "board.hpp"
#include "config_space.hpp"
#include "pci_regs.hpp"

#include <kvmxx/kvmxx.hpp>

#include <cstdint>

namespace vmm {

class VirtualMsi {
public:
    /// What the guest asked for with its last write.
    struct State {
        bool enabled = false;
        bool masked = false;     ///< vector 0 masked (per-vector masking only)
        kvmxx::Msi message;      ///< address and data; the caller adds the device id
    };

    /// Takes over the capability's bytes in `cfg` (all but the ID and next pointer).
    VirtualMsi(const kvmxx::vfio::MsiCapability& cap, VirtualConfig& cfg) : cap_(cap) {
        const std::uint16_t len = pci::msi_bytes(cap.is_64bit(), cap.per_vector_masking());
        bytes_ = {cap.offset, len};
        cfg.virtualize(control_at(), len - pci::msi_control, 0);
        cfg.put16(control_at(), static_cast<std::uint16_t>(cap.control & pci::msi_offered));
    }

    /// The capability in configuration space (a write there calls for written()).
    Range bytes() const noexcept { return bytes_; }

    /// After a guest write: keeps the read-only bits read-only (only Enable and
    /// vector 0's mask bit are writable; pending bits read 0) and says what the
    /// guest now wants.
    State written(VirtualConfig& cfg) const {
        const auto control = static_cast<std::uint16_t>((cap_.control & pci::msi_offered) |
                                                        (cfg.get16(control_at()) & pci::msi_enable));
        cfg.put16(control_at(), control);
        State s;
        s.enabled = control & pci::msi_enable;
        if (cap_.per_vector_masking()) {
            cfg.put32(cap_.mask_offset(), cfg.get32(cap_.mask_offset()) & pci::msi_vector0);
            cfg.put32(cap_.mask_offset() + 4u, 0);  // pending: read-only, none
            s.masked = cfg.get32(cap_.mask_offset()) & pci::msi_vector0;
        }
        // Message Address bits 1:0 are read-only 0 (a dword address); with
        // per-vector masking, the two bytes after Message Data are reserved: 0.
        cfg.put32(cap_.offset + pci::msi_address, cfg.get32(cap_.offset + pci::msi_address) & ~3u);
        if (cap_.per_vector_masking()) cfg.put16(cap_.data_offset() + 2u, 0);
        s.message.address = cfg.get32(cap_.offset + pci::msi_address);
        if (cap_.is_64bit()) s.message.address |= std::uint64_t{cfg.get32(cap_.offset + pci::msi_address_high)} << 32;
        s.message.data = cfg.get16(cap_.data_offset());
        return s;
    }

private:
    unsigned control_at() const noexcept { return cap_.offset + pci::msi_control; }

    kvmxx::vfio::MsiCapability cap_;
    Range bytes_;
};

}  // namespace vmm
