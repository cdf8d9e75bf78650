// A passed-through function's configuration space as the guest sees it:
// VirtualConfig, the virtualised BARs (passthrough_bar.hpp), the MSI and MSI-X
// capabilities (msi.hpp, msix.hpp), driven through the PCI host's ECAM window
// (pci_host.hpp) exactly as VfioPciDevice::config_write drives them. The
// device's VFIO config region is an array here (config_space.hpp's
// ConfigRegion seam); what would become memory slots and MSI routes in KVM is
// recorded instead. Two functions share the bus, so BARs can collide.
//
// Invariants after every access:
//   - no BAR decodes outside the PCI windows or over RAM, the GIC, the UART, the
//     boot timer, the ECAM window or another decoding BAR, and one decodes only
//     with memory decoding on;
//   - a BAR register reads back its address masked to the BAR's size plus its
//     read-only flags (0 for a BAR not offered); the ROM BAR reads 0; the
//     interrupt line what was written; extended config space reads 0;
//   - MSI Message Control reads its read-only bits and the Enable last written;
//     the message address is dword aligned; only vector 0's mask bit sticks;
//     pending bits read 0; MSI-X Message Control reads the table size and the
//     last Enable and Function Mask written;
//   - no guest write reaches the device's bytes that are virtual (the BARs, the
//     ROM, the interrupt line, the MSI capability, the MSI-X control word);
//   - the MSI-X table and PBA stay trapped: no memory-slot piece covers them.
#include "fuzz.hpp"

#include "../../examples/vmm/msi.hpp"
#include "../../examples/vmm/msix.hpp"
#include "../../examples/vmm/passthrough_bar.hpp"
#include "../../examples/vmm/pci_host.hpp"

#include <array>
#include <bitset>
#include <memory>
#include <optional>

namespace {

namespace pci = vmm::pci;
using kvmxx::vfio::PciConfig;

/// The device's VFIO config region, in memory. `guarded` bytes are the ones
/// the guest must never reach; `failing` makes every access fail, as a pread
/// on a device gone wrong would.
struct MemoryRegion {
    mutable std::array<std::uint8_t, pci::config_size> bytes{};
    std::bitset<pci::config_size> guarded;
    bool failing = false;

    kvmxx::Result<> read(std::uint32_t index, std::uint64_t at, std::span<std::uint8_t> out) const {
        FUZZ_CHECK(index == kvmxx::vfio::region::config && at <= bytes.size() && out.size() <= bytes.size() - at);
        if (failing) return kvmxx::fail("pread", EIO, "config");
        std::memcpy(out.data(), bytes.data() + at, out.size());
        return {};
    }
    kvmxx::Result<> write(std::uint32_t index, std::uint64_t at, std::span<const std::uint8_t> in) const {
        FUZZ_CHECK(index == kvmxx::vfio::region::config && at <= bytes.size() && in.size() <= bytes.size() - at);
        for (std::size_t i = 0; i < in.size(); ++i) FUZZ_CHECK(!guarded[at + i]);
        if (failing) return kvmxx::fail("pwrite", EIO, "config");
        std::memcpy(bytes.data() + at, in.data(), in.size());
        return {};
    }
    std::uint16_t command() const { return static_cast<std::uint16_t>(bytes[pci::command] | bytes[pci::command + 1] << 8); }
};
static_assert(vmm::ConfigRegion<MemoryRegion>);

std::uint32_t get(std::span<const std::uint8_t> b, unsigned at, unsigned len) {
    std::uint32_t v = 0;
    for (unsigned i = len; i-- > 0;) v = v << 8 | b[at + i];
    return v;
}

class Function final : public vmm::PciFunction {
public:
    /// VfioPciDevice::create and setup, on `device` with BAR regions of `sizes`.
    static std::unique_ptr<Function> plug(std::span<const std::uint8_t> device, const std::array<std::uint64_t, 6>& sizes,
                                          vmm::PciHost& host) {
        std::array<std::uint8_t, pci::config_size> bytes{};
        std::copy_n(device.begin(), std::min(device.size(), bytes.size()), bytes.begin());
        const PciConfig pc(bytes);
        if (pc.header_type() != 0) return nullptr;  // refused: a bridge
        return std::unique_ptr<Function>(new Function(bytes, sizes, host));
    }

    void config_read(std::uint16_t reg, std::span<std::uint8_t> data) override { cfg_.read(dev_, reg, data); }

    void config_write(std::uint16_t reg, std::span<const std::uint8_t> data) override {
        (void)cfg_.write(dev_, reg, data);
        const vmm::Range written{reg, data.size()};
        if (written.overlaps({pci::bar0, pci::bars_bytes})) {
            vmm::bar_registers_written(bars_, cfg_);
            update_decoding();
        }
        if (written.overlaps({pci::command, 2})) update_decoding();
        if (msi_ && written.overlaps(msi_->bytes())) msi_state_ = msi_->written(cfg_);
        if (msix_ && written.overlaps(msix_->control_bytes())) msix_enabled_ = msix_->control_written(cfg_);
        if (written.overlaps({pci::interrupt_line, 1})) line_ = data[pci::interrupt_line - reg];
        for (unsigned i = 0; i < data.size(); ++i) {
            const unsigned at = reg + i;
            if (msi_ && at == msi_->bytes().base + pci::msi_control) msi_enable_ = data[i] & 1;
            if (msix_ && at == msix_cap_->offset + pci::msix_control + 1u) msix_bits_ = (data[i] << 8) & pci::msix_writable;
        }
    }

    bool bar_access(std::uint64_t gpa, std::span<std::uint8_t> data, bool is_write) override {
        for (auto& b : bars_) {
            if (!b.decodes(gpa, data.size())) continue;
            const std::uint64_t off = gpa - b.decoded->base;
            if (msix_) (void)msix_->bar_access(b.index, off, data, is_write);
            return true;
        }
        return false;
    }

    std::vector<vmm::Range> decoded_bars() const override {
        std::vector<vmm::Range> out;
        for (const auto& b : bars_)
            if (b.decoded) out.push_back(*b.decoded);
        return out;
    }

    MemoryRegion& region() { return dev_; }

    /// Every invariant of the guest's view (see the top of the file).
    void check(const std::vector<vmm::Range>& others) {
        const bool memory_on = dev_.command() & pci::command_memory;
        for (const auto& b : bars_) {
            std::uint8_t reg[8];
            cfg_.read(dev_, pci::bar_bytes(b.index), {reg, 4});
            const std::uint32_t lo = get(reg, 0, 4);
            if (b.size == 0) {
                FUZZ_CHECK(lo == 0);
            } else {
                FUZZ_CHECK((lo & pci::bar_flag_bits) == b.flags);
                FUZZ_CHECK(((lo & ~pci::bar_flag_bits) & (b.size - 1) & 0xffff'ffffull) == 0);
                if (b.is_64bit) {
                    cfg_.read(dev_, pci::bar_bytes(b.index) + 4u, {reg + 4, 4});
                    FUZZ_CHECK(((std::uint64_t{get(reg, 4, 4)} << 32 | (lo & ~pci::bar_flag_bits)) & (b.size - 1)) == 0);
                }
            }
            if (!b.decoded) continue;
            FUZZ_CHECK(memory_on && b.decoded->base == b.address && b.decoded->size == b.size);
            const vmm::Range& d = *b.decoded;
            FUZZ_CHECK(fuzz::within(d.base, d.size, vmm::board::pci_mmio32.base, vmm::board::pci_mmio32.size) ||
                       fuzz::within(d.base, d.size, vmm::board::pci_mmio64.base, vmm::board::pci_mmio64.size));
            const vmm::Range fixed[] = {vmm::board::gic_dist, vmm::board::gic_its, {vmm::board::gic_redist, 0x10'0000},
                                        vmm::board::uart, vmm::board::boot_timer, vmm::board::pci_ecam,
                                        {vmm::board::ram_base, 64ull << 30}};
            for (const auto& f : fixed) FUZZ_CHECK(!fuzz::overlap(d.base, d.size, f.base, f.size));
            for (const auto& o : bars_)
                if (&o != &b && o.decoded) FUZZ_CHECK(!fuzz::overlap(d.base, d.size, o.decoded->base, o.decoded->size));
            for (const auto& o : others) FUZZ_CHECK(!fuzz::overlap(d.base, d.size, o.base, o.size));
            // The trapped pages stay out of the memory slots the BAR would get.
            if (msix_)
                for (const auto& piece : vmm::subtract({0, b.size}, b.trapped))
                    for (const auto& t : msix_->trapped(b.index)) FUZZ_CHECK(!piece.overlaps(t));
        }
        std::uint8_t v[4];
        cfg_.read(dev_, pci::expansion_rom, {v, 4});
        FUZZ_CHECK(get(v, 0, 4) == 0);
        cfg_.read(dev_, pci::interrupt_line, {v, 1});
        FUZZ_CHECK(v[0] == line_);
        if (msi_) {
            const auto& c = *msi_cap_;
            cfg_.read(dev_, c.offset + pci::msi_control, {v, 2});
            FUZZ_CHECK(get(v, 0, 2) == ((c.control & pci::msi_offered) | (msi_enable_ ? pci::msi_enable : 0)));
            if (msi_state_) {
                FUZZ_CHECK(msi_state_->enabled == msi_enable_);
                FUZZ_CHECK((msi_state_->message.address & 3) == 0);
                FUZZ_CHECK(c.per_vector_masking() || !msi_state_->masked);
            }
            cfg_.read(dev_, c.offset + pci::msi_address, {v, 4});
            FUZZ_CHECK((get(v, 0, 4) & 3) == 0 || !msi_state_);
            if (c.per_vector_masking()) {
                cfg_.read(dev_, c.mask_offset(), {v, 4});
                FUZZ_CHECK((get(v, 0, 4) & ~pci::msi_vector0) == 0);
                cfg_.read(dev_, c.mask_offset() + 4u, {v, 4});
                FUZZ_CHECK(get(v, 0, 4) == 0);
            }
        }
        if (msix_) {
            cfg_.read(dev_, msix_cap_->offset + pci::msix_control, {v, 2});
            FUZZ_CHECK(get(v, 0, 2) == ((msix_cap_->control & pci::msix_table_size_mask) | msix_bits_));
            FUZZ_CHECK(msix_enabled_ == bool(msix_bits_ & pci::msix_enable));
        }
        for (std::uint16_t at : {std::uint16_t{0x100}, std::uint16_t{0xffc}}) {
            cfg_.read(dev_, at, {v, 4});
            FUZZ_CHECK(get(v, 0, 4) == 0);
        }
    }

private:
    Function(const std::array<std::uint8_t, pci::config_size>& bytes, const std::array<std::uint64_t, 6>& sizes,
             vmm::PciHost& host)
        : cfg_(bytes), host_(host) {
        dev_.bytes = bytes;
        const PciConfig pc(bytes);
        // VfioPciDevice::setup: quiet, then the capabilities and BARs taken over.
        const auto quiet = static_cast<std::uint16_t>(pc.command() & ~(pci::command_io | pci::command_memory |
                                                                      pci::command_bus_master));
        dev_.bytes[pci::command] = static_cast<std::uint8_t>(quiet);
        dev_.bytes[pci::command + 1] = static_cast<std::uint8_t>(quiet >> 8);
        if (auto m = pc.msi()) msi_.emplace(*m, cfg_), msi_cap_ = *m;
        if (auto m = pc.msix()) msix_.emplace(*m, cfg_), msix_cap_ = *m;
        cfg_.virtualize(pci::bar0, pci::bars_bytes, 0);
        for (const auto& raw : pc.bars())
            bars_.push_back(vmm::PassthroughBar::describe(pc, raw, sizes[raw.index], msix_ ? &*msix_ : nullptr, 4096));
        vmm::bar_registers_written(bars_, cfg_);
        update_decoding();
        cfg_.hardwire(pci::expansion_rom, pci::expansion_rom_bytes, 0);
        cfg_.virtualize(pci::interrupt_line, 1, 0);
        // What the guest must never write to the device: every virtual byte.
        for (unsigned i = pci::bar0; i < pci::bar0 + pci::bars_bytes; ++i) dev_.guarded[i] = true;
        for (unsigned i = 0; i < 4; ++i) dev_.guarded[pci::expansion_rom + i] = true;
        dev_.guarded[pci::interrupt_line] = true;
        if (msi_cap_) {
            const unsigned len = pci::msi_bytes(msi_cap_->is_64bit(), msi_cap_->per_vector_masking());
            for (unsigned i = msi_cap_->offset + pci::msi_control; i < msi_cap_->offset + len && i < pci::config_size; ++i)
                dev_.guarded[i] = true;
        }
        if (msix_cap_)
            for (unsigned i = 0; i < 2 && msix_cap_->offset + pci::msix_control + i < pci::config_size; ++i)
                dev_.guarded[msix_cap_->offset + pci::msix_control + i] = true;
    }

    /// VfioPciDevice::update_decoding, with the memory slots recorded, not made.
    void update_decoding() {
        std::uint16_t command = 0;
        const bool read = bool(dev_.read(kvmxx::vfio::region::config, pci::command,
                                         {reinterpret_cast<std::uint8_t*>(&command), 2}));
        const bool memory_on = read && (command & pci::command_memory);
        for (auto& b : bars_) {
            if (b.size == 0) continue;
            const std::optional<vmm::Range> want = b.placement(memory_on);
            if (want && b.decoded && want->base == b.decoded->base) continue;
            b.decoded.reset();
            if (!want || !host_.check_bar(*want).empty()) continue;
            b.decoded = want;
        }
    }

    MemoryRegion dev_;
    vmm::VirtualConfig cfg_;
    vmm::PciHost& host_;
    std::vector<vmm::PassthroughBar> bars_;
    std::optional<vmm::VirtualMsi> msi_;
    std::optional<vmm::VirtualMsix> msix_;
    std::optional<kvmxx::vfio::MsiCapability> msi_cap_;
    std::optional<kvmxx::vfio::MsixCapability> msix_cap_;
    std::optional<vmm::VirtualMsi::State> msi_state_;
    bool msi_enable_ = false, msix_enabled_ = false;
    std::uint16_t msix_bits_ = 0;
    std::uint8_t line_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    vmm::PciHost host({vmm::board::pci_ecam, vmm::board::pci_mmio32, vmm::board::pci_mmio64,
                       vmm::board::pci_intx_spi_base});
    std::vector<std::unique_ptr<Function>> fns;
    const unsigned count = 1 + in.u8() % 2;
    for (unsigned f = 0; f < count; ++f) {
        std::array<std::uint64_t, 6> sizes{};
        for (auto& s : sizes) {
            const unsigned log2 = in.u8() % 41;  // 0: the region is empty
            s = log2 == 0 ? 0 : (in.u8() == 0xff ? in.u64() : std::uint64_t{1} << (log2 + 3));
        }
        const std::uint8_t length = in.u8();
        auto fn = Function::plug(in.bytes(length), sizes, host);
        if (!fn) continue;
        host.attach(1 + f, *fn);
        fns.push_back(std::move(fn));
    }
    if (fns.empty()) return 0;
    auto others = [&](const Function* self) {
        std::vector<vmm::Range> out;
        for (const auto& f : fns)
            if (f.get() != self)
                for (const auto& r : f->decoded_bars()) out.push_back(r);
        return out;
    };
    auto ecam = host.ecam();
    while (!in.empty()) {
        const std::uint8_t op = in.u8();
        const unsigned slot = 1 + (op >> 7) % fns.size();
        if ((op & 0x70) == 0x70) {  // the device's region fails from now on, or works again
            fns[slot - 1]->region().failing = op & 1;
            continue;
        }
        const std::size_t len = std::size_t{1} << (op & 3) % 3;
        std::uint16_t reg = in.u8();
        if (op & 0x40) reg = static_cast<std::uint16_t>(reg << 4 | (in.u8() & 0xf));  // all 4 KiB, extended too
        reg = static_cast<std::uint16_t>(reg & ~(len - 1));
        std::uint8_t buf[4] = {in.u8(), in.u8(), in.u8(), in.u8()};
        if (op & 0x08) {  // the sizing pattern, and other whole values, turn up often
            buf[0] = buf[1] = buf[2] = buf[3] = op & 0x20 ? 0xff : 0x00;
        }
        const std::uint64_t offset = std::uint64_t{slot} << 15 | reg;
        if (op & 4) ecam.write(offset, {buf, len});
        else ecam.read(offset, {buf, len});
        for (const auto& f : fns) f->check(others(f.get()));
    }
    return 0;
}
