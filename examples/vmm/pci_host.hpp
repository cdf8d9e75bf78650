// pci_host.hpp — a PCI host bridge as the guest's pci-host-ecam-generic driver
// sees it: one bus (bus 0) of configuration space in an ECAM window, and the
// MMIO windows the guest places BARs in.
//
// ECAM ("enhanced configuration access mechanism", PCIe base spec 7.2.2): each
// function's 4 KiB of configuration space sits at
//     window + (bus << 20 | device << 15 | function << 12) + register
// so a config access is an ordinary MMIO exit. Empty slots read as all ones,
// which is how the guest's bus scan learns nobody is there.
//
// BAR windows: most of a passed-through BAR is a memory slot and never exits;
// what does exit (the MSI-X table, or a BAR that cannot be mmapped) lands in a
// window here and goes to the function whose BAR holds the address.
//
// The slot rule, here and nowhere else: devices take slots 1, 2, ... of bus 0
// in the order they are plugged (function 0 each); slot n's INTx, any pin, is
// SPI intx_spi_base + n, level high; its requester id (the ITS device id of its
// MSIs, through msi-map) is n << 3. The node (devicetree bindings:
// pci/host-generic-pci.yaml, pci/pci-msi.txt for msi-map, pci/pci.txt for
// interrupt-map) is written from the same rule.
#pragma once

#include "board.hpp"
#include "device.hpp"

#include <kvmxx/kvmxx.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace vmm {

/// One PCI function on the bus (the passed-through device implements it).
class PciFunction {
public:
    virtual ~PciFunction() = default;
    /// A config access at `reg` (0..4095), 1, 2 or 4 bytes, naturally aligned.
    virtual void config_read(std::uint16_t reg, std::span<std::uint8_t> data) = 0;
    virtual void config_write(std::uint16_t reg, std::span<const std::uint8_t> data) = 0;
    /// An MMIO access no memory slot took; false if none of this function's BARs decodes `gpa`.
    virtual bool bar_access(std::uint64_t gpa, std::span<std::uint8_t> data, bool is_write) = 0;
    /// The BARs this function decodes now (memory enabled, placed).
    virtual std::vector<Range> decoded_bars() const = 0;
};

/// Where the host bridge sits: its ECAM window, its BAR windows, its INTx SPIs.
struct PciLayout {
    Range ecam, mmio32, mmio64;  ///< mmio64: prefetchable, 64-bit
    std::uint32_t intx_spi_base = 0;
};

class PciHost final : public Device {
public:
    static constexpr unsigned slots = 32;
    static constexpr unsigned first_slot = 1;  ///< slot 0 stays empty, as on QEMU's virt

    explicit PciHost(const PciLayout& layout) : layout_(layout) {}
    PciHost(const PciHost&) = delete;  // its windows point back at it
    PciHost& operator=(const PciHost&) = delete;

    /// The slot the next plugged device takes; an error when the bus is full.
    kvmxx::Result<unsigned> next_slot() const {
        for (unsigned s = first_slot; s < slots; ++s)
            if (!functions_[s]) return s;
        return kvmxx::unexpected<kvmxx::Error>(kvmxx::Error(vmm_op, ENOSPC, "the guest's PCI bus is full"));
    }
    /// Slot `slot`'s INTx line, as the interrupt-map tells the guest.
    std::uint32_t intx_spi(unsigned slot) const noexcept { return layout_.intx_spi_base + slot; }
    /// Slot `slot`'s PCI requester id (bus 0, function 0): its MSIs' ITS device id.
    static constexpr std::uint32_t requester_id(unsigned slot) noexcept { return slot << 3; }

    /// Puts `f` at device number `slot` of bus 0, function 0.
    void attach(unsigned slot, PciFunction& f) { functions_.at(slot) = &f; }
    /// Whether no device is plugged (the bus is there all the same, empty).
    bool empty() const noexcept { return std::none_of(functions_.begin(), functions_.end(), [](auto* f) { return f; }); }

    /// Whether a BAR may decode `r`: inside a window (so never on RAM, the GIC or
    /// the UART) and clear of every BAR decoding now (the caller has stopped the
    /// BAR being moved from decoding). "" when it may, else why not.
    std::string check_bar(const Range& r) const {
        if (!r.inside(layout_.mmio32) && !r.inside(layout_.mmio64)) return "outside the PCI memory windows";
        for (const auto* f : functions_) {
            if (!f) continue;
            for (const auto& other : f->decoded_bars())
                if (r.overlaps(other))
                    return "overlaps the BAR at " + kvmxx::trace::hex(other.base);
        }
        return "";
    }

    /// The ECAM window: an MmioHandler over configuration space. Its accesses and
    /// the BAR windows' take one lock, the host's: the bus locks each window on
    /// its own, and a config write may move the BARs a BAR access is looking at.
    struct Ecam {
        PciHost& host;
        void read(std::uint64_t offset, std::span<std::uint8_t> data) {
            std::lock_guard lock(host.lock_);
            std::fill(data.begin(), data.end(), 0xff);  // nobody there
            if (auto* f = host.decode(offset, data.size())) f->config_read(offset & 0xfff, data);
        }
        void write(std::uint64_t offset, std::span<const std::uint8_t> data) {
            std::lock_guard lock(host.lock_);
            if (auto* f = host.decode(offset, data.size())) f->config_write(offset & 0xfff, data);
        }
    };
    Ecam ecam() { return Ecam{*this}; }


    /// A BAR window based at `base`: an MmioHandler forwarding to the BAR's owner.
    struct BarWindow {
        PciHost& host;
        std::uint64_t base;
        void read(std::uint64_t offset, std::span<std::uint8_t> data) {
            std::lock_guard lock(host.lock_);
            std::fill(data.begin(), data.end(), 0xff);  // no BAR decodes it: a master abort
            host.bar_access(base + offset, data, false);
        }
        void write(std::uint64_t offset, std::span<const std::uint8_t> data) {
            std::lock_guard lock(host.lock_);
            host.bar_access(base + offset, {const_cast<std::uint8_t*>(data.data()), data.size()}, true);
        }
    };
    BarWindow bar_window(std::uint64_t base) { return BarWindow{*this, base}; }

    /// The ECAM and both BAR windows, always: with no device plugged the guest
    /// finds a host bridge and an empty bus, as on QEMU and kvmtool.
    kvmxx::Result<> attach(kvmxx::MmioBus& bus) override {
        if (auto r = bus.add("pci-ecam", layout_.ecam.base, layout_.ecam.size, ecam_); !r) return r;
        if (auto r = bus.add("pci-mmio32", layout_.mmio32.base, layout_.mmio32.size, mmio32_); !r) return r;
        return bus.add("pci-mmio64", layout_.mmio64.base, layout_.mmio64.size, mmio64_);
    }

    void write_fdt(FdtWriter& f, const FdtRefs& refs) const override {
        constexpr std::uint32_t mem32 = 0x0200'0000, mem64_prefetch = 0x4300'0000;  // phys.hi space codes
        const auto hi = FdtWriter::hi, lo = FdtWriter::lo;
        const Range &ecam = layout_.ecam, &m32 = layout_.mmio32, &m64 = layout_.mmio64;
        f.begin_node(node_name("pcie", ecam.base));
        f.prop_string("compatible", "pci-host-ecam-generic");
        f.prop_string("device_type", "pci");
        f.prop_reg(ecam.base, ecam.size);
        f.prop_cells("bus-range", {0, 0});
        f.prop_u32("#address-cells", 3);
        f.prop_u32("#size-cells", 2);
        f.prop_u32("#interrupt-cells", 1);
        // PCI address (3 cells) → CPU address (2 cells), size (2 cells): identity maps.
        f.prop_cells("ranges", {mem32, hi(m32.base), lo(m32.base), hi(m32.base), lo(m32.base), hi(m32.size), lo(m32.size),
                                mem64_prefetch, hi(m64.base), lo(m64.base), hi(m64.base), lo(m64.base), hi(m64.size),
                                lo(m64.size)});
        f.prop_cells("msi-map", {0, refs.its, 0, 0x1'0000});  // requester id n → ITS device id n
        f.prop_empty("dma-coherent");
        // INTx: slot n, any pin → its own SPI (one line per slot, none shared);
        // an empty bus has no map (an empty interrupt-map is not a valid one).
        if (!empty()) write_interrupt_map(f, refs);
        f.end_node();
    }

private:
    void write_interrupt_map(FdtWriter& f, const FdtRefs& refs) const {
        constexpr std::uint32_t devfn_mask = 0x1f << 11, pin_mask = 7;  // phys.hi device, INTA..D
        f.prop_cells("interrupt-map-mask", {devfn_mask, 0, 0, pin_mask});
        std::vector<std::uint32_t> map;
        for (unsigned slot = 0; slot < slots; ++slot)
            if (functions_[slot])
                for (std::uint32_t pin = 1; pin <= 4; ++pin)
                    map.insert(map.end(), {requester_id(slot) << 8, 0, 0, pin, refs.gic, 0, 0, gic_cells::spi,
                                           intx_spi(slot), gic_cells::level_high});
        f.prop_cells("interrupt-map", std::span<const std::uint32_t>(map));
    }

    /// The function an ECAM offset addresses, or null (another bus or function,
    /// an empty slot, a misaligned or oversized access).
    PciFunction* decode(std::uint64_t offset, std::size_t width) const {
        const auto bus = offset >> 20, device = (offset >> 15) & 31, function = (offset >> 12) & 7;
        if (bus != 0 || function != 0 || width == 0 || width > 4 || offset % width != 0) return nullptr;
        return functions_[device];
    }
    void bar_access(std::uint64_t gpa, std::span<std::uint8_t> data, bool is_write) {
        for (auto* f : functions_)
            if (f && f->bar_access(gpa, data, is_write)) return;
    }

    PciLayout layout_;
    std::array<PciFunction*, slots> functions_{};
    std::mutex lock_;  ///< one for the ECAM and both BAR windows (see Ecam)
    Ecam ecam_{*this};
    BarWindow mmio32_{*this, layout_.mmio32.base}, mmio64_{*this, layout_.mmio64.base};
};

}  // namespace vmm
