// common.hpp — the helpers every example uses, so each example file shows only
// what it teaches: stop at the first error, load guest code, start vCPU 0 at it
// (arm64: KVM_ARM_VCPU_INIT + pc; x86_64: real mode), and know the guest is done.
// What the examples say comes from messages.hpp, in English or Chinese.
#pragma once

#include <kvmxx/kvmxx.hpp>

#include "messages.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

namespace example {

/// The value of `r`, or: print the library's one-line error and exit 1.
/// (Examples stop at the first error; a VMM would handle it.)
template <class T>
T must(kvmxx::Result<T> r) {
    if (!r) {
        EXAMPLE_SAY_TO(stderr, error, r.error().message().c_str());
        std::exit(1);
    }
    if constexpr (!std::is_void_v<T>) return std::move(*r);
}

/// Copies guest instructions into guest RAM at `gpa`.
inline void load(const kvmxx::MemoryRegion& ram, std::uint64_t gpa, std::span<const std::uint8_t> bytes) {
    std::memcpy(ram.host + (gpa - ram.gpa), bytes.data(), bytes.size());
    __builtin___clear_cache(reinterpret_cast<char*>(ram.host), reinterpret_cast<char*>(ram.host + ram.size));
}
inline void load(const kvmxx::MemoryRegion& ram, std::uint64_t gpa, std::span<const std::uint32_t> words) {
    load(ram, gpa, {reinterpret_cast<const std::uint8_t*>(words.data()), words.size_bytes()});
}

#if KVMXX_ARCH_ARM64
/// vCPU 0, initialised for this host's CPU (KVM_ARM_VCPU_INIT), starting at `entry`.
inline kvmxx::Vcpu start_vcpu(kvmxx::Vm& vm, std::uint64_t entry) {
    auto cpu = must(vm.create_vcpu(0, {}));      // KVM_CREATE_VCPU + KVM_ARM_VCPU_INIT
    must(cpu.set(kvmxx::arm64::reg::pc, entry));  // KVM_SET_ONE_REG: start here
    return cpu;
}
/// How the examples' arm64 guests end: PSCI SYSTEM_OFF, a system-event exit.
inline bool guest_is_done(const kvmxx::Exit& exit) {
    auto* e = std::get_if<kvmxx::exit::SystemEvent>(&exit);
    return e && e->is_shutdown();
}
inline const char* done_words() { return messages::text(messages::Id::done_psci); }
#elif KVMXX_ARCH_X86_64
/// vCPU 0 in real mode with CS based at `entry` (IP 0) and data segments flat from 0
/// with a 4 GiB limit ("unreal mode"), so 32-bit addresses reach 0x0a000000.
inline kvmxx::Vcpu start_vcpu(kvmxx::Vm& vm, std::uint64_t entry) {
    auto cpu = must(vm.create_vcpu(0));                     // KVM_CREATE_VCPU
    must(kvmxx::x86::enter_unreal_mode(cpu, entry));        // KVM_SET_SREGS + KVM_SET_REGS
    return cpu;
}
/// How the examples' x86 guests end: HLT, which exits to us when the VM has no
/// in-kernel interrupt controller to wake it.
inline bool guest_is_done(const kvmxx::Exit& exit) { return std::holds_alternative<kvmxx::exit::Hlt>(exit); }
inline const char* done_words() { return messages::text(messages::Id::done_hlt); }
#endif

}  // namespace example
