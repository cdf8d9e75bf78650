// kvmxx/arm64/sve.hpp — the Scalable Vector Extension as KVM hands it to a VMM
// (Documentation/virt/kvm/api.rst, KVM_ARM_VCPU_INIT feature KVM_ARM_VCPU_SVE and
// the KVM_REG_ARM64_SVE register group).
//
// An SVE vCPU is made in three steps, in this order, before its first KVM_RUN:
//   1. KVM_ARM_VCPU_INIT with the SVE feature bit;
//   2. optionally KVM_SET_ONE_REG(KVM_REG_ARM64_SVE_VLS): the vector lengths the
//      guest may use, a subset of the host's (reading it first gives the host's);
//   3. KVM_ARM_VCPU_FINALIZE(KVM_ARM_VCPU_SVE): from here the set is fixed and the
//      Z, P and FFR registers exist.
// Vcpu::init does all three (arm64::VcpuFeatures{.sve = true, .sve_lengths = ...}).
//
// Lengths are counted in quadwords ("VQ", 128 bits) by the architecture and the
// kernel; this header speaks bits at its edges (128, 256, ... 2048), as people do.
//
// Example [sve], built by tests/unit/doc_examples_test.cpp:
//
//     auto lengths = kvmxx::arm64::SveVectorLengths::of_bits({128, 256});
//     auto cpu = vm.create_vcpu(0, {.sve = true, .sve_lengths = *lengths});
//     auto set = cpu->sve_vector_lengths();   // {128, 256}
#pragma once

#include "../config.hpp"
#include "../error.hpp"
#include "../reg_id.hpp"

#include <linux/kvm.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

KVMXX_BEGIN_NAMESPACE

namespace arm64 {

/// The vector lengths a vCPU may use: the value of KVM_REG_ARM64_SVE_VLS, a
/// 512-bit map whose bit vq - 1 stands for vq × 128 bits (vq = 1 .. 512).
class SveVectorLengths {
public:
    static constexpr unsigned max_vq = 512;  ///< SVE_VQ_MAX: the architecture allows up to 2048 bits; the map has room for more

    using Words = std::array<std::uint64_t, 8>;  ///< the 512-bit map, least significant word first

    SveVectorLengths() = default;
    /// The map exactly as KVM_GET_ONE_REG returns it.
    explicit SveVectorLengths(const Words& words) noexcept : words_(words) {}

    /// From lengths in bits, each a multiple of 128 up to 2048 (the architecture's
    /// limit); an EINVAL error naming the first that is not.
    static Result<SveVectorLengths> of_bits(std::initializer_list<unsigned> bits) {
        return of_bits(std::vector<unsigned>(bits));
    }
    /// The same from a vector of lengths in bits.
    static Result<SveVectorLengths> of_bits(const std::vector<unsigned>& bits) {
        if (bits.empty()) return fail("SVE vector lengths", EINVAL, "no vector length given");
        SveVectorLengths l;
        for (unsigned b : bits) {
            if (b == 0 || b % 128 != 0 || b > 2048)
                return fail("SVE vector lengths", EINVAL,
                            std::to_string(b) + " bits is not a vector length: give multiples of 128 up to 2048");
            l.add_vq(b / 128);
        }
        return l;
    }

    /// Holds vq × 128 bits (vq = 1 .. max_vq).
    bool has_vq(unsigned vq) const noexcept {
        return vq >= 1 && vq <= max_vq && (words_[(vq - 1) / 64] >> ((vq - 1) % 64)) & 1;
    }
    /// Holds `bits` (a multiple of 128).
    bool has_bits(unsigned bits) const noexcept { return bits % 128 == 0 && has_vq(bits / 128); }
    /// Adds vq × 128 bits; a vq outside 1 .. max_vq is ignored.
    void add_vq(unsigned vq) noexcept {
        if (vq >= 1 && vq <= max_vq) words_[(vq - 1) / 64] |= std::uint64_t{1} << ((vq - 1) % 64);
    }

    /// The lengths in bits, shortest first.
    std::vector<unsigned> bits() const {
        std::vector<unsigned> out;
        for (unsigned vq = 1; vq <= max_vq; ++vq)
            if (has_vq(vq)) out.push_back(vq * 128);
        return out;
    }
    /// The longest length in bits (0 for an empty set): the guest's vector length
    /// when it asks ZCR_EL1 for the most.
    unsigned max_bits() const noexcept {
        for (unsigned vq = max_vq; vq >= 1; --vq)
            if (has_vq(vq)) return vq * 128;
        return 0;
    }
    /// "128, 256, 512": for messages.
    std::string to_string() const {
        std::string s;
        for (unsigned b : bits()) s += (s.empty() ? "" : ", ") + std::to_string(b);
        return s.empty() ? "none" : s;
    }

    /// The map as KVM_SET_ONE_REG takes it.
    const Words& words() const noexcept { return words_; }
    /// Equal when they hold the same lengths.
    friend bool operator==(const SveVectorLengths&, const SveVectorLengths&) = default;

private:
    Words words_{};
};

/// The ONE_REG ids of the SVE group (KVM_REG_ARM64_SVE): computed from the
/// documented layout so that they exist on any host; checked against the
/// kernel's macros on aarch64 below.
namespace sve {
inline constexpr std::uint64_t group = 0x6000000000000000ULL | (0x0015ULL << 16);  ///< KVM_REG_ARM64 | KVM_REG_ARM64_SVE
/// KVM_REG_ARM64_SVE_VLS: the vector-length map (512 bits).
inline constexpr std::uint64_t vls_id = group | KVM_REG_SIZE_U512 | 0xffff;
/// Zn (n = 0..31), slice 0: 2048 bits, of which the vCPU's maximum vector length is used.
constexpr RegId<std::array<std::uint8_t, 256>> z(unsigned n) {
    return RegId<std::array<std::uint8_t, 256>>::unchecked(group | KVM_REG_SIZE_U2048 | ((n & 31u) << 5));
}
/// Pn (n = 0..15), slice 0: 256 bits (one bit per byte of a Z register).
constexpr RegId<std::array<std::uint8_t, 32>> p(unsigned n) {
    return RegId<std::array<std::uint8_t, 32>>::unchecked(group | KVM_REG_SIZE_U256 | ((32u + (n & 15u)) << 5));
}
}  // namespace sve

/// ID_AA64PFR0_EL1.SVE (bits 35:32): what the guest reads to learn it has SVE.
constexpr unsigned id_aa64pfr0_sve(std::uint64_t id_aa64pfr0) noexcept {
    return static_cast<unsigned>((id_aa64pfr0 >> 32) & 0xf);
}

#if KVMXX_ARCH_ARM64
static_assert(sve::vls_id == KVM_REG_ARM64_SVE_VLS);
static_assert(sve::z(0).id == KVM_REG_ARM64_SVE_ZREG(0, 0));
static_assert(sve::z(31).id == KVM_REG_ARM64_SVE_ZREG(31, 0));
static_assert(sve::p(15).id == KVM_REG_ARM64_SVE_PREG(15, 0));
#endif

}  // namespace arm64

KVMXX_END_NAMESPACE
