// pmu.hpp — the guest's performance monitors (--pmu): a PMUv3 that KVM emulates
// on the host's own counters, one per vCPU, its overflow interrupt on PPI 7
// (INTID 23, as QEMU's virt board and kvmtool have it). Nothing of it is on the
// MMIO bus: the guest reaches it through system registers (PMCR_EL0, PMCCNTR_EL0,
// ...) that KVM serves. Its node tells the guest's perf driver which interrupt
// is its own (devicetree bindings: arm/pmu.yaml).
//
// The order is the kernel's: the vCPUs made with KVM_ARM_VCPU_PMU_V3
// (cpu_features), the VGIC made and initialised, then per vCPU the interrupt
// and KVM_ARM_VCPU_PMU_V3_INIT (setup); a vCPU with the feature runs only after.
#pragma once

#include "device.hpp"
#include "errors.hpp"

#include <kvmxx/kvmxx.hpp>

#include <cstdint>
#include <span>
#include <string>

namespace vmm {

class Pmu final : public Device {
public:
    static constexpr std::uint32_t ppi = 7;  ///< the overflow interrupt: PPI 7 = INTID 16 + 7

    /// Gives every vCPU its PMU's interrupt and makes the PMU; after the VGIC's init.
    static kvmxx::Result<> setup(std::span<kvmxx::Vcpu> cpus) {
        for (auto& cpu : cpus) {
            const std::string which = "the PMU of vCPU " + std::to_string(cpu.id());
            if (auto r = cpu.set_pmu_irq(16 + ppi); !r) return context("giving " + which + " its interrupt", r.error());
            if (auto r = cpu.init_pmu(); !r) return context("making " + which, r.error());
        }
        note("PMUv3 on " + std::to_string(cpus.size()) + " vCPU(s), overflow interrupt PPI " + std::to_string(ppi));
        return {};
    }

    kvmxx::Result<> attach(kvmxx::MmioBus&) override { return {}; }  // system registers, KVM's

    void write_fdt(FdtWriter& f, const FdtRefs&) const override {
        f.begin_node("pmu");
        f.prop_string("compatible", "arm,armv8-pmuv3");
        f.prop_cells("interrupts", {gic_cells::ppi, ppi, gic_cells::level_high});
        f.end_node();
    }
};

}  // namespace vmm
