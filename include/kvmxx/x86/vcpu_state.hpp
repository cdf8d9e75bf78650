// kvmxx/x86/vcpu_state.hpp — the argument types of the x86_64 vCPU state ioctls
// that are more than one fixed struct: a batch of MSRs (kvm_msrs), an XSAVE area
// (kvm_xsave, 4 KiB or the KVM_CAP_XSAVE2 size), and LAPIC register access.
//
// Example [msr_batch], built by tests/unit/doc_examples_test.cpp:
//
//     kvmxx::MsrBatch batch{0x174, 0x175, 0x176};     // IA32_SYSENTER_CS/ESP/EIP
//     auto n = cpu.get_msrs(batch);                    // one KVM_GET_MSRS
//     std::uint64_t cs = *batch.value(0x174);
//
// Like CpuidTable, these lay the flexible-array structs out by hand: see uapi.hpp
// for why a C++ translation unit must not use sizeof(kvm_msrs) or sizeof(kvm_xsave).
#pragma once

#include "../config.hpp"
#include "../uapi.hpp"

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <span>
#include <vector>

KVMXX_BEGIN_NAMESPACE
#if KVMXX_ARCH_X86_64

namespace uapi {
/// The fields of `struct kvm_msr_list` before `indices[]`.
struct MsrListHead {
    __u32 nmsrs;  ///< entries in indices[]: capacity going in, count coming out
};
/// `struct kvm_xsave` without its flexible `extra[]`: the 4 KiB that C's sizeof sees.
struct XsaveRegion {
    __u32 region[1024];  ///< the XSAVE image, as the XSAVE instruction lays it out
};
inline constexpr unsigned long get_msr_index_list = _IOWR(KVMIO, 0x02, MsrListHead);  ///< KVM_GET_MSR_INDEX_LIST
inline constexpr unsigned long get_cpuid2 = _IOWR(KVMIO, 0x91, Cpuid2Head);           ///< KVM_GET_CPUID2
inline constexpr unsigned long get_xsave = _IOR(KVMIO, 0xa4, XsaveRegion);            ///< KVM_GET_XSAVE
inline constexpr unsigned long set_xsave = _IOW(KVMIO, 0xa5, XsaveRegion);            ///< KVM_SET_XSAVE
inline constexpr unsigned long get_xsave2 = _IOR(KVMIO, 0xcf, XsaveRegion);           ///< KVM_GET_XSAVE2
// What a C compiler computes from the UAPI headers (uapi.hpp says why C++ differs).
static_assert(get_msr_index_list == 0xc004ae02UL && get_cpuid2 == 0xc008ae91UL);
static_assert(get_xsave == 0x9000aea4UL && set_xsave == 0x5000aea5UL && get_xsave2 == 0x9000aecfUL);
}  // namespace uapi

/// A `kvm_msrs` argument: many MSRs for one KVM_GET_MSRS or KVM_SET_MSRS.
///
/// The kernel handles the entries in order and stops at the first MSR it
/// refuses; Vcpu::get_msrs / set_msrs record how far it got (processed()) and
/// which index it refused (refused()).
class MsrBatch {
public:
    MsrBatch() : MsrBatch(std::span<const std::uint32_t>{}) {}
    /// Entries for these indices, values 0 (for get_msrs, or set them with set()).
    MsrBatch(std::initializer_list<std::uint32_t> indices)
        : MsrBatch(std::span<const std::uint32_t>(indices.begin(), indices.size())) {}
    /// Entries for these indices, values 0.
    explicit MsrBatch(std::span<const std::uint32_t> indices) : arg_(indices.size()) {
        for (std::size_t i = 0; i < indices.size(); ++i) arg_.entries(indices.size())[i].index = indices[i];
        arg_.head().nmsrs = static_cast<std::uint32_t>(indices.size());
    }

    /// Sets the value of `index` (appending an entry if the batch has none for it).
    MsrBatch& set(std::uint32_t index, std::uint64_t value) {
        if (auto* e = find(index)) {
            e->data = value;
            return *this;
        }
        const std::size_t n = size();
        uapi::FlexArg<uapi::MsrsHead, kvm_msr_entry> grown(n + 1);
        auto to = grown.entries(n + 1);
        auto from = arg_.entries(n);
        for (std::size_t i = 0; i < n; ++i) to[i] = from[i];
        to[n] = kvm_msr_entry{index, 0, value};
        grown.head().nmsrs = static_cast<std::uint32_t>(n + 1);
        arg_ = std::move(grown);
        return *this;
    }

    /// The value of `index` as the last call left it, or nullopt if the batch has
    /// no such entry or the kernel stopped before it.
    std::optional<std::uint64_t> value(std::uint32_t index) const {
        auto all = entries();
        for (std::size_t i = 0; i < all.size() && i < processed_; ++i)
            if (all[i].index == index) return all[i].data;
        return std::nullopt;
    }

    /// The raw entries (index, value), in the order the kernel handles them.
    /// @{
    std::span<kvm_msr_entry> entries() noexcept { return arg_.entries(size()); }
    std::span<const kvm_msr_entry> entries() const noexcept { return arg_.entries(size()); }
    /// @}
    /// Entries in the batch.
    std::size_t size() const noexcept { return arg_.head().nmsrs; }

    /// How many entries the last KVM_GET/SET_MSRS handled (all of them after success).
    std::size_t processed() const noexcept { return processed_; }
    /// The index of the first MSR the kernel refused in the last call, if any.
    std::optional<std::uint32_t> refused() const noexcept { return refused_; }
    /// Vcpu records the kernel's return value here.
    void set_processed(std::size_t n) noexcept {
        processed_ = n;
        refused_.reset();
        for (const auto& e : entries().subspan(n < size() ? n : size()).first(n < size() ? 1 : 0))
            refused_ = e.index;
    }

    /// What KVM_GET_MSRS and KVM_SET_MSRS take.
    /// @{
    void* arg() noexcept { return arg_.arg(); }
    const void* arg() const noexcept { return arg_.arg(); }
    /// @}

private:
    kvm_msr_entry* find(std::uint32_t index) noexcept {
        for (auto& e : entries())
            if (e.index == index) return &e;
        return nullptr;
    }
    uapi::FlexArg<uapi::MsrsHead, kvm_msr_entry> arg_;
    std::size_t processed_ = 0;
    std::optional<std::uint32_t> refused_;
};

/// A `kvm_xsave` argument: the XSAVE image of a vCPU's FPU, SSE, AVX, ... state,
/// 4096 bytes (KVM_GET/SET_XSAVE) or the KVM_CAP_XSAVE2 size (KVM_GET_XSAVE2).
///
/// The first 512 bytes are the legacy FXSAVE layout (x87 control word, MXCSR,
/// XMM0-15); bytes 512-575 the XSAVE header, whose first word says which state
/// components the image holds (XSTATE_BV).
class XsaveArea {
public:
    /// Bytes of `struct kvm_xsave` for KVM_GET/SET_XSAVE.
    static constexpr std::size_t legacy_size = 4096;

    /// A zeroed area of `bytes` (at least legacy_size): KVM_CHECK_EXTENSION
    /// (KVM_CAP_XSAVE2) gives the size KVM_GET_XSAVE2 needs.
    explicit XsaveArea(std::size_t bytes = legacy_size)
        : words_(((bytes < legacy_size ? legacy_size : bytes) + 3) / 4) {}

    /// Bytes in the area.
    std::size_t size() const noexcept { return words_.size() * 4; }
    /// The raw XSAVE image.
    /// @{
    std::span<std::uint8_t> bytes() noexcept { return {reinterpret_cast<std::uint8_t*>(words_.data()), size()}; }
    std::span<const std::uint8_t> bytes() const noexcept {
        return {reinterpret_cast<const std::uint8_t*>(words_.data()), size()};
    }
    /// @}

    /// XMM register `i` (0-15): 16 bytes at offset 160 + 16 i of the legacy area.
    /// @{
    std::span<std::uint8_t, 16> xmm(unsigned i) noexcept { return bytes().subspan(160 + 16 * i).first<16>(); }
    std::span<const std::uint8_t, 16> xmm(unsigned i) const noexcept {
        return bytes().subspan(160 + 16 * i).first<16>();
    }
    /// @}
    /// MXCSR, at offset 24.
    std::uint32_t mxcsr() const noexcept { return load<std::uint32_t>(24); }
    void set_mxcsr(std::uint32_t v) noexcept { store(24, v); }  ///< Sets MXCSR.
    /// XSTATE_BV, the first word of the XSAVE header at offset 512.
    std::uint64_t xstate_bv() const noexcept { return load<std::uint64_t>(512); }
    /// Sets XSTATE_BV: components whose bit is clear are loaded in their initial state.
    void set_xstate_bv(std::uint64_t v) noexcept { store(512, v); }

    /// What KVM_GET_XSAVE, KVM_SET_XSAVE and KVM_GET_XSAVE2 take.
    /// @{
    void* arg() noexcept { return words_.data(); }
    const void* arg() const noexcept { return words_.data(); }
    /// @}

private:
    template <class T>
    T load(std::size_t off) const noexcept {
        T v;
        std::memcpy(&v, bytes().data() + off, sizeof v);
        return v;
    }
    template <class T>
    void store(std::size_t off, T v) noexcept {
        std::memcpy(bytes().data() + off, &v, sizeof v);
    }
    std::vector<std::uint32_t> words_;
};

/// Local APIC registers in a `kvm_lapic_state` (KVM_GET/SET_LAPIC): 32-bit
/// registers at their xAPIC MMIO offsets (0x20 ID, 0x80 TPR, 0xf0 SPIV, ...).
namespace lapic {
inline constexpr std::uint32_t id = 0x20;                   ///< Local APIC ID (xAPIC: in bits 31:24)
inline constexpr std::uint32_t version = 0x30;              ///< version and number of LVT entries
inline constexpr std::uint32_t tpr = 0x80;                  ///< Task Priority Register
inline constexpr std::uint32_t spiv = 0xf0;                 ///< Spurious Interrupt Vector; bit 8 enables the APIC
inline constexpr std::uint32_t lvt_lint0 = 0x350;           ///< LVT LINT0 (ExtINT from the PIC, usually)
inline constexpr std::uint32_t lvt_lint1 = 0x360;           ///< LVT LINT1 (NMI, usually)
inline constexpr std::uint32_t timer_initial_count = 0x380; ///< APIC timer initial count; 0 stops it

/// The register at `offset` (one of the constants above).
inline std::uint32_t get(const kvm_lapic_state& s, std::uint32_t offset) noexcept {
    std::uint32_t v;
    std::memcpy(&v, s.regs + offset, sizeof v);
    return v;
}
/// Writes the register at `offset`; KVM_SET_LAPIC makes it the vCPU's.
inline void set(kvm_lapic_state& s, std::uint32_t offset, std::uint32_t value) noexcept {
    std::memcpy(s.regs + offset, &value, sizeof value);
}
}  // namespace lapic

#endif
KVMXX_END_NAMESPACE
