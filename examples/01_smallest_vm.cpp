// Example 1 — the smallest VM: one vCPU, a few guest instructions, one MMIO exit.
//
// What it teaches: a VM is a file descriptor; guest RAM is ordinary host memory
// handed to KVM; a vCPU runs guest code until the guest does something KVM
// leaves to us — here, a store to an address with no memory behind it (an MMIO
// exit), then the guest's way of saying it is done: a PSCI SYSTEM_OFF call on
// arm64 (a system-event exit), HLT on x86_64 (a HLT exit).
//
// Run it with KVMXX_TRACE=1 to see every ioctl it makes.
#include "common.hpp"

using example::must;

#if KVMXX_ARCH_ARM64
// The guest (arm64, EL1, MMU off — addresses are guest-physical):
constexpr std::uint32_t guest[] = {
    0xd2a14001,  // mov  x1, #0x0a000000   an address outside RAM: a store there exits
    0xd2800542,  // mov  x2, #42
    0xf9000022,  // str  x2, [x1]          → KVM_EXIT_MMIO, 8-byte write of 42
    0x52800100,  // mov  w0, #0x8
    0x72b08000,  // movk w0, #0x8400, lsl #16   w0 = 0x84000008: PSCI SYSTEM_OFF
    0xd4000002,  // hvc  #0                → KVM_EXIT_SYSTEM_EVENT (shutdown)
};
#else
// The guest (x86 real mode; example::start_vcpu gives it 4 GiB data segments):
constexpr std::uint8_t guest[] = {
    0x66, 0xbb, 0x00, 0x00, 0x00, 0x0a,  // mov  $0x0a000000, %ebx   an address outside RAM
    0x67, 0xc6, 0x03, 0x2a,              // movb $42, (%ebx)         → KVM_EXIT_MMIO, 1-byte write of 42
    0xf4,                                // hlt                      → KVM_EXIT_HLT (no in-kernel irqchip)
};
#endif

int main() {
    constexpr std::uint64_t ram_base = 0x4000'0000;
    auto kvm = must(kvmxx::Kvm::open());                      // open("/dev/kvm")
    auto vm = must(kvm.create_vm());                          // KVM_CREATE_VM
    auto ram = must(vm.add_memory(ram_base, 0x10000));        // 64 KiB at 0x40000000
    example::load(ram, ram_base, guest);
    auto cpu = example::start_vcpu(vm, ram_base);             // KVM_CREATE_VCPU + its start state
    EXAMPLE_SAY(ex1_vm, (unsigned long long)ram_base);  // "example 1: a VM with 64 KiB of RAM at 0x40000000 ..."

    for (;;) {
        auto exit = must(cpu.run());                          // KVM_RUN: the guest runs until...
        if (auto* w = std::get_if<kvmxx::exit::MmioWrite>(&exit)) {
            EXAMPLE_SAY(ex1_mmio, (unsigned long long)w->value(), (unsigned long long)w->address, w->data.size());
        } else if (example::guest_is_done(exit)) {
            EXAMPLE_SAY(ex1_done, example::done_words());
            return 0;
        } else {
            EXAMPLE_SAY(ex1_unexpected, kvmxx::describe(exit).c_str());
            return 1;
        }
    }
}
