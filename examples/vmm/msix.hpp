// msix.hpp — the MSI-X capability of a passed-through function, with its vector
// table (PCI Local Bus 3.0, 6.8.2): 16 bytes per vector, message address (low,
// high), message data, vector control (bit 0 = masked).
//
// The table is emulated, never given to the guest directly: what the guest
// writes there is a guest-physical doorbell and an event id for *its* ITS,
// which the host's device must not be told. The VMM turns each entry into a
// KVM MSI route instead (irq_modes.hpp), and the host's vfio-pci keeps its own
// table. The table's and the pending-bit array's pages are trapped (cut out of
// the BAR's memory slots, passthrough_bar.hpp), so guest accesses there exit
// and come here; of Message Control only Enable and Function Mask are writable.
//
// MsixTable is pure logic (unit-tested on the host). Accesses are 4 or 8 bytes,
// aligned, as the spec requires; anything else reads as zero and is ignored.
//
//     vmm::VirtualMsix msix(*config.msix(), cfg);
//     auto hit = msix.bar_access(bar, offset, data, is_write);   // table or PBA?
//     if (hit.vector) { /* vector *hit.vector changed: re-route it */ }
#pragma once

#include "board.hpp"
#include "config_space.hpp"
#include "pci_regs.hpp"

#include <kvmxx/kvmxx.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

namespace vmm {

struct MsixEntry {
    std::uint64_t address = 0;
    std::uint32_t data = 0;
    bool masked = true;  ///< vectors come out of reset masked
};

class MsixTable {
public:
    explicit MsixTable(unsigned vectors) : entries_(vectors) {}

    unsigned size() const noexcept { return static_cast<unsigned>(entries_.size()); }
    const MsixEntry& operator[](unsigned v) const { return entries_.at(v); }
    std::uint32_t bytes() const noexcept { return size() * pci::msix_entry_bytes; }

    void read(std::uint64_t offset, std::span<std::uint8_t> data) const {
        std::memset(data.data(), 0, data.size());
        if (!valid(offset, data.size())) return;
        for (std::size_t i = 0; i < data.size(); i += 4) {
            const std::uint32_t v = dword(offset + i);
            std::memcpy(data.data() + i, &v, 4);
        }
    }

    /// Stores the write; returns the vector it changed, if any.
    std::optional<unsigned> write(std::uint64_t offset, std::span<const std::uint8_t> data) {
        if (!valid(offset, data.size())) return std::nullopt;
        for (std::size_t i = 0; i < data.size(); i += 4) {
            std::uint32_t v;
            std::memcpy(&v, data.data() + i, 4);
            set_dword(offset + i, v);
        }
        return static_cast<unsigned>(offset / pci::msix_entry_bytes);
    }

private:
    static constexpr std::uint64_t low32 = 0xffff'ffffull;

    bool valid(std::uint64_t offset, std::size_t width) const noexcept {
        return (width == 4 || width == 8) && offset % width == 0 && offset < bytes() && width <= bytes() - offset;
    }
    std::uint32_t dword(std::uint64_t offset) const {
        const auto& e = entries_[offset / pci::msix_entry_bytes];
        switch (offset % pci::msix_entry_bytes) {
            case pci::msix_entry_address: return static_cast<std::uint32_t>(e.address);
            case pci::msix_entry_address_high: return static_cast<std::uint32_t>(e.address >> 32);
            case pci::msix_entry_data: return e.data;
            default: return e.masked ? pci::msix_vector_masked : 0u;
        }
    }
    void set_dword(std::uint64_t offset, std::uint32_t v) {
        auto& e = entries_[offset / pci::msix_entry_bytes];
        switch (offset % pci::msix_entry_bytes) {
            case pci::msix_entry_address: e.address = (e.address & ~low32) | (v & pci::msix_address_mask); break;
            case pci::msix_entry_address_high: e.address = (e.address & low32) | std::uint64_t{v} << 32; break;
            case pci::msix_entry_data: e.data = v; break;
            default: e.masked = v & pci::msix_vector_masked; break;  // the other control bits are reserved
        }
    }

    std::vector<MsixEntry> entries_;
};

/// The capability's control word (virtual) and its table and PBA (emulated).
class VirtualMsix {
public:
    /// What a BAR access did here: `hit` when it was the table's or the PBA's;
    /// `vector` when it changed a table entry.
    struct Access {
        bool hit = false;
        std::optional<unsigned> vector;
    };

    /// Takes over the control word in `cfg`: MSI-X off, the function unmasked.
    VirtualMsix(const kvmxx::vfio::MsixCapability& cap, VirtualConfig& cfg) : cap_(cap), table_(cap.table_size) {
        cfg.virtualize(control_at(), 2, 0);
        cfg.put16(control_at(), static_cast<std::uint16_t>(cap.control & pci::msix_table_size_mask));
    }

    unsigned vectors() const noexcept { return table_.size(); }
    const MsixEntry& entry(unsigned v) const { return table_[v]; }
    /// The control word in configuration space (a write there calls for control_written()).
    Range control_bytes() const noexcept { return {control_at(), 2}; }

    /// After a guest write of the control word: only Enable and Function Mask
    /// change. Returns whether MSI-X is now enabled.
    bool control_written(VirtualConfig& cfg) const {
        const auto control = static_cast<std::uint16_t>((cap_.control & pci::msix_table_size_mask) |
                                                        (cfg.get16(control_at()) & pci::msix_writable));
        cfg.put16(control_at(), control);
        return control & pci::msix_enable;
    }
    bool function_masked(const VirtualConfig& cfg) const { return cfg.get16(control_at()) & pci::msix_function_mask; }
    /// Whether vector `v` may deliver now: its own mask bit and the function's.
    bool masked(unsigned v, const VirtualConfig& cfg) const { return table_[v].masked || function_masked(cfg); }

    /// The bytes of BAR `bar` that must trap: the table's, the PBA's, if there.
    std::vector<Range> trapped(unsigned bar) const {
        std::vector<Range> out;
        if (cap_.table_bar == bar) out.push_back({cap_.table_offset, cap_.table_bytes()});
        if (cap_.pba_bar == bar) out.push_back({cap_.pba_offset, cap_.pba_bytes()});
        return out;
    }

    /// A guest access at `offset` in BAR `bar`: served here when it falls in the
    /// table or the PBA. Pending bits are not tracked: a masked vector's interrupt
    /// waits in its eventfd instead, so the PBA reads "none pending" and ignores writes.
    Access bar_access(unsigned bar, std::uint64_t offset, std::span<std::uint8_t> data, bool is_write) {
        const Range at{offset, data.size()};
        if (bar == cap_.table_bar && at.inside({cap_.table_offset, table_.bytes()})) {
            if (!is_write) table_.read(offset - cap_.table_offset, data);
            else return {true, table_.write(offset - cap_.table_offset, data)};
            return {true, std::nullopt};
        }
        if (bar == cap_.pba_bar && at.inside({cap_.pba_offset, cap_.pba_bytes()})) {
            if (!is_write) std::fill(data.begin(), data.end(), 0);
            return {true, std::nullopt};
        }
        return {};
    }

private:
    unsigned control_at() const noexcept { return cap_.offset + pci::msix_control; }

    kvmxx::vfio::MsixCapability cap_;
    MsixTable table_;
};

}  // namespace vmm
