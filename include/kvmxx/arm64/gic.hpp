// kvmxx/arm64/gic.hpp — GIC interrupt numbers: INTIDs, GSIs, KVM_IRQ_LINE and FDT forms.
//
// One interrupt has several names depending on who asks:
// - the guest sees an INTID: SGIs 0-15, PPIs 16-31 (per CPU), SPIs 32-1019;
// - KVM_IRQFD and the routing table use a GSI: with arm64's default routing,
//   GSI n is SPI n, i.e. INTID 32 + n;
// - KVM_IRQ_LINE packs a type, a vCPU index and the INTID into one word;
// - a device tree names an SPI as <0 n flags> and a PPI as <1 (INTID-16) flags>.
//
// Example [gic_spi], built by tests/unit/doc_examples_test.cpp:
//
//     if (auto r = vm.irqfd(ev, kvmxx::arm64::spi_gsi(6)); !r) return r;   // guest sees INTID 38
//     if (auto r = vm.irq_line(kvmxx::arm64::irq_line_spi(37), true); !r) return r;
#pragma once

#include "../config.hpp"

#include <array>
#include <cstdint>

KVMXX_BEGIN_NAMESPACE

namespace arm64 {

inline constexpr std::uint32_t first_ppi_intid = 16;  ///< INTIDs 0-15 are SGIs, 16-31 PPIs
inline constexpr std::uint32_t first_spi_intid = 32;  ///< SPIs start at INTID 32

/// The INTID the guest sees for SPI number `spi`.
constexpr std::uint32_t spi_intid(std::uint32_t spi) noexcept { return first_spi_intid + spi; }
/// The GSI that KVM_IRQFD needs to raise SPI number `spi` (default routing).
constexpr std::uint32_t spi_gsi(std::uint32_t spi) noexcept { return spi; }

/// KVM_IRQ_LINE's `irq` word (KVM_ARM_IRQ_TYPE_* in bits 24-27, vCPU in 16-23, INTID in 0-15).
namespace irq_type {
inline constexpr std::uint32_t cpu = 0;  ///< KVM_ARM_IRQ_TYPE_CPU: a vCPU's IRQ/FIQ line (no in-kernel GIC)
inline constexpr std::uint32_t spi = 1;  ///< KVM_ARM_IRQ_TYPE_SPI: a shared peripheral interrupt
inline constexpr std::uint32_t ppi = 2;  ///< KVM_ARM_IRQ_TYPE_PPI: one vCPU's private peripheral interrupt
}  // namespace irq_type
/// KVM_IRQ_LINE's `irq` word for the SPI with INTID `intid`.
constexpr std::uint32_t irq_line_spi(std::uint32_t intid) noexcept { return (irq_type::spi << 24) | (intid & 0xffff); }
/// KVM_IRQ_LINE's `irq` word for PPI INTID `intid` of vCPU `vcpu`.
constexpr std::uint32_t irq_line_ppi(std::uint32_t vcpu, std::uint32_t intid) noexcept {
    return (irq_type::ppi << 24) | ((vcpu & 0xff) << 16) | (intid & 0xffff);
}

/// Devicetree interrupt specifier cells for the GIC binding.
enum class Trigger : std::uint32_t { EdgeRising = 1, LevelHigh = 4 };
/// The three `interrupts` cells of a device node for SPI number `spi`.
constexpr std::array<std::uint32_t, 3> fdt_spi(std::uint32_t spi, Trigger t = Trigger::LevelHigh) noexcept {
    return {0, spi, static_cast<std::uint32_t>(t)};
}
/// The three `interrupts` cells for PPI INTID `intid` (16-31; the cell holds intid - 16).
constexpr std::array<std::uint32_t, 3> fdt_ppi(std::uint32_t intid, Trigger t = Trigger::LevelHigh) noexcept {
    return {1, intid - first_ppi_intid, static_cast<std::uint32_t>(t)};
}

}  // namespace arm64

KVMXX_END_NAMESPACE
