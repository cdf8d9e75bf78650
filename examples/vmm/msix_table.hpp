// msix_table.hpp — the guest's view of a passed-through device's MSI-X vector
// table (PCI Local Bus 3.0, 6.8.2): 16 bytes per vector, message address (low,
// high), message data, vector control (bit 0 = masked).
//
// The table is emulated, never given to the guest directly: what the guest
// writes there is a guest-physical doorbell and an event id for *its* ITS,
// which the host's device must not be told. The VMM turns each entry into a
// KVM MSI route instead, and the host's vfio-pci keeps its own table.
//
// Pure logic (unit-tested on the host). Accesses are 4 or 8 bytes, aligned, as
// the spec requires; anything else reads as zero and is ignored.
#pragma once

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
    std::uint32_t bytes() const noexcept { return size() * 16; }

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
        return static_cast<unsigned>(offset / 16);
    }

private:
    bool valid(std::uint64_t offset, std::size_t width) const noexcept {
        return (width == 4 || width == 8) && offset % width == 0 && offset < bytes() && width <= bytes() - offset;
    }
    std::uint32_t dword(std::uint64_t offset) const {
        const auto& e = entries_[offset / 16];
        switch (offset % 16) {
            case 0: return static_cast<std::uint32_t>(e.address);
            case 4: return static_cast<std::uint32_t>(e.address >> 32);
            case 8: return e.data;
            default: return e.masked ? 1u : 0u;
        }
    }
    void set_dword(std::uint64_t offset, std::uint32_t v) {
        auto& e = entries_[offset / 16];
        switch (offset % 16) {
            case 0: e.address = (e.address & ~0xffff'ffffull) | (v & ~3u); break;  // dword aligned
            case 4: e.address = (e.address & 0xffff'ffffull) | std::uint64_t{v} << 32; break;
            case 8: e.data = v; break;
            default: e.masked = v & 1; break;  // the other control bits are reserved
        }
    }

    std::vector<MsixEntry> entries_;
};

}  // namespace vmm
