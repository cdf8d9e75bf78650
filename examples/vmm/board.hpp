// board.hpp — the guest's machine: where everything sits in guest-physical
// memory, and the device tree that tells the kernel so.
//
//   0x0800'0000  GICv3 distributor (64 KiB)      0x0808'0000  ITS (128 KiB)
//   0x080a'0000  GICv3 redistributors (128 KiB per vCPU, up to 8)
//   0x0900'0000  PL011 UART (4 KiB), SPI 1
//   0x0901'0000  boot timer (4 KiB): a guest write is timestamped (benchmarks only, not in the DT)
//   0x1000'0000  PCI 32-bit memory window (512 MiB), BARs go here
//   0x3000'0000  PCI ECAM: configuration space of bus 0 (1 MiB)
//   0x80'0000'0000 PCI 64-bit prefetchable memory window (256 GiB)
//   PCI slot n's INTx: SPI 16 + n, level; its MSIs go to the ITS with device id = n << 3
//   0x4000'0000  RAM (--memory), above the SMMU's MSI window 0x0800'0000-0x080f'ffff
//                of the host: IOVA = GPA for passthrough never lands in it
#pragma once

#include "fdt.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace vmm {

struct Board {
    static constexpr std::uint64_t gic_dist = 0x0800'0000, gic_dist_size = 0x1'0000;
    static constexpr std::uint64_t gic_its = 0x0808'0000, gic_its_size = 0x2'0000;
    static constexpr std::uint64_t gic_redist = 0x080a'0000, gic_redist_per_cpu = 0x2'0000;
    static constexpr std::uint64_t uart = 0x0900'0000, uart_size = 0x1000;
    static constexpr std::uint32_t uart_spi = 1;
    static constexpr std::uint64_t boot_timer = 0x0901'0000;
    static constexpr std::uint64_t ram_base = 0x4000'0000;
    static constexpr std::uint32_t gic_nr_irqs = 256;
    static constexpr std::uint64_t pci_mmio32 = 0x1000'0000, pci_mmio32_size = 0x2000'0000;
    static constexpr std::uint64_t pci_ecam = 0x3000'0000, pci_ecam_size = 0x10'0000;
    static constexpr std::uint64_t pci_mmio64 = 0x80'0000'0000, pci_mmio64_size = 0x40'0000'0000;
    static constexpr std::uint32_t pci_intx_spi_base = 16;
    static constexpr std::uint32_t pci_intx_spi(unsigned slot) noexcept { return pci_intx_spi_base + slot; }
    static constexpr std::uint32_t spis = gic_nr_irqs - 32;

    unsigned cpus = 1;
    std::uint64_t ram_size = 256ull << 20;
    std::string cmdline;
    std::uint64_t initrd_start = 0, initrd_end = 0;  ///< 0: no initrd
    std::vector<unsigned> pci_slots;  ///< occupied device numbers on bus 0
};

/// The PCI host bridge node (devicetree bindings: pci/host-generic-pci.yaml,
/// pci/pci-msi.txt for msi-map, pci/pci.txt for interrupt-map).
inline void add_pci_host(FdtWriter& f, const Board& b, std::uint32_t gic, std::uint32_t its) {
    constexpr std::uint32_t gic_spi = 0, level_high = 4;
    constexpr std::uint32_t mem32 = 0x0200'0000, mem64_prefetch = 0x4300'0000;  // phys.hi space codes
    auto hi = [](std::uint64_t v) { return static_cast<std::uint32_t>(v >> 32); };
    auto lo = [](std::uint64_t v) { return static_cast<std::uint32_t>(v); };
    f.begin_node("pcie@30000000");
    f.prop_string("compatible", "pci-host-ecam-generic");
    f.prop_string("device_type", "pci");
    f.prop_cells("reg", {0, lo(Board::pci_ecam), 0, lo(Board::pci_ecam_size)});
    f.prop_cells("bus-range", {0, 0});
    f.prop_u32("#address-cells", 3);
    f.prop_u32("#size-cells", 2);
    f.prop_u32("#interrupt-cells", 1);
    // PCI address (3 cells) → CPU address (2 cells), size (2 cells): identity maps.
    f.prop_cells("ranges", {mem32, hi(Board::pci_mmio32), lo(Board::pci_mmio32), hi(Board::pci_mmio32), lo(Board::pci_mmio32),
                            hi(Board::pci_mmio32_size), lo(Board::pci_mmio32_size),
                            mem64_prefetch, hi(Board::pci_mmio64), lo(Board::pci_mmio64), hi(Board::pci_mmio64),
                            lo(Board::pci_mmio64), hi(Board::pci_mmio64_size), lo(Board::pci_mmio64_size)});
    f.prop_cells("msi-map", {0, its, 0, 0x1'0000});  // requester id n → ITS device id n
    f.prop_empty("dma-coherent");
    // INTx: slot n, any pin → SPI 16 + n (one line per slot, none shared).
    f.prop_cells("interrupt-map-mask", {0xf800, 0, 0, 7});
    std::vector<std::uint32_t> map;
    for (unsigned slot : b.pci_slots)
        for (std::uint32_t pin = 1; pin <= 4; ++pin)
            map.insert(map.end(), {slot << 11, 0, 0, pin, gic, 0, 0, gic_spi, Board::pci_intx_spi(slot), level_high});
    f.prop_cells("interrupt-map", std::span<const std::uint32_t>(map));
    f.end_node();
}

/// The DTB for `b` (devicetree bindings: arm/cpus, arm/psci, interrupt-controller/
/// arm,gic-v3, timer/arm,arch_timer, serial/pl011).
inline std::vector<std::uint8_t> make_fdt(const Board& b) {
    constexpr std::uint32_t gic_spi = 0, gic_ppi = 1, level_high = 4;
    FdtWriter f;
    const std::uint32_t gic = f.new_phandle(), its = f.new_phandle(), clock = f.new_phandle();
    auto reg = [&](std::uint64_t base, std::uint64_t size) {
        f.prop_cells("reg", {static_cast<std::uint32_t>(base >> 32), static_cast<std::uint32_t>(base),
                             static_cast<std::uint32_t>(size >> 32), static_cast<std::uint32_t>(size)});
    };

    f.begin_node("");
    f.prop_string("compatible", "linux,dummy-virt");
    f.prop_u32("#address-cells", 2);
    f.prop_u32("#size-cells", 2);
    f.prop_u32("interrupt-parent", gic);

    f.begin_node("chosen");
    f.prop_string("bootargs", b.cmdline);
    f.prop_string("stdout-path", "/pl011@9000000");
    if (b.initrd_end > b.initrd_start) {
        f.prop_u64("linux,initrd-start", b.initrd_start);
        f.prop_u64("linux,initrd-end", b.initrd_end);
    }
    f.end_node();

    f.begin_node("memory@40000000");
    f.prop_string("device_type", "memory");
    reg(Board::ram_base, b.ram_size);
    f.end_node();

    f.begin_node("cpus");
    f.prop_u32("#address-cells", 1);
    f.prop_u32("#size-cells", 0);
    for (unsigned i = 0; i < b.cpus; ++i) {
        f.begin_node("cpu@" + std::to_string(i));
        f.prop_string("device_type", "cpu");
        f.prop_string("compatible", "arm,arm-v8");
        f.prop_u32("reg", i);  // MPIDR Aff0, as KVM gives vCPU i
        f.prop_string("enable-method", "psci");
        f.end_node();
    }
    f.end_node();

    f.begin_node("psci");
    f.prop_strings("compatible", {"arm,psci-0.2", "arm,psci"});
    f.prop_string("method", "hvc");  // KVM's in-kernel PSCI
    f.end_node();

    f.begin_node("intc@8000000");
    f.prop_string("compatible", "arm,gic-v3");
    f.prop_u32("#interrupt-cells", 3);
    f.prop_empty("interrupt-controller");
    f.prop_cells("reg", {0, static_cast<std::uint32_t>(Board::gic_dist), 0, static_cast<std::uint32_t>(Board::gic_dist_size),
                         0, static_cast<std::uint32_t>(Board::gic_redist), 0,
                         static_cast<std::uint32_t>(Board::gic_redist_per_cpu * b.cpus)});
    f.prop_u32("#address-cells", 2);
    f.prop_u32("#size-cells", 2);
    f.prop_empty("ranges");
    f.prop_u32("phandle", gic);
    f.begin_node("its@8080000");
    f.prop_string("compatible", "arm,gic-v3-its");
    f.prop_empty("msi-controller");
    f.prop_u32("#msi-cells", 1);
    reg(Board::gic_its, Board::gic_its_size);
    f.prop_u32("phandle", its);
    f.end_node();
    f.end_node();

    f.begin_node("timer");
    f.prop_string("compatible", "arm,armv8-timer");
    f.prop_cells("interrupts", {gic_ppi, 13, level_high, gic_ppi, 14, level_high, gic_ppi, 11, level_high,
                                gic_ppi, 10, level_high});  // secure, non-secure, virtual, hypervisor
    f.prop_empty("always-on");
    f.end_node();

    f.begin_node("apb-pclk");
    f.prop_string("compatible", "fixed-clock");
    f.prop_u32("#clock-cells", 0);
    f.prop_u32("clock-frequency", 24'000'000);
    f.prop_string("clock-output-names", "clk24mhz");
    f.prop_u32("phandle", clock);
    f.end_node();

    if (!b.pci_slots.empty()) add_pci_host(f, b, gic, its);

    f.begin_node("pl011@9000000");
    f.prop_strings("compatible", {"arm,pl011", "arm,primecell"});
    reg(Board::uart, Board::uart_size);
    f.prop_cells("interrupts", {gic_spi, Board::uart_spi, level_high});
    f.prop_cells("clocks", {clock, clock});
    f.prop_strings("clock-names", {"uartclk", "apb_pclk"});
    f.end_node();

    f.end_node();
    return f.finish();
}

}  // namespace vmm
