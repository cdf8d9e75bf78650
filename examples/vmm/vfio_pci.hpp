// vfio_pci.hpp — a PCI device passed through with vfio-pci: the guest drives
// the real device; the VMM only stands where the guest must not.
//
// Configuration space, byte by byte, is either
//   virtual: the BARs (guest addresses are not host addresses), the expansion
//            ROM (not offered), the interrupt line, the MSI capability and the
//            MSI-X control word (their messages name the guest's ITS) — kept here;
//   live:    everything else, status included, read from and written to the
//            device through vfio-pci's config region (which itself guards the
//            command register and the rest of what a user may not touch).
// Extended configuration space (0x100+) reads as zero: no extended capabilities.
//
// Interrupts, all delivered by the kernel without this process (see
// docs/interrupt-path.md):
//   INTx   vfio eventfd → KVM_IRQFD with resample on the slot's SPI (level);
//          the guest's EOI signals vfio's unmask eventfd.
//   MSI    one vector: vfio eventfd → KVM_IRQFD on a GSI routed (GsiRouter) to
//          the message the guest wrote, with the ITS device id = requester id.
//   MSI-X  the same per vector; the table is emulated (msix_table.hpp) and a
//          masked vector has its irqfd removed, so its eventfd holds the
//          interrupt until unmasked (KVM_IRQFD injects a pending one on assign).
#pragma once

#include "gsi_router.hpp"
#include "msix_table.hpp"
#include "passthrough_bar.hpp"
#include "pci_host.hpp"

#include <kvmxx/kvmxx.hpp>

#include <array>
#include <bitset>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace vmm {

namespace pci = kvmxx::vfio::pci;
using kvmxx::vfio::Irq;

/// Where a passed-through device sits in the guest, and what it plugs into.
struct PciWiring {
    kvmxx::Vm& vm;
    GsiRouter& router;
    PciHost& host;
    unsigned slot;          ///< device number on the guest's bus 0
    std::uint32_t intx_spi; ///< the SPI the device tree's interrupt-map gives the slot
};

class VfioPciDevice final : public PciFunction {
public:
    /// Reads the device's config space, maps its BARs, wires INTx. The device
    /// must be a type 0 function (an endpoint, not a bridge).
    static kvmxx::Result<std::unique_ptr<VfioPciDevice>> create(kvmxx::VfioDevice dev, std::string bdf, PciWiring w) {
        std::unique_ptr<VfioPciDevice> d(new VfioPciDevice(std::move(dev), std::move(bdf), w));
        if (auto r = d->setup(); !r) return kvmxx::unexpected<kvmxx::Error>(std::move(r).error());
        return d;
    }
    ~VfioPciDevice() override {
        leave_mode();
        for (auto& b : bars_) b.unmap(w_.vm);
    }
    VfioPciDevice(const VfioPciDevice&) = delete;
    VfioPciDevice& operator=(const VfioPciDevice&) = delete;

    /// The PCI requester id (bus 0): the ITS device id of this function's MSIs.
    std::uint32_t requester_id() const noexcept { return w_.slot << 3; }
    const std::string& bdf() const noexcept { return bdf_; }

    // --- configuration space --------------------------------------------------

    void config_read(std::uint16_t reg, std::span<std::uint8_t> data) override {
        std::fill(data.begin(), data.end(), 0);
        if (reg >= config_size) return;  // extended config: none offered
        if (!all_virtual(reg, data.size()) && !dev_.read(kvmxx::vfio::region::config, reg, data))
            std::fill(data.begin(), data.end(), 0xff);
        for (std::size_t i = 0; i < data.size(); ++i)
            if (virt_[reg + i]) data[i] = vcfg_[reg + i];
    }

    void config_write(std::uint16_t reg, std::span<const std::uint8_t> data) override {
        if (reg >= config_size) return;
        // Live bytes go to the device in runs; virtual ones are stored, then acted on.
        for (std::size_t i = 0; i < data.size();) {
            std::size_t j = i;
            while (j < data.size() && virt_[reg + j] == virt_[reg + i]) ++j;
            if (virt_[reg + i]) std::memcpy(&vcfg_[reg + i], data.data() + i, j - i);
            else if (auto r = dev_.write(kvmxx::vfio::region::config, reg + i, data.subspan(i, j - i)); !r)
                warn("config write at " + kvmxx::trace::hex(reg + i) + ": " + r.error().message());
            i = j;
        }
        const Range written{reg, data.size()};
        if (written.overlaps({pci::bar0, 24})) bars_written();
        if (written.overlaps({pci::command, 2})) update_decoding();
        if (msi_ && written.overlaps({msi_->offset, msi_len_})) msi_written();
        if (msix_ && written.overlaps({msix_->offset + 2u, 2})) msix_control_written();
    }

    // --- BARs -----------------------------------------------------------------

    bool bar_access(std::uint64_t gpa, std::span<std::uint8_t> data, bool is_write) override {
        for (auto& b : bars_) {
            if (!b.decodes(gpa, data.size())) continue;
            const std::uint64_t off = gpa - b.decoded->base;
            if (msix_ && b.index == msix_->table_bar && Range{off, data.size()}.inside({msix_->table_offset, table_->bytes()})) {
                if (!is_write) table_->read(off - msix_->table_offset, data);
                else if (auto v = table_->write(off - msix_->table_offset, data)) msix_vector_changed(*v);
            } else if (msix_ && b.index == msix_->pba_bar && Range{off, data.size()}.inside({msix_->pba_offset, msix_->pba_bytes()})) {
                // Pending bits are not tracked: a masked vector's interrupt waits in
                // its eventfd instead. Reads say "none pending"; writes are ignored.
                if (!is_write) std::fill(data.begin(), data.end(), 0);
            } else if (is_write) {
                (void)dev_.write(kvmxx::vfio::region::bar(b.index), off, data);
            } else if (!dev_.read(kvmxx::vfio::region::bar(b.index), off, data)) {
                std::fill(data.begin(), data.end(), 0xff);
            }
            return true;
        }
        return false;
    }

    std::vector<Range> decoded_bars() const override {
        std::vector<Range> out;
        for (const auto& b : bars_)
            if (b.decoded) out.push_back(*b.decoded);
        return out;
    }

private:
    static constexpr std::uint16_t config_size = 256;
    enum class Mode { None, Intx, Msi, Msix };
    struct Vector {
        kvmxx::EventFd event;
        std::uint32_t gsi = 0;
        bool injecting = false;  ///< an irqfd is assigned
    };

    VfioPciDevice(kvmxx::VfioDevice dev, std::string bdf, PciWiring w)
        : dev_(std::move(dev)), bdf_(std::move(bdf)), w_(w) {}

    kvmxx::Result<> setup() {
        auto cfg = dev_.config(config_size);
        if (!cfg) return kvmxx::unexpected<kvmxx::Error>(std::move(cfg).error());
        std::memcpy(vcfg_.data(), cfg->data(), config_size);
        kvmxx::vfio::PciConfig pc(*cfg);
        if (pc.header_type() != 0)
            return kvmxx::fail_with_hint("--device", EINVAL, bdf_ + " is a PCI bridge (header type " +
                                         std::to_string(pc.header_type()) + ")", "pass through endpoints only");
        msi_ = pc.msi();
        msix_ = pc.msix();
        // Start as a device fresh from reset: not decoding, not mastering.
        const std::uint16_t quiet = pc.command() & ~(pci::command_io | pci::command_memory | pci::command_bus_master);
        if (auto r = dev_.config_write<std::uint16_t>(pci::command, static_cast<std::uint16_t>(quiet)); !r) return r;
        if (auto r = setup_bars(pc); !r) return r;
        virtualize(0x30, 4, 0);        // expansion ROM: not offered
        virtualize(pci::interrupt_line, 1, 0);
        if (msi_) setup_msi();
        if (msix_) {
            virtualize(msix_->offset + 2u, 2, 0);
            put16(msix_->offset + 2u, static_cast<std::uint16_t>(msix_->control & 0x7ff));  // off, unmasked
            table_.emplace(msix_->table_size);
        }
        if (auto r = setup_vectors(); !r) return r;
        if (pc.interrupt_pin() != 0) {
            auto info = dev_.irq_info(Irq::Intx);
            if (info && info->count > 0) return enter_mode(Mode::Intx);
        }
        return {};
    }

    kvmxx::Result<> setup_bars(const kvmxx::vfio::PciConfig& pc) {
        virtualize(pci::bar0, 24, 0);
        const auto page = host_page_size();
        for (const auto& raw : pc.bars()) {
            PassthroughBar b;
            b.index = raw.index;
            b.is_64bit = raw.is_64bit;
            b.flags = vcfg_[pci::bar0 + 4 * raw.index] & 0xfu;
            auto info = dev_.region_info(kvmxx::vfio::region::bar(raw.index));
            if (!info) return kvmxx::unexpected<kvmxx::Error>(std::move(info).error());
            if (raw.io || info->size == 0 || (info->size & (info->size - 1))) {
                bars_.push_back(std::move(b));  // I/O BARs are not offered (no I/O window): size 0
                continue;
            }
            b.size = info->size;
            if (msix_ && msix_->table_bar == raw.index) b.trapped.push_back(page_span(msix_->table_offset, msix_->table_bytes(), page));
            if (msix_ && msix_->pba_bar == raw.index) b.trapped.push_back(page_span(msix_->pba_offset, msix_->pba_bytes(), page));
            if (b.size >= page) {  // a smaller BAR cannot be a memory slot: every access exits
                auto maps = dev_.mmap_sparse(*info);
                if (!maps) return kvmxx::unexpected<kvmxx::Error>(std::move(maps).error());
                b.maps = std::move(*maps);
            }
            bars_.push_back(std::move(b));
        }
        bars_written();
        return {};
    }

    void setup_msi() {
        // Offer one vector (Multiple Message Capable = 0): the guest then writes one message.
        const bool is64 = msi_->is_64bit(), pvm = msi_->per_vector_masking();
        msi_len_ = static_cast<std::uint16_t>((is64 ? 14 : 10) + (pvm ? 10 : 0));
        virtualize(msi_->offset + 2u, msi_len_ - 2u, 0);
        put16(msi_->offset + 2u, static_cast<std::uint16_t>(msi_->control & 0x180));
    }

    kvmxx::Result<> setup_vectors() {
        unsigned n = msi_ ? 1 : 0;
        if (msix_) n = std::max(n, msix_->table_size);
        if (n == 0) return {};
        const auto first = w_.router.allocate(n);
        for (unsigned i = 0; i < n; ++i) {
            auto ev = kvmxx::EventFd::create();
            if (!ev) return kvmxx::unexpected<kvmxx::Error>(std::move(ev).error());
            vectors_.push_back({std::move(*ev), first + i, false});
        }
        return {};
    }

    // --- what the guest's config writes do ---------------------------------------

    void bars_written() {
        for (auto& b : bars_) {
            const std::uint16_t at = static_cast<std::uint16_t>(pci::bar0 + 4 * b.index);
            b.write_register(false, get32(at));
            if (b.is_64bit) b.write_register(true, get32(at + 4u));
            put32(at, b.read_register(false));
            if (b.is_64bit) put32(at + 4u, b.read_register(true));
        }
        update_decoding();
    }

    /// Memory slots follow the guest: mapped where the BARs are, while memory
    /// decoding is on; a placement on RAM, the GIC or another BAR is refused.
    void update_decoding() {
        std::uint16_t command = 0;
        (void)dev_.read(kvmxx::vfio::region::config, pci::command, {reinterpret_cast<std::uint8_t*>(&command), 2});
        const bool memory_on = command & pci::command_memory;
        for (auto& b : bars_) {
            if (b.size == 0) continue;
            const std::optional<Range> want = memory_on ? std::optional<Range>(Range{b.address, b.size}) : std::nullopt;
            if (want && b.decoded && want->base == b.decoded->base) continue;
            b.unmap(w_.vm);
            if (!want) continue;
            if (b.address == 0 || b.address == b.sizing_pattern()) continue;  // not placed yet, or being sized
            if (auto why = w_.host.check_bar(*want); !why.empty()) {
                warn("BAR" + std::to_string(b.index) + " at " + kvmxx::trace::hex(want->base) + " refused: " + why);
                continue;
            }
            if (auto r = b.map(w_.vm, *want); !r) {
                b.unmap(w_.vm);
                warn("BAR" + std::to_string(b.index) + ": " + r.error().message());
                continue;
            }
            note("BAR" + std::to_string(b.index) + " at " + kvmxx::trace::hex(want->base) + " (" +
                 std::to_string(b.size >> 10) + " KiB): " + std::to_string(b.slots.size()) + " memory slot(s), " +
                 std::to_string(b.trapped.size()) + " trapped range(s)");
        }
    }

    void msi_written() {
        const std::uint16_t ctl_at = msi_->offset + 2u;
        const std::uint16_t control = static_cast<std::uint16_t>((msi_->control & 0x180) | (get16(ctl_at) & 1));
        put16(ctl_at, control);  // only Enable is writable; one vector
        if (msi_->per_vector_masking()) {
            put32(msi_->mask_offset(), get32(msi_->mask_offset()) & 1);
            put32(msi_->mask_offset() + 4u, 0);  // pending: read-only, none
        }
        const bool enable = control & 1;
        if (enable != (mode_ == Mode::Msi)) switch_mode(enable ? Mode::Msi : Mode::Intx);
        if (mode_ == Mode::Msi) {
            std::uint64_t address = get32(msi_->offset + 4u);
            if (msi_->is_64bit()) address |= std::uint64_t{get32(msi_->offset + 8u)} << 32;
            const bool masked = msi_->per_vector_masking() && (get32(msi_->mask_offset()) & 1);
            update_vector(0, {.address = address, .data = get16(msi_->data_offset()), .devid = requester_id()}, masked);
        }
    }

    void msix_control_written() {
        const std::uint16_t at = msix_->offset + 2u;
        const std::uint16_t control = static_cast<std::uint16_t>((msix_->control & 0x7ff) | (get16(at) & 0xc000));
        put16(at, control);  // only Enable (15) and Function Mask (14) are writable
        const bool enable = control & 0x8000;
        if (enable != (mode_ == Mode::Msix)) switch_mode(enable ? Mode::Msix : Mode::Intx);
        if (mode_ == Mode::Msix)
            for (unsigned v = 0; v < table_->size(); ++v) msix_vector_changed(v);
    }

    void msix_vector_changed(unsigned v) {
        if (mode_ != Mode::Msix || v >= vectors_.size()) return;
        const auto& e = (*table_)[v];
        const bool function_masked = get16(msix_->offset + 2u) & 0x4000;
        update_vector(v, {.address = e.address, .data = e.data, .devid = requester_id()}, e.masked || function_masked);
    }

    // --- interrupts --------------------------------------------------------------

    /// Vector `v` delivers `msi` unless masked: route its GSI, (de)assign its irqfd.
    void update_vector(unsigned v, const kvmxx::Msi& msi, bool masked) {
        auto& vec = vectors_[v];
        if (masked) {
            if (vec.injecting) (void)w_.vm.remove_irqfd(vec.event, vec.gsi);
            vec.injecting = false;
            return;
        }
        if (auto r = w_.router.route_msi(vec.gsi, msi); !r) return warn(r.error().message());
        if (!vec.injecting) {
            if (auto r = w_.vm.irqfd(vec.event, vec.gsi); !r) return warn(r.error().message());
            vec.injecting = true;
            note(std::string(mode_ == Mode::Msi ? "MSI" : "MSI-X") + " vector " + std::to_string(v) + " → GSI " +
                 std::to_string(vec.gsi) + " (ITS device id " + kvmxx::trace::hex(requester_id()) + ", event " +
                 std::to_string(msi.data) + ")");
        }
    }

    void switch_mode(Mode to) {
        leave_mode();
        if (auto r = enter_mode(to); !r) warn(r.error().message());
    }

    kvmxx::Result<> enter_mode(Mode to) {
        if (to == Mode::Intx) {
            if (!intx_) {  // first time: the trigger and unmask eventfds
                auto trigger = kvmxx::EventFd::create();
                auto unmask = kvmxx::EventFd::create();
                if (!trigger) return kvmxx::unexpected<kvmxx::Error>(std::move(trigger).error());
                if (!unmask) return kvmxx::unexpected<kvmxx::Error>(std::move(unmask).error());
                intx_.emplace(Intx{std::move(*trigger), std::move(*unmask)});
            }
            if (auto r = dev_.set_irq(Irq::Intx, intx_->trigger); !r) return r;
            if (auto r = dev_.set_unmask_eventfd(Irq::Intx, intx_->unmask); !r) return r;
            if (auto r = w_.vm.irqfd(intx_->trigger, kvmxx::arm64::spi_gsi(w_.intx_spi), intx_->unmask); !r) return r;
            note("INTx → SPI " + std::to_string(w_.intx_spi) + " (irqfd with resample = vfio unmask)");
        } else if (to == Mode::Msi || to == Mode::Msix) {
            const unsigned n = to == Mode::Msi ? 1 : msix_->table_size;
            std::vector<int> fds;
            for (unsigned i = 0; i < n; ++i) fds.push_back(vectors_[i].event.event_fd());
            if (auto r = dev_.set_irq_eventfds(to == Mode::Msi ? Irq::Msi : Irq::Msix, 0, fds); !r) return r;
        }
        mode_ = to;
        return {};
    }

    void leave_mode() {
        if (mode_ == Mode::Intx) {
            (void)w_.vm.remove_irqfd(intx_->trigger, kvmxx::arm64::spi_gsi(w_.intx_spi));
            (void)dev_.disable_irqs(Irq::Intx);
        } else if (mode_ == Mode::Msi || mode_ == Mode::Msix) {
            (void)dev_.disable_irqs(mode_ == Mode::Msi ? Irq::Msi : Irq::Msix);
            for (auto& v : vectors_) {
                if (v.injecting) (void)w_.vm.remove_irqfd(v.event, v.gsi);
                v.injecting = false;
                (void)w_.router.remove(v.gsi);
            }
        }
        mode_ = Mode::None;
    }

    // --- helpers -----------------------------------------------------------------

    void virtualize(unsigned at, unsigned len, std::uint8_t value) {
        for (unsigned i = at; i < at + len && i < config_size; ++i) {
            virt_[i] = true;
            vcfg_[i] = value;
        }
    }
    bool all_virtual(std::uint16_t reg, std::size_t len) const {
        for (std::size_t i = 0; i < len; ++i)
            if (!virt_[reg + i]) return false;
        return true;
    }
    std::uint16_t get16(unsigned at) const { return static_cast<std::uint16_t>(vcfg_[at] | vcfg_[at + 1] << 8); }
    std::uint32_t get32(unsigned at) const { return get16(at) | std::uint32_t{get16(at + 2)} << 16; }
    void put16(unsigned at, std::uint16_t v) {
        vcfg_[at] = static_cast<std::uint8_t>(v);
        vcfg_[at + 1] = static_cast<std::uint8_t>(v >> 8);
    }
    void put32(unsigned at, std::uint32_t v) {
        put16(at, static_cast<std::uint16_t>(v));
        put16(at + 2, static_cast<std::uint16_t>(v >> 16));
    }
    void warn(const std::string& what) const { std::fprintf(stderr, "kvmxx-vmm: %s: %s\n", bdf_.c_str(), what.c_str()); }
    void note(const std::string& what) const {
        if (kvmxx::trace::enabled()) kvmxx::trace::emit("vmm: " + bdf_ + " (guest 00:" + two_digits(w_.slot) + ".0) " + what);
    }
    static std::string two_digits(unsigned n) { return {char('0' + n / 10 % 10), char('0' + n % 10)}; }

    struct Intx {
        kvmxx::EventFd trigger, unmask;
    };

    kvmxx::VfioDevice dev_;
    std::string bdf_;
    PciWiring w_;
    std::array<std::uint8_t, config_size> vcfg_{};
    std::bitset<config_size> virt_;
    std::vector<PassthroughBar> bars_;
    std::optional<kvmxx::vfio::MsiCapability> msi_;
    std::uint16_t msi_len_ = 0;
    std::optional<kvmxx::vfio::MsixCapability> msix_;
    std::optional<MsixTable> table_;
    std::vector<Vector> vectors_;
    std::optional<Intx> intx_;
    Mode mode_ = Mode::None;
};

}  // namespace vmm
