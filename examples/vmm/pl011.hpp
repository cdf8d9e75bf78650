// pl011.hpp — the console: an Arm PL011 UART, as much of it as Linux's
// amba-pl011 driver and earlycon need to print (kvmtool's habit: one small file
// per emulated device).
//
// Transmit: a byte written to DR goes to the output at once, so the flag
// register always says "transmit FIFO empty" and the driver never waits for a
// TX interrupt. Receive: the console's input thread pushes bytes into a 32-entry
// RX FIFO (it waits while the FIFO is full: nothing typed is lost); DR pops
// them. Two interrupts say there is input, on the level-high SPI:
//   RX  the FIFO holds at least the trigger level IFLS asks for;
//   RT  "receive timeout": bytes are waiting below the trigger level. Real
//       hardware waits 32 bit periods of silence; here it is at once, as no
//       more bytes are on the wire. It clears when the FIFO empties or on ICR.
// The line is raised while (RIS & IMSC) != 0, through `irq` (KVM_IRQ_LINE).
// The AMBA bus matches the driver by the PrimeCell ID registers at 0xfe0..0xffc.
// Every register the guest writes is stored masked to its width; offsets that
// are not registers read as 0 and ignore writes (a guest is untrusted input).
//
// Its device-tree node (devicetree bindings: serial/pl011.yaml) names its range,
// its level-high SPI and the APB clock; /chosen/stdout-path points at it.
#pragma once

#include "device.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <span>
#include <string>

namespace vmm {

class Pl011 final : public Device {
public:
    static constexpr std::uint64_t size = 0x1000;

    static constexpr std::size_t fifo_depth = 32;  ///< PL011 r1p5
    /// Drives the UART's interrupt line: true = raised.
    using IrqLine = std::function<void(bool)>;

    /// A UART at `base` raising `spi`, printing to `out` (null: nowhere).
    Pl011(std::uint64_t base, std::uint32_t spi, std::FILE* out) : base_(base), spi_(spi), out_(out) {}

    /// Where the interrupt goes (e.g. KVM_IRQ_LINE on the VM); none: not wired.
    void connect_irq(IrqLine irq) { irq_ = std::move(irq); }
    std::uint32_t spi() const noexcept { return spi_; }

    /// One byte of input into the RX FIFO, waiting up to `wait` while it is full;
    /// false if it stayed full (the caller tries again, or gives up when stopping).
    bool receive(std::uint8_t byte, std::chrono::milliseconds wait) {
        std::unique_lock lock(rx_lock_);
        if (!room_.wait_for(lock, wait, [&] { return rx_count_ < fifo_depth; })) return false;
        rx_[(rx_head_ + rx_count_++) % fifo_depth] = byte;
        rt_pending_ = true;
        update_irq();
        return true;
    }

    /// The node's path, for /chosen/stdout-path.
    std::string fdt_path() const {
        // Appended, not "/" + node_name(...): GCC 12 at -O3 warns (-Wrestrict, a false
        // positive, GCC bug 105329) on const char* + std::string&& once this is inlined.
        std::string path = "/";
        path += node_name("pl011", base_);
        return path;
    }

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
        std::lock_guard lock(rx_lock_);
        switch (offset) {
            case dr: v = pop(); break;
            case fr: v = fr_txfe | (rx_count_ == 0 ? fr_rxfe : 0) | (rx_count_ == fifo_depth ? fr_rxff : 0); break;
            case ibrd: v = ibrd_; break;
            case fbrd: v = fbrd_; break;
            case lcr_h: v = lcr_h_; break;
            case cr: v = cr_; break;
            case ifls: v = ifls_; break;
            case imsc: v = imsc_; break;
            case ris: v = raw_interrupts(); break;  // TX never waits: only RX and RT
            case mis: v = raw_interrupts() & imsc_; break;
            default:
                if (offset >= 0xfe0 && offset < 0x1000 && offset % 4 == 0) v = id[(offset - 0xfe0) / 4];
        }
        update_irq();  // a DR read may have drained the FIFO below the trigger, or emptied it
        // Registers are 32 bits: the upper half of an 8-byte load reads 0.
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = i < 4 ? static_cast<std::uint8_t>(v >> (8 * i)) : 0;
    }

    void write(std::uint64_t offset, std::span<const std::uint8_t> data) {
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < data.size() && i < 4; ++i) v |= std::uint32_t{data[i]} << (8 * i);
        std::lock_guard lock(rx_lock_);
        switch (offset) {
            case dr:
                printed_.store(true, std::memory_order_relaxed);
                if (!out_) break;
                std::fputc(static_cast<int>(v & 0xff), out_);
                if ((v & 0xff) == '\n') std::fflush(out_);
                break;
            case ibrd: ibrd_ = v & 0xffff; break;
            case fbrd: fbrd_ = v & 0x3f; break;
            case lcr_h: lcr_h_ = v & 0xff; break;
            case cr: cr_ = v & 0xffff; break;
            case ifls: ifls_ = v & 0x3f; break;
            case imsc: imsc_ = v & 0x7ff; break;
            case icr: if (v & int_rt) rt_pending_ = false; break;  // RX clears as the FIFO drains
            default: break;  // DMACR, IDs, holes: nothing to change
        }
        update_irq();
    }

private:
    static constexpr std::uint64_t dr = 0x00, fr = 0x18, ibrd = 0x24, fbrd = 0x28, lcr_h = 0x2c, cr = 0x30,
                                   ifls = 0x34, imsc = 0x38, ris = 0x3c, mis = 0x40, icr = 0x44;
    static constexpr std::uint32_t fr_rxfe = 1 << 4, fr_rxff = 1 << 6, fr_txfe = 1 << 7;
    static constexpr std::uint32_t int_rx = 1 << 4, int_rt = 1 << 6;  // RIS/MIS/IMSC/ICR bits

    /// RX FIFO level that raises RX: IFLS.RXIFLSEL (bits 5:3) = 1/8, 1/4, 1/2, 3/4, 7/8 full.
    std::size_t rx_trigger() const noexcept {
        static constexpr std::size_t eighths[8] = {1, 2, 4, 6, 7, 7, 7, 7};
        return fifo_depth * eighths[(ifls_ >> 3) & 7] / 8;
    }
    std::uint32_t raw_interrupts() const noexcept {
        return (rx_count_ >= rx_trigger() ? int_rx : 0) | (rt_pending_ && rx_count_ > 0 ? int_rt : 0);
    }
    std::uint32_t pop() {
        if (rx_count_ == 0) return 0;
        const std::uint8_t b = rx_[rx_head_];
        rx_head_ = (rx_head_ + 1) % fifo_depth;
        --rx_count_;
        room_.notify_one();
        return b;
    }
    /// Called with rx_lock_ held after anything that may change RIS or IMSC.
    void update_irq() {
        const bool level = (raw_interrupts() & imsc_) != 0;
        if (level != line_ && irq_) irq_(level);
        line_ = level;
    }
    /// PeriphID0..3 (PL011 r1p5) then CellID0..3 (PrimeCell).
    static constexpr std::uint32_t id[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

    std::uint64_t base_;
    std::uint32_t spi_;
    std::FILE* out_;
    std::atomic<bool> printed_{false};
    IrqLine irq_;
    bool line_ = false;
    std::mutex rx_lock_;  ///< the RX FIFO is filled by the input thread, drained by vCPUs
    std::condition_variable room_;
    std::array<std::uint8_t, fifo_depth> rx_{};
    std::size_t rx_head_ = 0, rx_count_ = 0;
    bool rt_pending_ = false;
    std::uint32_t ibrd_ = 0, fbrd_ = 0, lcr_h_ = 0, cr_ = 0x300, ifls_ = 0x12, imsc_ = 0;
};

}  // namespace vmm
