// passthrough_bar.hpp — one BAR of a passed-through device: its register as
// the guest sees it, and the memory slots that put the device's registers
// straight into the guest's address space wherever the guest places the BAR.
//
// The BAR's mmappable parts (VFIO region info: the whole BAR, or its sparse
// areas) become memory slots: guest loads and stores there reach the device
// without a VM exit. Pages that must stay trapped (the MSI-X table and PBA,
// which the VMM emulates) are cut out of the slots, so an access there exits
// and comes to the VMM. A device whose table shares its BAR with registers
// (NVMe's BAR0) thus keeps every register reachable.
#pragma once

#include "board.hpp"
#include "msix.hpp"
#include "pci_regs.hpp"

#include <kvmxx/kvmxx.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace vmm {

/// `area` minus every range of `holes` (all offsets in the BAR), in order.
inline std::vector<Range> subtract(const Range& area, std::vector<Range> holes) {
    std::sort(holes.begin(), holes.end(), [](const Range& a, const Range& b) { return a.base < b.base; });
    std::vector<Range> out;
    std::uint64_t at = area.base;
    const std::uint64_t end = area.base + area.size;
    for (const auto& h : holes) {
        if (h.base + h.size <= at || h.base >= end) continue;
        if (h.base > at) out.push_back({at, h.base - at});
        at = std::max(at, h.base + h.size);
    }
    if (at < end) out.push_back({at, end - at});
    return out;
}

/// [offset, offset+size) widened to whole pages of `page`.
inline Range page_span(std::uint64_t offset, std::uint64_t size, std::uint64_t page) {
    const auto begin = offset / page * page, end = (offset + size + page - 1) / page * page;
    return {begin, end - begin};
}

/// Whether [off, off + len) lies in a memory slot's piece: inside one of the
/// `mapped` parts and clear of every `trapped` range.
inline bool in_memory_slot(std::span<const Range> mapped, std::span<const Range> trapped, std::uint64_t off, std::uint64_t len) {
    const Range access{off, len};
    bool inside = false;
    for (const auto& m : mapped) inside = inside || access.inside(m);
    for (const auto& t : trapped)
        if (access.overlaps(t)) return false;
    return inside;
}

inline std::uint64_t host_page_size() { return static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)); }

struct PassthroughBar {
    static constexpr std::uint64_t low32 = 0xffff'ffffull;

    unsigned index = 0;
    std::uint64_t size = 0;      ///< 0: the guest sees no BAR here
    std::uint32_t flags = 0;     ///< the register's low bits: memory type, prefetchable
    bool is_64bit = false;
    std::uint64_t address = 0;   ///< as the guest last programmed it (masked to the size)
    std::vector<kvmxx::vfio::MappedArea> maps;  ///< the BAR's mmapped parts
    std::vector<Range> trapped;  ///< offsets the guest must never reach directly
    std::optional<Range> decoded;  ///< where the BAR decodes now
    std::vector<std::uint32_t> slots;

    /// BAR `raw` of config space `pc` as the guest will see it, given the size of
    /// its VFIO region: a memory BAR of a power-of-two size, the MSI-X pages of
    /// `msix` (if any) trapped; an I/O BAR is not offered (no I/O window): size 0.
    static PassthroughBar describe(const kvmxx::vfio::PciConfig& pc, const kvmxx::vfio::PciBar& raw,
                                   std::uint64_t region_size, const VirtualMsix* msix, std::uint64_t page) {
        PassthroughBar b;
        b.index = raw.index;
        b.is_64bit = raw.is_64bit;
        b.flags = pc.u32(pci::bar_bytes(raw.index)) & pci::bar_flag_bits;
        if (raw.io || region_size == 0 || (region_size & (region_size - 1))) return b;
        b.size = region_size;
        if (msix)
            for (const auto& t : msix->trapped(raw.index)) b.trapped.push_back(page_span(t.base, t.size, page));
        return b;
    }

    /// Every BAR of `dev` as the guest will see it (describe), mmapped where VFIO allows.
    static kvmxx::Result<std::vector<PassthroughBar>> from_device(const kvmxx::VfioDevice& dev,
                                                                   const kvmxx::vfio::PciConfig& pc,
                                                                   const VirtualMsix* msix) {
        const auto page = host_page_size();
        std::vector<PassthroughBar> bars;
        for (const auto& raw : pc.bars()) {
            auto info = dev.region_info(kvmxx::vfio::region::bar(raw.index));
            if (!info) return kvmxx::unexpected<kvmxx::Error>(std::move(info).error());
            PassthroughBar b = describe(pc, raw, info->size, msix, page);
            if (b.size >= page) {  // a smaller BAR cannot be a memory slot: every access exits
                auto maps = dev.mmap_sparse(*info);
                if (!maps) return kvmxx::unexpected<kvmxx::Error>(std::move(maps).error());
                b.maps = std::move(*maps);
            }
            bars.push_back(std::move(b));
        }
        return bars;
    }

    /// The guest's write of register dword `high` (upper half of a 64-bit BAR or not).
    void write_register(bool high, std::uint32_t value) {
        if (size == 0) return;
        const std::uint64_t mask = ~(size - 1);
        if (high) address = (address & low32) | (std::uint64_t{value} << 32);
        else address = (address & ~low32) | (value & ~pci::bar_flag_bits);
        address &= mask;
        if (!is_64bit) address &= low32;
    }
    /// What the guest reads back: the address (all ones after sizing, masked to
    /// the size, which is how the guest learns it) and the flag bits.
    std::uint32_t read_register(bool high) const {
        if (size == 0) return 0;
        return high ? static_cast<std::uint32_t>(address >> 32) : static_cast<std::uint32_t>(address) | flags;
    }

    /// The address after the guest wrote all ones to learn the size.
    std::uint64_t sizing_pattern() const noexcept {
        const std::uint64_t ones = is_64bit ? ~0ull : low32;
        return ones & ~(size - 1) & ~std::uint64_t{pci::bar_flag_bits};
    }

    /// Where the BAR should decode: its range while memory decoding is on and the
    /// guest has placed it (not at 0, not left at the sizing pattern); else nowhere.
    std::optional<Range> placement(bool memory_on) const {
        if (size == 0 || !memory_on || address == 0 || address == sizing_pattern()) return std::nullopt;
        return Range{address, size};
    }

    /// Memory slots for the mmapped parts minus the trapped pages, at `where`.
    kvmxx::Result<> map(kvmxx::Vm& vm, const Range& where) {
        for (auto& m : maps) {
            for (const auto& piece : subtract({m.offset, m.map.size()}, trapped)) {
                auto host = m.map.bytes().subspan(piece.base - m.offset, piece.size);
                auto slot = vm.add_user_memory(where.base + piece.base, host);
                if (!slot) return kvmxx::unexpected<kvmxx::Error>(std::move(slot).error());
                slots.push_back(slot->slot);
            }
        }
        decoded = where;
        return {};
    }
    void unmap(kvmxx::Vm& vm) {
        for (auto s : slots) (void)vm.remove_memory(s);
        slots.clear();
        decoded.reset();
    }
    /// Whether an access at `off` is one the guest makes through a memory slot
    /// (not a trapped page, not a BAR VFIO would not mmap).
    bool slot_covers(std::uint64_t off, std::size_t len) const {
        std::vector<Range> mapped;
        for (const auto& m : maps) mapped.push_back({m.offset, m.map.size()});
        return in_memory_slot(mapped, trapped, off, len);
    }
    bool decodes(std::uint64_t gpa, std::size_t len) const {
        return decoded && gpa >= decoded->base && gpa - decoded->base + len <= decoded->size;
    }
};

/// After a guest write of the BAR registers in `cfg`: each BAR takes the address
/// written (masked to its size), and its registers read back that and the flag bits.
inline void bar_registers_written(std::vector<PassthroughBar>& bars, VirtualConfig& cfg) {
    for (auto& b : bars) {
        const std::uint16_t at = pci::bar_bytes(b.index);
        b.write_register(false, cfg.get32(at));
        if (b.is_64bit) b.write_register(true, cfg.get32(at + 4u));
        cfg.put32(at, b.read_register(false));
        if (b.is_64bit) cfg.put32(at + 4u, b.read_register(true));
    }
}

}  // namespace vmm
