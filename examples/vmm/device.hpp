// device.hpp — what every emulated device tells the rest of the VMM: which
// guest-physical ranges it serves (it puts them on the MMIO bus itself) and how
// the device tree describes it (it writes its own node). main.cpp and the
// device-tree builder loop over a list of Devices and know nothing of any one.
//
//     class Rtc final : public vmm::Device {
//         kvmxx::Result<> attach(kvmxx::MmioBus& bus) override { return bus.add("rtc", base, 0x1000, *this); }
//         void write_fdt(vmm::FdtWriter& f, const vmm::FdtRefs&) const override { f.begin_node(...); ... }
//         ...
//     };
#pragma once

#include "board.hpp"
#include "fdt.hpp"

#include <kvmxx/kvmxx.hpp>

#include <cstdint>

namespace vmm {

/// The phandles of the board's shared nodes, for the nodes that refer to them.
struct FdtRefs {
    std::uint32_t gic = 0;    ///< the interrupt controller (interrupt-parent, interrupt-map)
    std::uint32_t its = 0;    ///< the MSI controller (msi-map)
    std::uint32_t clock = 0;  ///< the fixed 24 MHz APB clock
};

/// Interrupt specifier cells of the GICv3 binding (dt-bindings arm-gic.h, irq.h).
namespace gic_cells {
inline constexpr std::uint32_t spi = 0, ppi = 1;
inline constexpr std::uint32_t level_high = 4;
}  // namespace gic_cells

class Device {
public:
    virtual ~Device() = default;
    /// Puts the ranges this device serves on `bus` (none for a device KVM serves).
    virtual kvmxx::Result<> attach(kvmxx::MmioBus& bus) = 0;
    /// Writes the device's node(s) under the root; nothing for a device the
    /// guest is not told of.
    virtual void write_fdt(FdtWriter& fdt, const FdtRefs& refs) const = 0;
};

}  // namespace vmm
