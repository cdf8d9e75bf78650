// dtb.hpp — the device tree the guest kernel boots with: the board's own nodes
// (chosen, memory, cpus, psci, the architected timer, the APB clock), then one
// node per device, each written by the device itself (devicetree bindings:
// arm/cpus, arm/psci, timer/arm,arch_timer, clock/fixed-clock).
//
//     vmm::Guest g{.cpus = 2, .ram_size = 256 << 20, .cmdline = "console=ttyAMA0"};
//     auto dtb = vmm::make_fdt(g, {&gic, &uart, &pci}, uart.fdt_path());
#pragma once

#include "board.hpp"
#include "device.hpp"
#include "fdt.hpp"

#include <kvmxx/kvmxx.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vmm {

/// What the guest is told about itself, beyond its devices.
struct Guest {
    unsigned cpus = 1;
    std::uint64_t ram_size = 256ull << 20;
    std::string cmdline;
    std::uint64_t initrd_start = 0, initrd_end = 0;  ///< 0: no initrd
};

/// The DTB for `g` with `devices`, the console at `stdout_path`.
inline kvmxx::Result<std::vector<std::uint8_t>> make_fdt(const Guest& g, std::span<Device* const> devices,
                                                         const std::string& stdout_path) {
    using namespace gic_cells;
    FdtWriter f;
    FdtRefs refs;
    refs.gic = f.new_phandle();
    refs.its = f.new_phandle();
    refs.clock = f.new_phandle();

    f.begin_node("");
    f.prop_string("compatible", "linux,dummy-virt");
    f.prop_u32("#address-cells", 2);
    f.prop_u32("#size-cells", 2);
    f.prop_u32("interrupt-parent", refs.gic);

    f.begin_node("chosen");
    f.prop_string("bootargs", g.cmdline);
    f.prop_string("stdout-path", stdout_path);
    if (g.initrd_end > g.initrd_start) {
        f.prop_u64("linux,initrd-start", g.initrd_start);
        f.prop_u64("linux,initrd-end", g.initrd_end);
    }
    f.end_node();

    f.begin_node(node_name("memory", board::ram_base));
    f.prop_string("device_type", "memory");
    f.prop_reg(board::ram_base, g.ram_size);
    f.end_node();

    f.begin_node("cpus");
    f.prop_u32("#address-cells", 1);
    f.prop_u32("#size-cells", 0);
    for (unsigned i = 0; i < g.cpus; ++i) {
        f.begin_node(node_name("cpu", i));
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

    f.begin_node("timer");
    f.prop_string("compatible", "arm,armv8-timer");
    f.prop_cells("interrupts", {ppi, 13, level_high, ppi, 14, level_high, ppi, 11, level_high, ppi, 10,
                                level_high});  // secure, non-secure, virtual, hypervisor
    f.prop_empty("always-on");
    f.end_node();

    f.begin_node("apb-pclk");
    f.prop_string("compatible", "fixed-clock");
    f.prop_u32("#clock-cells", 0);
    f.prop_u32("clock-frequency", 24'000'000);
    f.prop_string("clock-output-names", "clk24mhz");
    f.prop_u32("phandle", refs.clock);
    f.end_node();

    for (const Device* d : devices) d->write_fdt(f, refs);

    f.end_node();
    return f.finish();
}

}  // namespace vmm
