// kvmxx/x86/cpuid.hpp — a CPUID table, as KVM_GET_SUPPORTED_CPUID fills it and
// KVM_SET_CPUID2 takes it.
//
// Example [cpuid], built by tests/unit/doc_examples_test.cpp:
//
//     auto table = kvm.supported_cpuid();             // what this host can offer
//     for (auto& leaf : table->entries())              // edit: hide, brand, limit...
//         if (leaf.function == 0) std::memcpy(&leaf.ebx, "kvmx", 4);
//     auto given = cpu.set_cpuid(*table);              // what this vCPU will see
#pragma once

#include "../config.hpp"
#include "../uapi.hpp"

#include <linux/kvm.h>

#include <cstdint>
#include <span>

KVMXX_BEGIN_NAMESPACE
#if KVMXX_ARCH_X86_64

/// A `kvm_cpuid2` argument with room for its entries (laid out as uapi.hpp explains).
class CpuidTable {
public:
    /// Room for `capacity` leaves (KVM allows at most KVM_MAX_CPUID_ENTRIES, 256).
    explicit CpuidTable(std::uint32_t capacity = 256) : arg_(capacity) { arg_.head().nent = capacity; }

    /// The leaves in the table: all the kernel filled in, or all set up to now.
    /// @{
    std::span<kvm_cpuid_entry2> entries() noexcept { return arg_.entries(size()); }
    std::span<const kvm_cpuid_entry2> entries() const noexcept { return arg_.entries(size()); }
    /// @}
    std::uint32_t size() const noexcept { return arg_.head().nent; }  ///< leaves in the table (nent)
    std::size_t capacity() const noexcept { return arg_.capacity(); }  ///< leaves there is room for

    /// The leaf for (function, index), or nullptr.
    kvm_cpuid_entry2* find(std::uint32_t function, std::uint32_t index = 0) noexcept {
        for (auto& e : entries())
            if (e.function == function && e.index == index) return &e;
        return nullptr;
    }

    /// What KVM_GET_SUPPORTED_CPUID and KVM_SET_CPUID2 take; the kernel updates nent.
    /// @{
    void* arg() noexcept { return arg_.arg(); }
    const void* arg() const noexcept { return arg_.arg(); }
    /// @}

private:
    uapi::FlexArg<uapi::Cpuid2Head, kvm_cpuid_entry2> arg_;
};

#endif
KVMXX_END_NAMESPACE
