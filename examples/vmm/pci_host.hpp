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
#pragma once

#include <kvmxx/kvmxx.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vmm {

/// A guest-physical range [base, base + size).
struct Range {
    std::uint64_t base = 0, size = 0;
    bool overlaps(const Range& o) const noexcept { return base < o.base + o.size && o.base < base + size; }
    bool inside(const Range& o) const noexcept { return base >= o.base && size <= o.size && base - o.base <= o.size - size; }
};

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

class PciHost {
public:
    static constexpr unsigned slots = 32;

    /// `windows`: where the guest may place BARs (the device tree's `ranges`).
    explicit PciHost(std::vector<Range> windows) : windows_(std::move(windows)) {}

    /// Puts `f` at device number `slot` of bus 0, function 0.
    void attach(unsigned slot, PciFunction& f) { functions_.at(slot) = &f; }

    /// Whether a BAR may decode `r`: inside a window (so never on RAM, the GIC or
    /// the UART) and clear of every BAR decoding now (the caller has stopped the
    /// BAR being moved from decoding). "" when it may, else why not.
    std::string check_bar(const Range& r) const {
        bool in_window = false;
        for (const auto& w : windows_) in_window = in_window || r.inside(w);
        if (!in_window) return "outside the PCI memory windows";
        for (const auto* f : functions_) {
            if (!f) continue;
            for (const auto& other : f->decoded_bars())
                if (r.overlaps(other))
                    return "overlaps the BAR at " + kvmxx::trace::hex(other.base);
        }
        return "";
    }

    /// The ECAM window: an MmioHandler over configuration space.
    struct Ecam {
        PciHost& host;
        void read(std::uint64_t offset, std::span<std::uint8_t> data) {
            std::fill(data.begin(), data.end(), 0xff);  // nobody there
            if (auto* f = host.decode(offset, data.size())) f->config_read(offset & 0xfff, data);
        }
        void write(std::uint64_t offset, std::span<const std::uint8_t> data) {
            if (auto* f = host.decode(offset, data.size())) f->config_write(offset & 0xfff, data);
        }
    };
    Ecam ecam() { return Ecam{*this}; }

    /// A BAR window based at `base`: an MmioHandler forwarding to the BAR's owner.
    struct BarWindow {
        PciHost& host;
        std::uint64_t base;
        void read(std::uint64_t offset, std::span<std::uint8_t> data) {
            std::fill(data.begin(), data.end(), 0xff);  // no BAR decodes it: a master abort
            host.bar_access(base + offset, data, false);
        }
        void write(std::uint64_t offset, std::span<const std::uint8_t> data) {
            host.bar_access(base + offset, {const_cast<std::uint8_t*>(data.data()), data.size()}, true);
        }
    };
    BarWindow bar_window(std::uint64_t base) { return BarWindow{*this, base}; }

    const std::vector<Range>& windows() const noexcept { return windows_; }

private:
    /// The function an ECAM offset addresses, or null (another bus or function,
    /// an empty slot, a misaligned or oversized access).
    PciFunction* decode(std::uint64_t offset, std::size_t width) const {
        const auto bus = offset >> 20, device = (offset >> 15) & 31, function = (offset >> 12) & 7;
        if (bus != 0 || function != 0 || width > 4 || offset % width != 0) return nullptr;
        return functions_[device];
    }
    void bar_access(std::uint64_t gpa, std::span<std::uint8_t> data, bool is_write) {
        for (auto* f : functions_)
            if (f && f->bar_access(gpa, data, is_write)) return;
    }

    std::vector<Range> windows_;
    std::array<PciFunction*, slots> functions_{};
};

}  // namespace vmm
