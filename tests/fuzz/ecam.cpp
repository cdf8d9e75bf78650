// ECAM decoding and the BAR windows of the PCI host (examples/vmm/pci_host.hpp):
// functions at fuzzed slots, config and BAR-window accesses at any offset.
// Invariants: a config access reaches a function only for bus 0, function 0 of
// its own slot, naturally aligned, 1, 2 or 4 bytes, with the register offset
// inside its 4 KiB; anything else reads all ones and reaches nobody; a BAR
// window access goes to the function decoding the address; check_bar() lets a
// BAR decode only inside a window, never over RAM, the GIC, the UART, the boot
// timer, the ECAM or another decoding BAR.
#include "fuzz.hpp"

#include "../../examples/vmm/pci_host.hpp"

#include <array>

namespace {

struct Recorder final : vmm::PciFunction {
    unsigned slot = 0;
    std::vector<vmm::Range> bars;
    int hits = 0;
    std::uint16_t reg = 0;
    std::size_t width = 0;
    void config_read(std::uint16_t r, std::span<std::uint8_t> data) override {
        record(r, data.size());
        for (auto& b : data) b = static_cast<std::uint8_t>(slot);
    }
    void config_write(std::uint16_t r, std::span<const std::uint8_t> data) override { record(r, data.size()); }
    bool bar_access(std::uint64_t gpa, std::span<std::uint8_t> data, bool) override {
        for (const auto& b : bars)
            if (fuzz::within(gpa, data.size(), b.base, b.size)) {
                ++hits;
                for (auto& x : data) x = static_cast<std::uint8_t>(slot);
                return true;
            }
        return false;
    }
    std::vector<vmm::Range> decoded_bars() const override { return bars; }
    void record(std::uint16_t r, std::size_t w) {
        FUZZ_CHECK(r < 0x1000 && (w == 1 || w == 2 || w == 4) && r % w == 0);
        ++hits, reg = r, width = w;
    }
};

const vmm::PciLayout layout{vmm::board::pci_ecam, vmm::board::pci_mmio32, vmm::board::pci_mmio64,
                            vmm::board::pci_intx_spi_base};

bool clear_of_the_board(const vmm::Range& r) {
    const vmm::Range fixed[] = {vmm::board::gic_dist, vmm::board::gic_its,
                                {vmm::board::gic_redist, 8 * vmm::board::gic_redist_per_cpu},
                                vmm::board::uart, vmm::board::boot_timer, vmm::board::pci_ecam,
                                {vmm::board::ram_base, 64ull << 30}};
    for (const auto& f : fixed)
        if (fuzz::overlap(r.base, r.size, f.base, f.size)) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    vmm::PciHost host(layout);
    std::array<Recorder, vmm::PciHost::slots> fns;
    std::array<bool, vmm::PciHost::slots> plugged{};
    for (unsigned s = 0; s < fns.size(); ++s) fns[s].slot = s;
    const unsigned n = in.u8() % 6;
    for (unsigned i = 0; i < n; ++i) {
        const unsigned slot = in.u8() % vmm::PciHost::slots;
        if (!plugged[slot]) host.attach(slot, fns[slot]);
        plugged[slot] = true;
        // BARs the function decodes: placed through check_bar, as the VMM does.
        for (unsigned b = in.u8() % 4; b > 0; --b) {
            const vmm::Range& window = in.flag() ? layout.mmio64 : layout.mmio32;
            const vmm::Range want{window.base + (std::uint64_t{in.u32()} << (in.u8() % 12)), std::uint64_t{1} << (in.u8() % 40)};
            const std::string why = host.check_bar(want);
            bool ok = fuzz::within(want.base, want.size, layout.mmio32.base, layout.mmio32.size) ||
                      fuzz::within(want.base, want.size, layout.mmio64.base, layout.mmio64.size);
            for (const auto& f : fns)
                for (const auto& o : f.bars) ok = ok && !fuzz::overlap(want.base, want.size, o.base, o.size);
            FUZZ_CHECK(why.empty() == ok);
            if (why.empty()) {
                FUZZ_CHECK(clear_of_the_board(want));
                fns[slot].bars.push_back(want);
            }
        }
    }
    // Any range at all: check_bar never lets one over the board's fixed parts.
    for (unsigned i = in.u8() % 4; i > 0; --i) {
        const vmm::Range r{in.u64(), in.u64()};
        if (host.check_bar(r).empty()) FUZZ_CHECK(clear_of_the_board(r));
    }
    FUZZ_CHECK(host.empty() == (n == 0));

    auto ecam = host.ecam();
    auto m32 = host.bar_window(layout.mmio32.base), m64 = host.bar_window(layout.mmio64.base);
    while (!in.empty()) {
        const std::uint8_t op = in.u8();
        const std::size_t len = std::size_t{1} << (op & 3);
        for (auto& f : fns) f.hits = 0;
        std::uint8_t buf[8];
        std::memset(buf, 0x5a, sizeof buf);
        if (op & 0x80) {  // a BAR window
            const bool hi = op & 0x40;
            const std::uint64_t base = hi ? layout.mmio64.base : layout.mmio32.base;
            std::uint64_t offset = in.u64() % (hi ? layout.mmio64.size : layout.mmio32.size);
            Recorder* owner = nullptr;
            if (op & 0x20) {  // aim at a BAR
                auto& f = fns[in.u8() % fns.size()];
                if (!f.bars.empty()) offset = f.bars[in.u8() % f.bars.size()].base - base + (in.u16() % 0x2000);
            }
            for (auto& f : fns)
                for (const auto& b : f.bars)
                    if (!owner && plugged[f.slot] && fuzz::within(base + offset, len, b.base, b.size)) owner = &f;
            if (op & 4) (hi ? m64 : m32).write(offset, {buf, len});
            else (hi ? m64 : m32).read(offset, {buf, len});
            for (const auto& f : fns) FUZZ_CHECK(f.hits == (&f == owner ? 1 : 0));
            if (!(op & 4))
                for (std::size_t i = 0; i < len; ++i) FUZZ_CHECK(buf[i] == (owner ? owner->slot : 0xff));
            continue;
        }
        const std::uint64_t offset = op & 0x40 ? in.u64() % layout.ecam.size
                                               : (std::uint64_t{in.u8()} % 32) << 15 | (in.u16() & 0xfff);
        const unsigned bus = offset >> 20, dev = (offset >> 15) & 31, fn = (offset >> 12) & 7;
        const bool reaches = bus == 0 && fn == 0 && plugged[dev] && len <= 4 && offset % len == 0;
        if (op & 4) ecam.write(offset, {buf, len});
        else ecam.read(offset, {buf, len});
        for (const auto& f : fns) FUZZ_CHECK(f.hits == (reaches && f.slot == dev && plugged[f.slot] ? 1 : 0));
        if (reaches) FUZZ_CHECK(fns[dev].reg == (offset & 0xfff) && fns[dev].width == len);
        if (!(op & 4))
            for (std::size_t i = 0; i < len; ++i) FUZZ_CHECK(buf[i] == (reaches ? dev : 0xff));
    }
    return 0;
}
