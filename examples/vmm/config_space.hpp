// config_space.hpp — a passed-through function's configuration space as the
// guest sees it. Byte by byte, it is either
//   virtual: kept here, what the guest must see differently from the device (the
//            BARs: guest addresses are not host addresses; the expansion ROM: not
//            offered; the interrupt line; the MSI capability and the MSI-X
//            control word: their messages name the guest's ITS);
//   live:    everything else, status included, read from and written to the
//            device through vfio-pci's config region (which itself guards the
//            command register and the rest of what a user may not touch).
// Extended configuration space (0x100+) reads as zero: no extended capabilities.
//
//     vmm::VirtualConfig cfg(*dev.config(pci::config_size));
//     cfg.virtualize(pci::interrupt_line, 1, 0);
//     cfg.read(dev, pci::interrupt_line, byte);   // 0, whatever the device has
//
// The live bytes go through a ConfigRegion: the device's VFIO config region (a
// kvmxx::VfioDevice is one), or, in the fuzz harnesses (tests/fuzz), an array.
#pragma once

#include "board.hpp"
#include "pci_regs.hpp"

#include <kvmxx/kvmxx.hpp>

#include <algorithm>
#include <array>
#include <bitset>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <span>

namespace vmm {

/// Where live configuration bytes are read and written: the device's VFIO config region.
template <class R>
concept ConfigRegion = requires(const R& r, std::uint16_t at, std::span<std::uint8_t> in, std::span<const std::uint8_t> out) {
    { r.read(kvmxx::vfio::region::config, at, in) } -> std::same_as<kvmxx::Result<>>;
    { r.write(kvmxx::vfio::region::config, at, out) } -> std::same_as<kvmxx::Result<>>;
};

class VirtualConfig {
public:
    /// Starts from the device's own bytes, all live.
    explicit VirtualConfig(std::span<const std::uint8_t> device_bytes) {
        std::copy_n(device_bytes.begin(), std::min<std::size_t>(device_bytes.size(), pci::config_size), bytes_.begin());
    }

    /// Makes [at, at + len) virtual, reading `value` until the guest writes it.
    void virtualize(unsigned at, unsigned len, std::uint8_t value) {
        for (unsigned i = at; i < at + len && i < pci::config_size; ++i) {
            virtual_[i] = true;
            bytes_[i] = value;
        }
    }

    /// Makes [at, at + len) read `value` whatever the guest writes: a register
    /// the function does not implement, hardwired to zero by the spec.
    void hardwire(unsigned at, unsigned len, std::uint8_t value) {
        virtualize(at, len, value);
        for (unsigned i = at; i < at + len && i < pci::config_size; ++i) hardwired_[i] = true;
    }

    /// A guest read: live bytes from `dev` (all ones if that fails), virtual ones from here.
    template <ConfigRegion R>
    void read(const R& dev, std::uint16_t reg, std::span<std::uint8_t> data) const {
        std::fill(data.begin(), data.end(), 0);
        if (reg >= pci::config_size || data.size() > std::size_t{pci::config_size} - reg) return;  // extended config: none
        if (!all_virtual(reg, data.size()) && !dev.read(kvmxx::vfio::region::config, reg, data))
            std::fill(data.begin(), data.end(), 0xff);
        for (std::size_t i = 0; i < data.size(); ++i)
            if (virtual_[reg + i]) data[i] = bytes_[reg + i];
    }

    /// A guest write: virtual bytes stored here, live ones sent to `dev` in runs.
    /// The caller then acts on what changed (Range{reg, size} overlaps ...).
    template <ConfigRegion R>
    kvmxx::Result<> write(const R& dev, std::uint16_t reg, std::span<const std::uint8_t> data) {
        if (reg >= pci::config_size || data.size() > std::size_t{pci::config_size} - reg) return {};
        kvmxx::Result<> result;
        for (std::size_t i = 0; i < data.size();) {
            std::size_t j = i;
            while (j < data.size() && virtual_[reg + j] == virtual_[reg + i]) ++j;
            if (virtual_[reg + i]) {
                for (std::size_t k = i; k < j; ++k)
                    if (!hardwired_[reg + k]) bytes_[reg + k] = data[k];
            } else if (auto r = dev.write(kvmxx::vfio::region::config, reg + i, data.subspan(i, j - i)); !r) result = r;
            i = j;
        }
        return result;
    }

    /// The virtual bytes, little-endian, as the guest last wrote them (or as set).
    std::uint16_t get16(unsigned at) const { return static_cast<std::uint16_t>(bytes_[at] | bytes_[at + 1] << 8); }
    std::uint32_t get32(unsigned at) const { return get16(at) | std::uint32_t{get16(at + 2)} << 16; }
    void put16(unsigned at, std::uint16_t v) {
        bytes_[at] = static_cast<std::uint8_t>(v);
        bytes_[at + 1] = static_cast<std::uint8_t>(v >> 8);
    }
    void put32(unsigned at, std::uint32_t v) {
        put16(at, static_cast<std::uint16_t>(v));
        put16(at + 2, static_cast<std::uint16_t>(v >> 16));
    }
    std::uint8_t byte(unsigned at) const { return bytes_[at]; }

private:
    bool all_virtual(std::uint16_t reg, std::size_t len) const {
        for (std::size_t i = 0; i < len; ++i)
            if (!virtual_[reg + i]) return false;
        return true;
    }

    std::array<std::uint8_t, pci::config_size> bytes_{};
    std::bitset<pci::config_size> virtual_;
    std::bitset<pci::config_size> hardwired_;  ///< virtual and read-only
};

}  // namespace vmm
