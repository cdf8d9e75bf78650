// Example 2 — MMIO devices: a bus dispatching guest accesses to handlers.
//
// What it teaches: every emulated device of a VMM is an address window plus
// code that answers reads and writes. Anything with `read(offset, bytes)` and
// `write(offset, bytes)` is a kvmxx::MmioHandler; kvmxx::MmioBus (the one the
// example VMM uses too) finds the window an exit's address falls in and calls the
// handler with the offset inside it. A read's answer goes into the exit's data,
// and KVM puts it in the guest's register when the vCPU runs again. The bus
// checks its windows: one that overlaps another is refused, naming both.
#include "common.hpp"

using example::must;

// A console: each byte written is printed.
struct Console {
    void read(std::uint64_t, std::span<std::uint8_t> out) { std::fill(out.begin(), out.end(), 0); }
    void write(std::uint64_t, std::span<const std::uint8_t> in) { std::fwrite(in.data(), 1, 1, stdout); }
};

// A counter: each read returns one more than the last.
struct Counter {
    std::uint32_t value = 0;
    void read(std::uint64_t, std::span<std::uint8_t> out) {
        ++value;
        std::memcpy(out.data(), &value, std::min(out.size(), sizeof value));
    }
    void write(std::uint64_t, std::span<const std::uint8_t>) {}
};

// The guest prints "hi", reads the counter three times and prints the last value.
#if KVMXX_ARCH_ARM64
constexpr std::uint32_t guest[] = {
    0xd2a14001,  // mov  x1, #0x0a000000   the console
    0x52800d02,  // mov  w2, #'h'
    0x39000022,  // strb w2, [x1]
    0x52800d22,  // mov  w2, #'i'
    0x39000022,  // strb w2, [x1]
    0x52800142,  // mov  w2, #'\n'
    0x39000022,  // strb w2, [x1]
    0x91400423,  // add  x3, x1, #0x1000   the counter
    0xb9400064,  // ldr  w4, [x3]          1
    0xb9400064,  // ldr  w4, [x3]          2
    0xb9400064,  // ldr  w4, [x3]          3: the value KVM writes into w4
    0x1100c084,  // add  w4, w4, #'0'
    0x39000024,  // strb w4, [x1]          prints "3"
    0x52800142,  // mov  w2, #'\n'
    0x39000022,  // strb w2, [x1]
    0x52800100,  // mov  w0, #0x8
    0x72b08000,  // movk w0, #0x8400, lsl #16   PSCI SYSTEM_OFF
    0xd4000002,  // hvc  #0
};
#else
// x86 real mode with 4 GiB data segments (example::start_vcpu); ends with HLT.
constexpr std::uint8_t guest[] = {
    0x66, 0xbb, 0x00, 0x00, 0x00, 0x0a,  // mov  $0x0a000000, %ebx   the console
    0x67, 0xc6, 0x03, 'h',               // movb $'h', (%ebx)
    0x67, 0xc6, 0x03, 'i',               // movb $'i', (%ebx)
    0x67, 0xc6, 0x03, '\n',              // movb $'\n', (%ebx)
    0x66, 0xb9, 0x00, 0x10, 0x00, 0x0a,  // mov  $0x0a001000, %ecx   the counter
    0x67, 0x66, 0x8b, 0x01,              // mov  (%ecx), %eax        1
    0x67, 0x66, 0x8b, 0x01,              // mov  (%ecx), %eax        2
    0x67, 0x66, 0x8b, 0x01,              // mov  (%ecx), %eax        3: the value KVM writes into eax
    0x04, '0',                           // add  $'0', %al
    0x67, 0x88, 0x03,                    // mov  %al, (%ebx)         prints "3"
    0x67, 0xc6, 0x03, '\n',              // movb $'\n', (%ebx)
    0xf4,                                // hlt
};
#endif

int main() {
    constexpr std::uint64_t ram_base = 0x4000'0000;
    auto kvm = must(kvmxx::Kvm::open());
    auto vm = must(kvm.create_vm());
    auto ram = must(vm.add_memory(ram_base, 0x10000));
    example::load(ram, ram_base, guest);
    auto cpu = example::start_vcpu(vm, ram_base);

    Console console;
    Counter counter;
    kvmxx::MmioBus bus;
    must(bus.add("console", 0x0a00'0000, 0x1000, console));
    must(bus.add("counter", 0x0a00'1000, 0x1000, counter));
    if (auto clash = bus.add("clash", 0x0a00'0800, 0x1000, counter); !clash)  // refused: it overlaps the console
        EXAMPLE_SAY(ex2_refused, clash.error().detail().c_str());
    EXAMPLE_SAY(ex2_devices);

    for (;;) {
        auto exit = must(cpu.run());
        if (bus.handle(exit)) continue;
        if (example::guest_is_done(exit)) {
            std::fflush(stdout);
            EXAMPLE_SAY(ex2_done, counter.value, example::done_words());
            return counter.value == 3 ? 0 : 1;
        }
        EXAMPLE_SAY(ex2_no_device, kvmxx::describe(exit).c_str());
        return 1;
    }
}
