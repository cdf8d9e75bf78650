// kvmxx/device.hpp — `Device`, an in-kernel device made by KVM_CREATE_DEVICE.
//
// KVM's device control API: a device (the VGIC, its ITS, the VFIO
// pseudo-device) is an fd configured through (group, attribute) pairs with
// KVM_SET_DEVICE_ATTR / KVM_GET_DEVICE_ATTR / KVM_HAS_DEVICE_ATTR. The same
// three ioctls work on a vCPU fd (per-vCPU PMU and timer attributes), so they
// are free functions here too.
//
// Example [device_attr], built by tests/unit/doc_examples_test.cpp:
//
//     auto its = vm.create_device(KVM_DEV_TYPE_ARM_VGIC_ITS);
//     std::uint64_t base = 0x0808'0000;
//     if (!its) return kvmxx::unexpected(its.error());
//     return its->set_attr(KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, base);
#pragma once

#include "config.hpp"
#include "error.hpp"
#include "ioctl.hpp"
#include "unique_fd.hpp"

#include <linux/kvm.h>

#include <cstdint>
#include <type_traits>
#include <string>

KVMXX_BEGIN_NAMESPACE

namespace detail {
inline std::string describe_attr(int fd, std::uint32_t group, std::uint64_t attr) {
    return trace::Args().dec("fd", static_cast<std::uint64_t>(fd)).dec("group", group).hex("attr", attr).take();
}
/// The three device-attribute ioctls share one argument shape: (group, attr, addr).
[[nodiscard]] inline Result<> attr_ioctl(int fd, unsigned long request, const char* name, std::uint32_t group,
                           std::uint64_t attr, std::uint64_t addr) {
    kvm_device_attr a{};
    a.group = group;
    a.attr = attr;
    a.addr = addr;
    return sys::ioctl(fd, request, name, &a, [&] { return describe_attr(fd, group, attr); }).transform([](int) {});
}
/// KVM_SET_DEVICE_ATTR with `addr` pointing at the value (or 0 for "no value").
[[nodiscard]] inline Result<> set_attr(int fd, std::uint32_t group, std::uint64_t attr, std::uint64_t addr) {
    return attr_ioctl(fd, KVM_SET_DEVICE_ATTR, "KVM_SET_DEVICE_ATTR", group, attr, addr);
}
[[nodiscard]] inline Result<> get_attr(int fd, std::uint32_t group, std::uint64_t attr, std::uint64_t addr) {
    return attr_ioctl(fd, KVM_GET_DEVICE_ATTR, "KVM_GET_DEVICE_ATTR", group, attr, addr);
}
inline bool has_attr(int fd, std::uint32_t group, std::uint64_t attr) {
    return attr_ioctl(fd, KVM_HAS_DEVICE_ATTR, "KVM_HAS_DEVICE_ATTR", group, attr, 0).has_value();
}
}  // namespace detail

/// "KVM_DEV_TYPE_ARM_VGIC_V3" for 7, for messages and the trace (the number if unknown).
inline std::string device_type_name(std::uint32_t type) {
    switch (type) {
        case KVM_DEV_TYPE_VFIO: return "KVM_DEV_TYPE_VFIO";
        case KVM_DEV_TYPE_ARM_VGIC_V2: return "KVM_DEV_TYPE_ARM_VGIC_V2";
        case KVM_DEV_TYPE_ARM_VGIC_V3: return "KVM_DEV_TYPE_ARM_VGIC_V3";
        case KVM_DEV_TYPE_ARM_VGIC_ITS: return "KVM_DEV_TYPE_ARM_VGIC_ITS";
        default: return std::to_string(type);
    }
}

/// One in-kernel device fd from KVM_CREATE_DEVICE (Vm::create_device),
/// configured through its attributes. Move-only; closing the fd drops the
/// VM's reference to the device.
class Device {
public:
    Device() = default;
    /// Takes ownership of a device fd created as KVM_DEV_TYPE_* `type`.
    Device(UniqueFd fd, std::uint32_t type) noexcept : fd_(std::move(fd)), type_(type) {}

    /// KVM_SET_DEVICE_ATTR with a 64-bit value (addresses, counts).
    [[nodiscard]] Result<> set_attr(std::uint32_t group, std::uint64_t attr, const std::uint64_t& value) const {
        return detail::set_attr(fd_.get(), group, attr, reinterpret_cast<std::uint64_t>(&value));
    }
    /// KVM_SET_DEVICE_ATTR with a 32-bit value (e.g. KVM_DEV_ARM_VGIC_GRP_NR_IRQS).
    [[nodiscard]] Result<> set_attr(std::uint32_t group, std::uint64_t attr, const std::uint32_t& value) const {
        return detail::set_attr(fd_.get(), group, attr, reinterpret_cast<std::uint64_t>(&value));
    }
    /// KVM_SET_DEVICE_ATTR with no value (control commands such as CTRL_INIT).
    [[nodiscard]] Result<> set_attr(std::uint32_t group, std::uint64_t attr) const {
        return detail::set_attr(fd_.get(), group, attr, 0);
    }
    /// KVM_GET_DEVICE_ATTR into a `T`: the kernel writes as many bytes as the
    /// attribute has, so ask for the attribute's own width.
    ///
    /// Safety: `T` must be at least as wide as the attribute (api.rst and the
    /// device's document in Documentation/virt/kvm/devices/ give it): the kernel
    /// writes the attribute's width at &v, so a narrower `T` has it write past v,
    /// on the stack. kvmxx cannot check: the ioctl carries no size.
    ///
    /// Example [get_attr], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     auto n = gic->device().get_attr<std::uint32_t>(KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0);
    template <class T = std::uint64_t>
        requires(std::is_trivially_copyable_v<T>)
    [[nodiscard]] Result<T> get_attr(std::uint32_t group, std::uint64_t attr) const {
        T v{};
        return detail::get_attr(fd_.get(), group, attr, reinterpret_cast<std::uint64_t>(&v))
            .transform([&] { return v; });
    }
    /// KVM_HAS_DEVICE_ATTR: does this device know (group, attr)?
    bool has_attr(std::uint32_t group, std::uint64_t attr) const {
        return detail::has_attr(fd_.get(), group, attr);
    }

    /// The KVM_DEV_TYPE_* this device was created as.
    std::uint32_t type() const noexcept { return type_; }
    int fd() const noexcept { return fd_.get(); }        ///< the raw device fd, still owned here
    bool valid() const noexcept { return fd_.valid(); }  ///< holds a device fd (not default/moved-from)

private:
    UniqueFd fd_;
    std::uint32_t type_ = 0;
};

KVMXX_END_NAMESPACE
