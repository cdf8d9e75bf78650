// test_vm.hpp — set up a VM with RAM, a guest program and vCPUs in one call
// (in the spirit of the kernel's KVM selftests library), for the real-kernel tests.
#pragma once

#include <kvmxx/kvmxx.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <variant>
#include <vector>

#define GUEST_PROGRAM(name)                                         \
    extern "C" const std::uint8_t guest_##name[], guest_##name##_end[]; \
    inline std::span<const std::uint8_t> program_##name() {         \
        return {guest_##name, static_cast<std::size_t>(guest_##name##_end - guest_##name)}; \
    }

GUEST_PROGRAM(mmio_rw)
GUEST_PROGRAM(psci_off)
GUEST_PROGRAM(psci_reset)
GUEST_PROGRAM(cpu_on)
GUEST_PROGRAM(ro_slot)
GUEST_PROGRAM(copy_slots)
GUEST_PROGRAM(dirty_pages)
GUEST_PROGRAM(load_report)
GUEST_PROGRAM(ioevent)
GUEST_PROGRAM(spin)
GUEST_PROGRAM(gic_irq)

namespace kvmtest {

inline constexpr std::uint64_t ram_base = 0x4000'0000;
inline constexpr std::uint64_t ram_size = 2 << 20;
inline constexpr std::uint64_t report = 0x0a00'0000;
inline constexpr std::uint64_t program_stride = 0x2000;  // keeps the 2 KiB vector alignment  // the guest programs' MMIO window

inline bool have_kvm() { return ::access("/dev/kvm", F_OK) == 0; }

#define REQUIRE_KVM()                                                                            \
    do {                                                                                         \
        if (!kvmtest::have_kvm()) {                                                              \
            GTEST_SKIP() << "no /dev/kvm: run this suite in the testbed (tests/testbed/run)";     \
        }                                                                                        \
    } while (0)

/// Fails the current test with the library's own message when `r` holds an error.
#define ASSERT_OK(r) ASSERT_TRUE(r) << (r).error().message()

/// A VM with RAM at ram_base holding `program`, and vCPUs 0..n-1 starting there.
struct TestVm {
    kvmxx::Kvm kvm;
    kvmxx::Vm vm;
    kvmxx::MemoryRegion ram;
    std::vector<kvmxx::Vcpu> cpus;
    std::uint64_t entry = ram_base;  ///< where the program was loaded and vCPU 0 starts

    /// Everything in one call. Secondaries start powered off (they wait for PSCI CPU_ON).
    static void create(TestVm& t, std::span<const std::uint8_t> program, unsigned ncpus = 1) {
        auto kvm = kvmxx::Kvm::open();
        ASSERT_OK(kvm);
        t.kvm = std::move(*kvm);
        auto vm = t.kvm.create_vm();
        ASSERT_OK(vm);
        t.vm = std::move(*vm);
        auto ram = t.vm.add_memory(ram_base, ram_size);
        ASSERT_OK(ram);
        t.ram = *ram;
        // Each VM of the run loads its program at a different address. Under QEMU's
        // TCG (the testbed), a guest that reuses the PC *and* the host page of an
        // earlier test's code was seen executing the earlier code (a stale
        // translation); distinct PCs keep the tests independent of each other.
        static unsigned next_slot = 0;
        t.entry = ram_base + (next_slot++ % (ram_size / program_stride)) * program_stride;
        std::memcpy(t.ram.host + (t.entry - ram_base), program.data(), program.size());
        __builtin___clear_cache(reinterpret_cast<char*>(t.ram.host),
                                reinterpret_cast<char*>(t.ram.host + ram_size));
        for (unsigned i = 0; i < ncpus; ++i) {
            auto cpu = t.vm.create_vcpu(i, {.power_off = i != 0});
            ASSERT_OK(cpu);
            if (i == 0) {
                ASSERT_OK(cpu->set(kvmxx::arm64::reg::pc, t.entry));
            }
            t.cpus.push_back(std::move(*cpu));
        }
    }

    kvmxx::Vcpu& cpu(unsigned i = 0) { return cpus.at(i); }
};

/// Runs until an exit that is not Interrupted; fails the test on a run() error.
inline kvmxx::Exit run(kvmxx::Vcpu& cpu) {
    for (;;) {
        auto exit = cpu.run();
        if (!exit) {
            ADD_FAILURE() << exit.error().message();
            return kvmxx::exit::Unknown{~0u};
        }
        if (!std::holds_alternative<kvmxx::exit::Interrupted>(*exit)) return *exit;
    }
}

/// Runs and expects an exit of kind `Kind`; on any other exit the test fails with a
/// description of what came instead, and a value-initialised `Kind` is returned.
template <class Kind>
Kind expect_exit(kvmxx::Vcpu& cpu, const char* what) {
    auto exit = run(cpu);
    if (auto* k = std::get_if<Kind>(&exit)) return *k;
    ADD_FAILURE() << "expected " << what << " exit, got " << kvmxx::detail::describe_exit(exit, cpu.raw_run().exit_reason);
    return Kind{};
}
inline kvmxx::exit::MmioWrite expect_write(kvmxx::Vcpu& cpu) { return expect_exit<kvmxx::exit::MmioWrite>(cpu, "an MMIO write"); }
inline kvmxx::exit::MmioRead expect_read(kvmxx::Vcpu& cpu) { return expect_exit<kvmxx::exit::MmioRead>(cpu, "an MMIO read"); }
inline kvmxx::exit::SystemEvent expect_system_event(kvmxx::Vcpu& cpu) {
    return expect_exit<kvmxx::exit::SystemEvent>(cpu, "a system event");
}

}  // namespace kvmtest
