// kvmxx/vfio/kvm_vfio.hpp — KVM's VFIO pseudo-device (KVM_DEV_TYPE_VFIO): tells
// KVM which VFIO groups a VM's devices come from, so KVM can make DMA coherent
// with the guest's memory attributes and let architecture code (e.g. x86's
// posted interrupts, s390's adapters) find the device. A VMM adds each group it
// passes through.
//
// Example [kvm_vfio], built by tests/unit/doc_examples_test.cpp:
//
//     auto kv = kvmxx::KvmVfio::create(vm);   // KVM_CREATE_DEVICE(KVM_DEV_TYPE_VFIO)
//     if (!kv) return kvmxx::unexpected(kv.error());
//     if (auto r = kv->add_group(*group); !r) return r;  // KVM_SET_DEVICE_ATTR(KVM_DEV_VFIO_GROUP_ADD)
#pragma once

#include "../config.hpp"
#include "../device.hpp"
#include "../error.hpp"
#include "../vm.hpp"
#include "container.hpp"

#include <linux/kvm.h>

#include <cstdint>

KVMXX_BEGIN_NAMESPACE

/// KVM's VFIO pseudo-device (KVM_DEV_TYPE_VFIO), which tells KVM the VFIO groups
/// a VM's passed-through devices come from. Move-only.
class KvmVfio {
public:
    KvmVfio() = default;
    /// Wraps a device already created as KVM_DEV_TYPE_VFIO.
    explicit KvmVfio(Device dev) noexcept : dev_(std::move(dev)) {}

    /// KVM_CREATE_DEVICE(KVM_DEV_TYPE_VFIO) on `vm`; one per VM.
    [[nodiscard]] static Result<KvmVfio> create(Vm& vm) {
        auto d = vm.create_device(KVM_DEV_TYPE_VFIO);
        if (!d) return unexpected<Error>(std::move(d).error());
        return KvmVfio(std::move(*d));
    }

    /// KVM_DEV_VFIO_GROUP_ADD: the VM uses devices of `group`.
    template <VfioGroupHandle G>
    [[nodiscard]] Result<> add_group(const G& group) { return group_attr(KVM_DEV_VFIO_GROUP_ADD, group.fd()); }
    /// KVM_DEV_VFIO_GROUP_DEL.
    template <VfioGroupHandle G>
    [[nodiscard]] Result<> remove_group(const G& group) { return group_attr(KVM_DEV_VFIO_GROUP_DEL, group.fd()); }

    const Device& device() const noexcept { return dev_; }  ///< the underlying device, for raw attributes

private:
    [[nodiscard]] Result<> group_attr(std::uint64_t attr, int group_fd) {
        const std::int32_t fd = group_fd;  // the attribute's value is an int32 fd
        return detail::set_attr(dev_.fd(), KVM_DEV_VFIO_GROUP, attr, reinterpret_cast<std::uint64_t>(&fd));
    }
    Device dev_;
};

KVMXX_END_NAMESPACE
