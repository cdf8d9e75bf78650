// kvmxx/arm64/regs.hpp — arm64 vCPU registers by name, as typed ONE_REG ids.
//
// Core registers live in `struct kvm_regs`; their id is the 32-bit word offset
// of the field (KVM_REG_ARM_CORE_REG). System registers are addressed by their
// (op0, op1, CRn, CRm, op2) encoding, as in the MRS/MSR instruction.
//
// These ids are computed here from the documented layout so that they exist
// on any host (a trace on x86 can still name an arm64 register); on aarch64
// the static_asserts at the end check every one against the kernel's own UAPI
// macros.
//
// Example [arm64_regs], built by tests/unit/doc_examples_test.cpp:
//
//     if (auto r = cpu.set(kvmxx::arm64::reg::pc, 0x4000'0000); !r) return r;
//     auto mpidr = cpu.get(kvmxx::arm64::sysreg::MPIDR_EL1);
//     auto id = kvmxx::arm64::sysreg_by_name("SCTLR_EL1");   // std::optional<RegId<u64>>
#pragma once

#include "../config.hpp"
#include "../reg_id.hpp"

#include <linux/kvm.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#if KVMXX_ARCH_ARM64
#  include <asm/kvm.h>
#  include <cstddef>
#endif

KVMXX_BEGIN_NAMESPACE

/// arm64: registers, the GIC, SVE and vCPU features.
namespace arm64 {

__extension__ typedef unsigned __int128 u128;  ///< the width of a V register

/// How ONE_REG ids are built (KVM_REG_ARM64 | group | size | index).
namespace encoding {
inline constexpr std::uint64_t arch = 0x6000000000000000ULL;  ///< KVM_REG_ARM64
inline constexpr std::uint64_t core = 0x0010ULL << 16;       ///< KVM_REG_ARM_CORE
inline constexpr std::uint64_t sysreg = 0x0013ULL << 16;     ///< KVM_REG_ARM64_SYSREG
inline constexpr std::uint64_t firmware = 0x0014ULL << 16;   ///< KVM_REG_ARM_FW

/// Word offsets in struct kvm_regs (user_pt_regs, then sp_el1, elr_el1, spsr[5], fp_regs).
/// @{
inline constexpr std::uint64_t off_x0 = 0, off_sp = 62, off_pc = 64, off_pstate = 66;
inline constexpr std::uint64_t off_sp_el1 = 68, off_elr_el1 = 70, off_spsr0 = 72;
inline constexpr std::uint64_t off_v0 = 84, off_fpsr = 212, off_fpcr = 213;
/// @}

/// The id of the `bytes`-wide core register at `word_offset` in struct kvm_regs.
constexpr std::uint64_t core_id(std::uint64_t word_offset, std::uint64_t bytes) {
    return arch | reg_size_code(bytes) | core | word_offset;
}
/// The id of the 64-bit system register with this MRS/MSR encoding.
constexpr std::uint64_t sys_id(unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2) {
    return arch | KVM_REG_SIZE_U64 | sysreg | ((std::uint64_t{op0} << 14) & 0xc000) |
           ((std::uint64_t{op1} << 11) & 0x3800) | ((std::uint64_t{crn} << 7) & 0x0780) |
           ((std::uint64_t{crm} << 3) & 0x0078) | (std::uint64_t{op2} & 0x7);
}
}  // namespace encoding

/// Core registers (struct kvm_regs).
namespace reg {
/// General-purpose register Xn, n = 0..30.
constexpr RegId<std::uint64_t> x(unsigned n) {
    return RegId<std::uint64_t>::unchecked(encoding::core_id(encoding::off_x0 + 2 * n, 8));
}
inline constexpr RegId<std::uint64_t> sp = encoding::core_id(encoding::off_sp, 8);  ///< SP_EL0
inline constexpr RegId<std::uint64_t> pc = encoding::core_id(encoding::off_pc, 8);          ///< program counter
inline constexpr RegId<std::uint64_t> pstate = encoding::core_id(encoding::off_pstate, 8);  ///< PSTATE: NZCV, DAIF masks, EL and SP selection
inline constexpr RegId<std::uint64_t> sp_el1 = encoding::core_id(encoding::off_sp_el1, 8);  ///< SP_EL1, the kernel's stack pointer
inline constexpr RegId<std::uint64_t> elr_el1 = encoding::core_id(encoding::off_elr_el1, 8);  ///< ELR_EL1: return address of an exception taken to EL1
/// SPSR bank i (0 = SPSR_EL1).
constexpr RegId<std::uint64_t> spsr(unsigned i) {
    return RegId<std::uint64_t>::unchecked(encoding::core_id(encoding::off_spsr0 + 2 * i, 8));
}
/// FP/SIMD register Vn (128-bit), n = 0..31.
constexpr RegId<u128> v(unsigned n) {
    return RegId<u128>::unchecked(encoding::core_id(encoding::off_v0 + 4 * n, 16));
}
inline constexpr RegId<std::uint32_t> fpsr = encoding::core_id(encoding::off_fpsr, 4);  ///< FPSR: FP/SIMD cumulative exception flags
inline constexpr RegId<std::uint32_t> fpcr = encoding::core_id(encoding::off_fpcr, 4);  ///< FPCR: FP/SIMD rounding and trap controls
}  // namespace reg

/// PSTATE value for "EL1h with D, A, I, F masked" — where the boot protocol enters.
inline constexpr std::uint64_t pstate_el1h_masked = 0x3c5;

/// System registers by architectural name.
namespace sysreg {
inline constexpr RegId<std::uint64_t> MIDR_EL1 = encoding::sys_id(3, 0, 0, 0, 0);  ///< Main ID: implementer, part number, revision
inline constexpr RegId<std::uint64_t> MPIDR_EL1 = encoding::sys_id(3, 0, 0, 0, 5);  ///< Multiprocessor affinity: the vCPU's Aff0-Aff3 (its GIC redistributor)
inline constexpr RegId<std::uint64_t> ID_AA64PFR0_EL1 = encoding::sys_id(3, 0, 0, 4, 0);  ///< Processor features 0: EL support, FP/SIMD, GIC system registers, SVE
inline constexpr RegId<std::uint64_t> ID_AA64MMFR0_EL1 = encoding::sys_id(3, 0, 0, 7, 0);  ///< Memory model features 0: physical address size, granule support
inline constexpr RegId<std::uint64_t> SCTLR_EL1 = encoding::sys_id(3, 0, 1, 0, 0);  ///< System control: MMU, caches, alignment checks at EL1/EL0
inline constexpr RegId<std::uint64_t> CPACR_EL1 = encoding::sys_id(3, 0, 1, 0, 2);  ///< Architectural feature access control: traps of FP/SIMD and SVE
inline constexpr RegId<std::uint64_t> TTBR0_EL1 = encoding::sys_id(3, 0, 2, 0, 0);  ///< Translation table base 0: the lower virtual address range
inline constexpr RegId<std::uint64_t> TTBR1_EL1 = encoding::sys_id(3, 0, 2, 0, 1);  ///< Translation table base 1: the upper virtual address range
inline constexpr RegId<std::uint64_t> TCR_EL1 = encoding::sys_id(3, 0, 2, 0, 2);  ///< Translation control: region sizes, granules, cacheability of walks
inline constexpr RegId<std::uint64_t> ESR_EL1 = encoding::sys_id(3, 0, 5, 2, 0);  ///< Exception syndrome: why the last exception to EL1 was taken
inline constexpr RegId<std::uint64_t> FAR_EL1 = encoding::sys_id(3, 0, 6, 0, 0);  ///< Fault address of the last abort taken to EL1
inline constexpr RegId<std::uint64_t> PAR_EL1 = encoding::sys_id(3, 0, 7, 4, 0);  ///< Physical address: result of the last AT address translation
inline constexpr RegId<std::uint64_t> MAIR_EL1 = encoding::sys_id(3, 0, 10, 2, 0);  ///< Memory attribute indirection: the eight attributes page tables index
inline constexpr RegId<std::uint64_t> VBAR_EL1 = encoding::sys_id(3, 0, 12, 0, 0);  ///< Vector base address: EL1's exception vector table
inline constexpr RegId<std::uint64_t> CONTEXTIDR_EL1 = encoding::sys_id(3, 0, 13, 0, 1);  ///< Context ID: the current process's ID, for tracing and debug
inline constexpr RegId<std::uint64_t> TPIDR_EL1 = encoding::sys_id(3, 0, 13, 0, 4);  ///< EL1 software thread ID (Linux: the per-CPU offset)
inline constexpr RegId<std::uint64_t> CNTKCTL_EL1 = encoding::sys_id(3, 0, 14, 1, 0);  ///< Timer kernel control: EL0 access to the counters and timers
inline constexpr RegId<std::uint64_t> TPIDR_EL0 = encoding::sys_id(3, 3, 13, 0, 2);  ///< EL0 read/write software thread ID (user TLS pointer)
/// The virtual timer as KVM exposes it (note KVM's historical CNT/CVAL encodings).
/// @{
inline constexpr RegId<std::uint64_t> CNTV_CTL_EL0 = encoding::sys_id(3, 3, 14, 3, 1);
/// Virtual timer compare value (KVM_REG_ARM_TIMER_CVAL, with CNTVCT_EL0's encoding).
inline constexpr RegId<std::uint64_t> CNTV_CVAL_EL0 = encoding::sys_id(3, 3, 14, 0, 2);
/// Virtual count (KVM_REG_ARM_TIMER_CNT, with CNTV_CVAL_EL0's encoding); setting it
/// moves the guest's view of time.
inline constexpr RegId<std::uint64_t> CNTVCT_EL0 = encoding::sys_id(3, 3, 14, 3, 2);
/// @}
}  // namespace sysreg

/// Firmware pseudo-registers (KVM_REG_ARM_FW).
namespace fwreg {
/// The PSCI version KVM offers the guest (KVM_REG_ARM_PSCI_VERSION); set it
/// before the first run to pin an older one.
inline constexpr RegId<std::uint64_t> PSCI_VERSION =
    encoding::arch | KVM_REG_SIZE_U64 | encoding::firmware | 0;
}

/// A register's name and ONE_REG id, an entry of named_sysregs.
struct NamedReg {
    std::string_view name;  ///< architectural name, as sysreg_by_name takes it
    std::uint64_t id;       ///< KVM_GET_ONE_REG / KVM_SET_ONE_REG id
};

/// Every named 64-bit register above, for look-up by name and for decoding ids.
inline constexpr std::array<NamedReg, 24> named_sysregs{{
    {"MIDR_EL1", sysreg::MIDR_EL1.id},
    {"MPIDR_EL1", sysreg::MPIDR_EL1.id},
    {"ID_AA64PFR0_EL1", sysreg::ID_AA64PFR0_EL1.id},
    {"ID_AA64MMFR0_EL1", sysreg::ID_AA64MMFR0_EL1.id},
    {"SCTLR_EL1", sysreg::SCTLR_EL1.id},
    {"CPACR_EL1", sysreg::CPACR_EL1.id},
    {"TTBR0_EL1", sysreg::TTBR0_EL1.id},
    {"TTBR1_EL1", sysreg::TTBR1_EL1.id},
    {"TCR_EL1", sysreg::TCR_EL1.id},
    {"ESR_EL1", sysreg::ESR_EL1.id},
    {"FAR_EL1", sysreg::FAR_EL1.id},
    {"PAR_EL1", sysreg::PAR_EL1.id},
    {"MAIR_EL1", sysreg::MAIR_EL1.id},
    {"VBAR_EL1", sysreg::VBAR_EL1.id},
    {"CONTEXTIDR_EL1", sysreg::CONTEXTIDR_EL1.id},
    {"TPIDR_EL1", sysreg::TPIDR_EL1.id},
    {"CNTKCTL_EL1", sysreg::CNTKCTL_EL1.id},
    {"TPIDR_EL0", sysreg::TPIDR_EL0.id},
    {"CNTV_CTL_EL0", sysreg::CNTV_CTL_EL0.id},
    {"CNTV_CVAL_EL0", sysreg::CNTV_CVAL_EL0.id},
    {"CNTVCT_EL0", sysreg::CNTVCT_EL0.id},
    {"PC", reg::pc.id},
    {"PSTATE", reg::pstate.id},
    {"SP_EL1", reg::sp_el1.id},
}};

/// A 64-bit register id by name ("SCTLR_EL1", "PC"), or nullopt.
inline std::optional<RegId<std::uint64_t>> sysreg_by_name(std::string_view name) noexcept {
    for (const auto& r : named_sysregs)
        if (r.name == name) return RegId<std::uint64_t>::unchecked(r.id);
    return std::nullopt;
}

/// The name of a register id we know, or empty.
inline std::string_view reg_name(std::uint64_t id) noexcept {
    for (const auto& r : named_sysregs)
        if (r.id == id) return r.name;
    return {};
}

#if KVMXX_ARCH_ARM64
// The layout above, checked against the kernel's headers where they apply.
#  define KVMXX_CORE(field) (KVM_REG_ARM64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(field))
static_assert(reg::x(0).id == (KVMXX_CORE(regs.regs[0]) | KVM_REG_SIZE_U64));
static_assert(reg::x(30).id == (KVMXX_CORE(regs.regs[30]) | KVM_REG_SIZE_U64));
static_assert(reg::sp.id == (KVMXX_CORE(regs.sp) | KVM_REG_SIZE_U64));
static_assert(reg::pc.id == (KVMXX_CORE(regs.pc) | KVM_REG_SIZE_U64));
static_assert(reg::pstate.id == (KVMXX_CORE(regs.pstate) | KVM_REG_SIZE_U64));
static_assert(reg::sp_el1.id == (KVMXX_CORE(sp_el1) | KVM_REG_SIZE_U64));
static_assert(reg::elr_el1.id == (KVMXX_CORE(elr_el1) | KVM_REG_SIZE_U64));
static_assert(reg::spsr(4).id == (KVMXX_CORE(spsr[4]) | KVM_REG_SIZE_U64));
static_assert(reg::v(0).id == (KVMXX_CORE(fp_regs.vregs[0]) | KVM_REG_SIZE_U128));
static_assert(reg::v(31).id == (KVMXX_CORE(fp_regs.vregs[31]) | KVM_REG_SIZE_U128));
static_assert(reg::fpsr.id == (KVMXX_CORE(fp_regs.fpsr) | KVM_REG_SIZE_U32));
static_assert(reg::fpcr.id == (KVMXX_CORE(fp_regs.fpcr) | KVM_REG_SIZE_U32));
static_assert(sysreg::MPIDR_EL1.id == ARM64_SYS_REG(3, 0, 0, 0, 5));
static_assert(sysreg::CNTV_CTL_EL0.id == KVM_REG_ARM_TIMER_CTL);
static_assert(sysreg::CNTV_CVAL_EL0.id == KVM_REG_ARM_TIMER_CVAL);
static_assert(sysreg::CNTVCT_EL0.id == KVM_REG_ARM_TIMER_CNT);
static_assert(fwreg::PSCI_VERSION.id == KVM_REG_ARM_PSCI_VERSION);
#  undef KVMXX_CORE
#endif

}  // namespace arm64

KVMXX_END_NAMESPACE
