// kvmxx/reg_id.hpp — `RegId<T>`: a KVM_{GET,SET}_ONE_REG id that knows its width.
//
// A ONE_REG id encodes the architecture, the register's size and which
// register it is. kvmxx ties the size to a C++ type so that reading a 128-bit
// FP register into a uint64_t is a compile error, not a silently truncated
// value:
//
// Example [reg_id], built by tests/unit/doc_examples_test.cpp:
//
//     std::uint64_t pc = *cpu.get(kvmxx::arm64::reg::pc);
//     kvmxx::arm64::u128 q0 = *cpu.get(kvmxx::arm64::reg::v(0));   // unsigned __int128
#pragma once

#include "config.hpp"

#include <linux/kvm.h>

#include <cstdint>

KVMXX_BEGIN_NAMESPACE

/// Size in bytes encoded in a ONE_REG id (KVM_REG_SIZE).
constexpr std::uint64_t reg_size(std::uint64_t id) noexcept {
    return std::uint64_t{1} << ((id & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT);
}

/// The KVM_REG_SIZE_* code for an N-byte register.
constexpr std::uint64_t reg_size_code(std::uint64_t bytes) noexcept {
    switch (bytes) {
        case 1: return KVM_REG_SIZE_U8;
        case 2: return KVM_REG_SIZE_U16;
        case 4: return KVM_REG_SIZE_U32;
        case 8: return KVM_REG_SIZE_U64;
        case 16: return KVM_REG_SIZE_U128;
        default: return KVM_REG_SIZE_U256;
    }
}

/// A register id whose encoded size equals sizeof(T). Constructing one whose
/// size does not match fails to compile in a constant expression.
template <class T>
struct RegId {
    std::uint64_t id;  ///< the ONE_REG id (KVM_GET_ONE_REG / KVM_SET_ONE_REG)

    /// From a compile-time id; a size that is not sizeof(T) does not compile.
    consteval RegId(std::uint64_t raw) : id(raw) {
        if (reg_size(raw) != sizeof(T)) size_mismatch();
    }
    /// For ids known only at run time (e.g. from KVM_GET_REG_LIST): checked by the caller.
    static constexpr RegId unchecked(std::uint64_t raw) noexcept { return RegId(raw, 0); }

    /// Same id.
    friend constexpr bool operator==(RegId a, RegId b) noexcept { return a.id == b.id; }

private:
    constexpr RegId(std::uint64_t raw, int) noexcept : id(raw) {}
    static void size_mismatch();  // not defined: reached only in a bad constant expression
};

KVMXX_END_NAMESPACE
