// gic.hpp — the interrupt controller: a GICv3 with an ITS, emulated inside the
// kernel (KVM's vGIC), so it has ranges but puts none on the MMIO bus: KVM
// serves the distributor, the redistributors and the ITS itself. Its node is
// the one every other interrupt refers to (devicetree bindings:
// interrupt-controller/arm,gic-v3.yaml, with the ITS as a child).
#pragma once

#include "device.hpp"
#include "errors.hpp"

#include <kvmxx/kvmxx.hpp>

#include <cstdint>

namespace vmm {

class Gic final : public Device {
public:
    /// SPIs the guest may use (and the GSIs that keep their identity route).
    static constexpr std::uint32_t spis = board::gic_nr_irqs - 32;

    explicit Gic(unsigned cpus) : cpus_(cpus) {}

    /// The in-kernel GICv3 and ITS for `vm`, at the board's addresses; call it
    /// once every vCPU exists (the kernel's order).
    kvmxx::Result<kvmxx::arm64::Vgic> create(kvmxx::Vm& vm) const {
        kvmxx::arm64::GicLayout layout;
        layout.distributor = board::gic_dist.base;
        layout.redistributor = board::gic_redist;
        layout.its = board::gic_its.base;
        layout.nr_irqs = board::gic_nr_irqs;
        auto gic = kvmxx::arm64::Vgic::setup(vm, layout);
        if (!gic) return context("setting up the GICv3", gic.error());
        return gic;
    }

    kvmxx::Result<> attach(kvmxx::MmioBus&) override { return {}; }  // KVM serves it

    void write_fdt(FdtWriter& f, const FdtRefs& refs) const override {
        f.begin_node(node_name("intc", board::gic_dist.base));
        f.prop_string("compatible", "arm,gic-v3");
        f.prop_u32("#interrupt-cells", 3);
        f.prop_empty("interrupt-controller");
        const std::uint64_t redist_size = board::gic_redist_per_cpu * cpus_;
        f.prop_cells("reg", {FdtWriter::hi(board::gic_dist.base), FdtWriter::lo(board::gic_dist.base),
                             FdtWriter::hi(board::gic_dist.size), FdtWriter::lo(board::gic_dist.size),
                             FdtWriter::hi(board::gic_redist), FdtWriter::lo(board::gic_redist),
                             FdtWriter::hi(redist_size), FdtWriter::lo(redist_size)});
        f.prop_u32("#address-cells", 2);
        f.prop_u32("#size-cells", 2);
        f.prop_empty("ranges");
        f.prop_u32("phandle", refs.gic);
        f.begin_node(node_name("its", board::gic_its.base));
        f.prop_string("compatible", "arm,gic-v3-its");
        f.prop_empty("msi-controller");
        f.prop_u32("#msi-cells", 1);
        f.prop_reg(board::gic_its.base, board::gic_its.size);
        f.prop_u32("phandle", refs.its);
        f.end_node();
        f.end_node();
    }

private:
    unsigned cpus_;
};

}  // namespace vmm
