// kvmxx/arm64/vgic.hpp — `Vgic`: the in-kernel interrupt controller (GICv3, GICv2 fallback, ITS).
//
// The VGIC is where KVM_IRQFD delivers: a signalled irqfd becomes a pending
// SPI in the in-kernel distributor, and the guest's GIC CPU interface takes it.
//
// The kernel is strict about order, and a wrong order fails late and
// cryptically (EBUSY from KVM_CREATE_VCPU, ENXIO from KVM_RUN). The order that
// works, and that this class enforces with a clear error for each misstep:
//   1. create every vCPU;                       (Vm::create_vcpu)
//   2. create the GIC device;                   (Vgic::create)
//   3. set distributor + redistributor addresses;
//   4. optionally create the ITS, set its address, init it;  (add_its)
//   5. set the number of IRQs;                  (set_nr_irqs)
//   6. KVM_DEV_ARM_VGIC_CTRL_INIT;              (init) — before the first KVM_RUN.
//
// Example [vgic], built by tests/unit/doc_examples_test.cpp:
//
//     auto gic = kvmxx::arm64::Vgic::setup(vm, {});   // all six steps, QEMU-virt-like layout
//     if (!gic) return kvmxx::unexpected(gic.error());
//     if (auto r = vm.irqfd(ev, kvmxx::arm64::spi_gsi(5)); !r) return kvmxx::unexpected(r.error());
#pragma once

#include "../config.hpp"
#include "../device.hpp"
#include "../error.hpp"
#include "../trace.hpp"
#include "../vm.hpp"
#include "gic.hpp"

#include <linux/kvm.h>

#include <cstdint>
#include <optional>
#include <string>

KVMXX_BEGIN_NAMESPACE

namespace arm64 {

/// KVM device-API numbers for the VGIC (arm64 <asm/kvm.h>), defined here so
/// that this header also compiles (and its logic is testable) on other hosts.
namespace vgic_attr {
inline constexpr std::uint32_t grp_addr = 0;      ///< KVM_DEV_ARM_VGIC_GRP_ADDR: frame base addresses
inline constexpr std::uint32_t grp_nr_irqs = 3;   ///< KVM_DEV_ARM_VGIC_GRP_NR_IRQS: number of INTIDs
inline constexpr std::uint32_t grp_ctrl = 4;      ///< KVM_DEV_ARM_VGIC_GRP_CTRL: control operations
inline constexpr std::uint64_t ctrl_init = 0;     ///< KVM_DEV_ARM_VGIC_CTRL_INIT: finish the layout
inline constexpr std::uint64_t v2_dist = 0;       ///< KVM_VGIC_V2_ADDR_TYPE_DIST: GICv2 distributor
inline constexpr std::uint64_t v2_cpu = 1;        ///< KVM_VGIC_V2_ADDR_TYPE_CPU: GICv2 CPU interface
inline constexpr std::uint64_t v3_dist = 2;       ///< KVM_VGIC_V3_ADDR_TYPE_DIST: GICv3 distributor
inline constexpr std::uint64_t v3_redist = 3;     ///< KVM_VGIC_V3_ADDR_TYPE_REDIST: GICv3 redistributors
inline constexpr std::uint64_t its_base = 4;      ///< KVM_VGIC_ITS_ADDR_TYPE: the ITS's frame
}  // namespace vgic_attr

/// Bytes of guest-physical space each GIC frame occupies, for laying out a board.
/// @{
inline constexpr std::uint64_t gicv3_dist_size = 0x10000;
inline constexpr std::uint64_t gicv3_redist_size_per_cpu = 0x20000;
inline constexpr std::uint64_t gicv3_its_size = 0x20000;
inline constexpr std::uint64_t gicv2_dist_size = 0x1000;
inline constexpr std::uint64_t gicv2_cpu_size = 0x2000;
/// @}

/// Where the GIC's frames sit in guest-physical space (defaults follow QEMU's virt board).
struct GicLayout {
    std::uint64_t distributor = 0x0800'0000;    ///< 64 KiB (v3) or 4 KiB (v2)
    std::uint64_t redistributor = 0x080a'0000;  ///< v3: 128 KiB per vCPU from here
    std::uint64_t cpu_interface = 0x0801'0000;  ///< v2 only
    std::optional<std::uint64_t> its = 0x0808'0000;  ///< v3 only; nullopt for none
    std::uint32_t nr_irqs = 256;  ///< INTIDs incl. the 32 private ones: 64..1024, a multiple of 32
};

/// The in-kernel GIC (KVM_DEV_TYPE_ARM_VGIC_V3 or _V2) and its optional ITS:
/// created after the vCPUs, laid out, then initialized, in the order the kernel
/// requires (setup() does all of it). Move-only.
class Vgic {
public:
    /// The GIC architecture version emulated.
    enum class Version {
        V2 = 2,  ///< GICv2: distributor + CPU interface, no ITS
        V3 = 3   ///< GICv3: distributor + redistributors, optional ITS
    };

    /// KVM_CREATE_DEVICE of the GIC. Fails with a clear error when the VM has
    /// no vCPU yet (the redistributors are sized by the vCPUs that exist).
    [[nodiscard]] static Result<Vgic> create(Vm& vm, Version version) {
        if (vm.vcpu_count() == 0)
            return fail_with_hint("Vgic::create", EINVAL, "the VM has no vCPU",
                                  "create every vCPU before the GIC: it sizes its redistributors by them");
        auto dev = vm.create_device(version == Version::V3 ? KVM_DEV_TYPE_ARM_VGIC_V3 : KVM_DEV_TYPE_ARM_VGIC_V2);
        if (!dev) return unexpected<Error>(std::move(dev).error());
        return Vgic(std::move(*dev), version);
    }

    /// GICv3, or GICv2 when the host cannot emulate a v3.
    [[nodiscard]] static Result<Vgic> create(Vm& vm) {
        auto v3 = create(vm, Version::V3);
        if (v3 || v3.error().errnum() != ENODEV) return v3;
        return create(vm, Version::V2);
    }

    /// Every step in the order the kernel needs: create (v3, else v2), addresses, ITS (v3), NR_IRQS, init.
    [[nodiscard]] static Result<Vgic> setup(Vm& vm, const GicLayout& layout) {
        auto gic = create(vm);
        if (!gic) return gic;
        Result<> r = gic->set_distributor(layout.distributor);
        if (r) r = gic->version() == Version::V3 ? gic->set_redistributor(layout.redistributor)
                                                 : gic->set_cpu_interface(layout.cpu_interface);
        if (r && layout.its && gic->version() == Version::V3) r = gic->add_its(vm, *layout.its);
        if (r) r = gic->set_nr_irqs(layout.nr_irqs);
        if (r) r = gic->init();
        if (!r) return unexpected<Error>(std::move(r).error());
        return gic;
    }

    /// KVM_SET_DEVICE_ATTR(GRP_ADDR, DIST): guest-physical base of the distributor (64 KiB aligned).
    [[nodiscard]] Result<> set_distributor(std::uint64_t gpa) {
        if (auto r = not_after_init("set_distributor"); !r) return r;
        auto r = gic_.set_attr(vgic_attr::grp_addr, v3() ? vgic_attr::v3_dist : vgic_attr::v2_dist, gpa);
        if (r) distributor_ = gpa;
        return r;
    }
    /// KVM_SET_DEVICE_ATTR(GRP_ADDR, REDIST): base of the redistributors (GICv3).
    [[nodiscard]] Result<> set_redistributor(std::uint64_t gpa) {
        if (auto r = not_after_init("set_redistributor"); !r) return r;
        if (!v3()) return order_error("set_redistributor", "a GICv2 has no redistributors; use set_cpu_interface");
        auto r = gic_.set_attr(vgic_attr::grp_addr, vgic_attr::v3_redist, gpa);
        if (r) cpu_side_ = gpa;
        return r;
    }
    /// KVM_SET_DEVICE_ATTR(GRP_ADDR, CPU): base of the CPU interface (GICv2).
    [[nodiscard]] Result<> set_cpu_interface(std::uint64_t gpa) {
        if (auto r = not_after_init("set_cpu_interface"); !r) return r;
        if (v3()) return order_error("set_cpu_interface", "a GICv3 has redistributors; use set_redistributor");
        auto r = gic_.set_attr(vgic_attr::grp_addr, vgic_attr::v2_cpu, gpa);
        if (r) cpu_side_ = gpa;
        return r;
    }

    /// Creates the ITS (KVM_DEV_TYPE_ARM_VGIC_ITS), sets its base and initializes it.
    /// MSIs routed with a device id land here. GICv3 only, before init().
    [[nodiscard]] Result<> add_its(Vm& vm, std::uint64_t gpa) {
        if (auto r = not_after_init("add_its"); !r) return r;
        if (!v3()) return order_error("add_its", "the ITS needs a GICv3");
        if (!distributor_ || !cpu_side_)
            return order_error("add_its", "set the distributor and redistributor addresses before adding the ITS");
        if (its_) return order_error("add_its", "this GIC already has an ITS");
        auto its = vm.create_device(KVM_DEV_TYPE_ARM_VGIC_ITS);
        if (!its) return unexpected<Error>(std::move(its).error());
        auto r = its->set_attr(vgic_attr::grp_addr, vgic_attr::its_base, gpa);
        if (r) r = its->set_attr(vgic_attr::grp_ctrl, vgic_attr::ctrl_init);
        if (!r) return r;
        its_ = std::move(*its);
        its_base_ = gpa;
        return {};
    }

    /// KVM_SET_DEVICE_ATTR(GRP_NR_IRQS): how many INTIDs (including the 32 private ones).
    [[nodiscard]] Result<> set_nr_irqs(std::uint32_t n) {
        if (auto r = not_after_init("set_nr_irqs"); !r) return r;
        if (n < 64 || n > 1024 || n % 32 != 0)
            return fail_with_hint("Vgic::set_nr_irqs", EINVAL, "nr_irqs=" + std::to_string(n),
                                  "use a multiple of 32 from 64 to 1024");
        auto r = gic_.set_attr(vgic_attr::grp_nr_irqs, 0, n);
        if (r) nr_irqs_ = n;
        return r;
    }

    /// KVM_SET_DEVICE_ATTR(GRP_CTRL, CTRL_INIT): freezes the layout. Call before the first KVM_RUN.
    [[nodiscard]] Result<> init() {
        if (initialized_) return order_error("init", "the GIC is already initialized");
        if (!distributor_)
            return order_error("init", "set the distributor address (set_distributor) before init");
        if (!cpu_side_)
            return order_error("init", v3() ? "set the redistributor address (set_redistributor) before init"
                                            : "set the CPU interface address (set_cpu_interface) before init");
        auto r = gic_.set_attr(vgic_attr::grp_ctrl, vgic_attr::ctrl_init);
        if (r) initialized_ = true;
        return r;
    }

    Version version() const noexcept { return version_; }            ///< v3, or v2 where the host fell back
    bool initialized() const noexcept { return initialized_; }       ///< init() succeeded: the layout is frozen
    std::uint32_t nr_irqs() const noexcept { return nr_irqs_; }      ///< as set_nr_irqs set it (0: the kernel's default)
    std::optional<std::uint64_t> its_base() const noexcept { return its_base_; }  ///< the ITS's base, if add_its ran
    /// The GIC device, for attributes this class does not wrap.
    const Device& device() const noexcept { return gic_; }
    /// The ITS device, or nullptr.
    const Device* its() const noexcept { return its_ ? &*its_ : nullptr; }

private:
    Vgic(Device dev, Version v) noexcept : gic_(std::move(dev)), version_(v) {}

    bool v3() const noexcept { return version_ == Version::V3; }
    static unexpected<Error> order_error(const char* step, std::string what) {
        return fail_with_hint("Vgic", EINVAL, step, std::move(what));
    }
    [[nodiscard]] Result<> not_after_init(const char* step) const {
        if (initialized_) return order_error(step, "the GIC is initialized; its layout can no longer change");
        return {};
    }

    Device gic_;
    std::optional<Device> its_;
    Version version_ = Version::V3;
    std::optional<std::uint64_t> distributor_, cpu_side_, its_base_;
    std::uint32_t nr_irqs_ = 0;
    bool initialized_ = false;
};

}  // namespace arm64

KVMXX_END_NAMESPACE
