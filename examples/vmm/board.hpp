// board.hpp — the guest's machine: where everything sits in guest-physical
// memory, in one table, so that the whole layout can be read (and checked for
// clashes) at a glance. Each device's own file says what it does there and how
// the device tree describes it; main.cpp gives each device its place from here.
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

#include <cstdint>

namespace vmm {

/// A guest-physical range [base, base + size).
struct Range {
    std::uint64_t base = 0, size = 0;
    bool overlaps(const Range& o) const noexcept { return base < o.base + o.size && o.base < base + size; }
    bool inside(const Range& o) const noexcept { return base >= o.base && size <= o.size && base - o.base <= o.size - size; }
};

namespace board {

inline constexpr Range gic_dist{0x0800'0000, 0x1'0000};
inline constexpr Range gic_its{0x0808'0000, 0x2'0000};
inline constexpr std::uint64_t gic_redist = 0x080a'0000, gic_redist_per_cpu = 0x2'0000;
inline constexpr std::uint32_t gic_nr_irqs = 256;

inline constexpr Range uart{0x0900'0000, 0x1000};
inline constexpr std::uint32_t uart_spi = 1;
inline constexpr Range boot_timer{0x0901'0000, 0x1000};

inline constexpr Range pci_mmio32{0x1000'0000, 0x2000'0000};
inline constexpr Range pci_ecam{0x3000'0000, 0x10'0000};
inline constexpr Range pci_mmio64{0x80'0000'0000, 0x40'0000'0000};
inline constexpr std::uint32_t pci_intx_spi_base = 16;

inline constexpr std::uint64_t ram_base = 0x4000'0000;

}  // namespace board

}  // namespace vmm
