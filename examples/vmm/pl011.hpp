// pl011.hpp — the console: an Arm PL011 UART, as much of it as Linux's
// amba-pl011 driver and earlycon need to print (kvmtool's habit: one small file
// per emulated device).
//
// Transmit only: a byte written to DR goes to the output at once, so the flag
// register always says "transmit FIFO empty" and the driver never waits for a
// TX interrupt. Receive is not emulated (FR says "receive FIFO empty"). The
// AMBA bus matches the driver by the PrimeCell ID registers at 0xfe0..0xffc.
// Every register the guest writes is stored masked to its width; offsets that
// are not registers read as 0 and ignore writes (a guest is untrusted input).
//
// Its device-tree node (devicetree bindings: serial/pl011.yaml) names its range,
// its level-high SPI and the APB clock; /chosen/stdout-path points at it.
#pragma once

#include "device.hpp"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

namespace vmm {

class Pl011 final : public Device {
public:
    static constexpr std::uint64_t size = 0x1000;

    /// A UART at `base` raising `spi`, printing to `out`.
    Pl011(std::uint64_t base, std::uint32_t spi, std::FILE* out) : base_(base), spi_(spi), out_(out) {}

    /// The node's path, for /chosen/stdout-path.
    std::string fdt_path() const { return "/" + node_name("pl011", base_); }

    kvmxx::Result<> attach(kvmxx::MmioBus& bus) override { return bus.add("pl011", base_, size, *this); }

    void write_fdt(FdtWriter& f, const FdtRefs& refs) const override {
        f.begin_node(node_name("pl011", base_));
        f.prop_strings("compatible", {"arm,pl011", "arm,primecell"});
        f.prop_reg(base_, size);
        f.prop_cells("interrupts", {gic_cells::spi, spi_, gic_cells::level_high});
        f.prop_cells("clocks", {refs.clock, refs.clock});
        f.prop_strings("clock-names", {"uartclk", "apb_pclk"});
        f.end_node();
    }

    /// Whether the guest has written a byte yet (the VMM's quiet-guest hint asks).
    bool printed() const noexcept { return printed_.load(std::memory_order_relaxed); }

    void read(std::uint64_t offset, std::span<std::uint8_t> data) {
        std::uint32_t v = 0;
        switch (offset) {
            case dr: v = 0; break;
            case fr: v = fr_txfe | fr_rxfe; break;
            case ibrd: v = ibrd_; break;
            case fbrd: v = fbrd_; break;
            case lcr_h: v = lcr_h_; break;
            case cr: v = cr_; break;
            case ifls: v = ifls_; break;
            case imsc: v = imsc_; break;
            case ris: case mis: v = 0; break;  // nothing pending: no RX, TX never waits
            default:
                if (offset >= 0xfe0 && offset < 0x1000 && offset % 4 == 0) v = id[(offset - 0xfe0) / 4];
        }
        // Registers are 32 bits: the upper half of an 8-byte load reads 0.
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = i < 4 ? static_cast<std::uint8_t>(v >> (8 * i)) : 0;
    }

    void write(std::uint64_t offset, std::span<const std::uint8_t> data) {
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < data.size() && i < 4; ++i) v |= std::uint32_t{data[i]} << (8 * i);
        switch (offset) {
            case dr:
                printed_.store(true, std::memory_order_relaxed);
                std::fputc(static_cast<int>(v & 0xff), out_);
                if ((v & 0xff) == '\n') std::fflush(out_);
                break;
            case ibrd: ibrd_ = v & 0xffff; break;
            case fbrd: fbrd_ = v & 0x3f; break;
            case lcr_h: lcr_h_ = v & 0xff; break;
            case cr: cr_ = v & 0xffff; break;
            case ifls: ifls_ = v & 0x3f; break;
            case imsc: imsc_ = v & 0x7ff; break;
            default: break;  // ICR, DMACR, IDs, holes: nothing to change
        }
    }

private:
    static constexpr std::uint64_t dr = 0x00, fr = 0x18, ibrd = 0x24, fbrd = 0x28, lcr_h = 0x2c, cr = 0x30,
                                   ifls = 0x34, imsc = 0x38, ris = 0x3c, mis = 0x40;
    static constexpr std::uint32_t fr_rxfe = 1 << 4, fr_txfe = 1 << 7;
    /// PeriphID0..3 (PL011 r1p5) then CellID0..3 (PrimeCell).
    static constexpr std::uint32_t id[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

    std::uint64_t base_;
    std::uint32_t spi_;
    std::FILE* out_;
    std::atomic<bool> printed_{false};
    std::uint32_t ibrd_ = 0, fbrd_ = 0, lcr_h_ = 0, cr_ = 0x300, ifls_ = 0x12, imsc_ = 0;
};

}  // namespace vmm
