// test_vm.hpp — set up a VM with RAM, a guest program and vCPUs in one call
// (in the spirit of the kernel's KVM selftests library), for the real-kernel tests.
#pragma once

#include <kvmxx/kvmxx.hpp>

#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#define GUEST_PROGRAM(name)                                         \
    extern "C" const std::uint8_t guest_##name[], guest_##name##_end[]; \
    inline std::span<const std::uint8_t> program_##name() {         \
        return {guest_##name, static_cast<std::size_t>(guest_##name##_end - guest_##name)}; \
    }

// Programs every architecture has (kvm/<arch>/guest.S), used by the shared tests.
GUEST_PROGRAM(mmio_rw)
GUEST_PROGRAM(ro_slot)
GUEST_PROGRAM(copy_slots)
GUEST_PROGRAM(dirty_pages)
GUEST_PROGRAM(load_report)
GUEST_PROGRAM(ioevent)
GUEST_PROGRAM(spin)

namespace kvmtest {

inline constexpr std::uint64_t ram_base = 0x4000'0000;
inline constexpr std::uint64_t ram_size = 2 << 20;
inline constexpr std::uint64_t report = 0x0a00'0000;
inline constexpr std::uint64_t program_stride = 0x2000;  // keeps arm64's 2 KiB vector alignment

/// The width of the guest's natural load and store: the arm64 programs move
/// x registers; the x86_64 ones run in real mode, whose widest GPR is 32 bits.
#if KVMXX_ARCH_ARM64
using guest_word = std::uint64_t;
#else
using guest_word = std::uint32_t;
#endif

/// True when KVMXX_HOST_KVM=none asks the suite to behave as on a machine without KVM,
/// so that the no-KVM path (every test SKIPPED with the reason) stays tested on one that has it.
inline bool kvm_hidden() {
    const char* v = std::getenv("KVMXX_HOST_KVM");
    return v != nullptr && std::string_view(v) == "none";
}

inline bool have_kvm() { return !kvm_hidden() && ::access("/dev/kvm", F_OK) == 0; }

/// The kernel module behind /dev/kvm: "kvm_intel", "kvm_amd" or "kvm_pvm" on x86_64
/// (only one vendor module can be loaded at a time), "kvm" on arm64 (built in).
/// Tests of a behaviour a backend does differently ask this and assert what that
/// backend really does (docs/testing.md keeps the table).
inline std::string backend() {
#if KVMXX_ARCH_X86_64
    for (const char* module : {"kvm_pvm", "kvm_intel", "kvm_amd"})
        if (::access((std::string("/sys/module/") + module).c_str(), F_OK) == 0) return module;
    return "unknown";
#else
    return "kvm";
#endif
}
inline bool backend_is_pvm() { return backend() == "kvm_pvm"; }

/// How many fds this process has open (entries of /proc/self/fd), for leak tests.
inline int open_fd_count() {
    // -1 when /proc/self/fd cannot be read, so that a leak test cannot pass as 0 == 0.
    DIR* d = ::opendir("/proc/self/fd");
    if (d == nullptr) return -1;
    int n = 0;
    while (::readdir(d)) ++n;
    ::closedir(d);
    return n;
}

/// The kernel's own counters for a VM or a vCPU: its binary statistics fd
/// (KVM_GET_STATS_FD, api.rst "KVM_GET_STATS_FD"), read by name. What KVM did, as KVM
/// counted it, for tests whose effect no other ioctl reads back (e.g. halt polling).
class Stats {
public:
    /// The statistics of the VM or vCPU behind `kvm_object_fd`; nullopt if the kernel has none.
    static std::optional<Stats> open(int kvm_object_fd) {
        const int fd = ::ioctl(kvm_object_fd, KVM_GET_STATS_FD, 0);
        if (fd < 0) return std::nullopt;
        Stats s;
        s.fd_ = kvmxx::UniqueFd(fd);
        kvm_stats_header h{};
        if (::pread(fd, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h)) return std::nullopt;
        // Each descriptor: flags, exponent, size, offset, bucket_size (16 bytes), then the name.
        constexpr std::size_t fixed = 16;
        const std::size_t each = fixed + h.name_size;
        std::vector<char> descs(each * h.num_desc);
        if (::pread(fd, descs.data(), descs.size(), h.desc_offset) != static_cast<ssize_t>(descs.size()))
            return std::nullopt;
        for (std::size_t i = 0; i < h.num_desc; ++i) {
            const char* d = descs.data() + i * each;
            std::uint32_t offset = 0;
            std::memcpy(&offset, d + 8, sizeof offset);
            s.offsets_[std::string(d + fixed, ::strnlen(d + fixed, h.name_size))] = h.data_offset + offset;
        }
        return s;
    }

    /// The current value of the statistic `name` (its first word), or nullopt if there is none.
    std::optional<std::uint64_t> get(const std::string& name) const {
        auto it = offsets_.find(name);
        if (it == offsets_.end()) return std::nullopt;
        std::uint64_t v = 0;
        if (::pread(fd_.get(), &v, sizeof v, it->second) != static_cast<ssize_t>(sizeof v)) return std::nullopt;
        return v;
    }

private:
    kvmxx::UniqueFd fd_;
    std::map<std::string, off_t> offsets_;
};

#define REQUIRE_KVM()                                                                            \
    do {                                                                                         \
        if (!kvmtest::have_kvm()) {                                                              \
            GTEST_SKIP() << (kvmtest::kvm_hidden() ? "KVMXX_HOST_KVM=none hides /dev/kvm"          \
                                                   : "no /dev/kvm")                              \
                         << ": run this suite in the testbed (tests/testbed/run)";               \
        }                                                                                        \
    } while (0)

/// Fails the current test with the library's own message when `r` holds an error.
#define ASSERT_OK(r) ASSERT_TRUE(r) << (r).error().message()

#if KVMXX_ARCH_ARM64
/// vCPU `id` initialised with PSCI 0.2; vCPU 0 starts at `entry`, the others powered off.
inline kvmxx::Result<kvmxx::Vcpu> create_vcpu_at(kvmxx::Vm& vm, unsigned id, std::uint64_t entry) {
    auto cpu = vm.create_vcpu(id, {.power_off = id != 0});
    if (!cpu || id != 0) return cpu;
    if (auto r = cpu->set(kvmxx::arm64::reg::pc, entry); !r) return kvmxx::unexpected<kvmxx::Error>(r.error());
    return cpu;
}

/// The shared programs take their inputs in registers: arm64 names them x2..x7.
inline kvmxx::Result<> set_arg(kvmxx::Vcpu& cpu, unsigned x, std::uint64_t value) {
    return cpu.set(kvmxx::arm64::reg::x(x), value);
}
#else
/// vCPU `id` in unreal mode (kvmxx::x86::enter_unreal_mode): CS based at `entry` with
/// IP 0 (so the programs need no relocation), data and stack segments flat from 0.
inline kvmxx::Result<kvmxx::Vcpu> create_vcpu_at(kvmxx::Vm& vm, unsigned id, std::uint64_t entry) {
    auto cpu = vm.create_vcpu(id);
    if (!cpu) return cpu;
    if (auto r = kvmxx::x86::enter_unreal_mode(*cpu, entry, ram_base + ram_size - 0x10); !r)
        return kvmxx::unexpected<kvmxx::Error>(r.error());
    return cpu;
}

/// The shared programs take their inputs in registers named after arm64's x2..x7;
/// the x86_64 programs use eax (x2), ecx (x3), edx (x4), esi (x5), edi (x7).
inline kvmxx::Result<> set_arg(kvmxx::Vcpu& cpu, unsigned x, std::uint64_t value) {
    auto regs = cpu.regs();
    if (!regs) return kvmxx::unexpected<kvmxx::Error>(regs.error());
    switch (x) {
        case 2: regs->rax = value; break;
        case 3: regs->rcx = value; break;
        case 4: regs->rdx = value; break;
        case 5: regs->rsi = value; break;
        case 7: regs->rdi = value; break;
        default: return kvmxx::fail("set_arg", EINVAL, "no x86_64 register stands for x" + std::to_string(x));
    }
    return cpu.set_regs(*regs);
}
#endif

/// A VM with RAM at ram_base holding `program`, and vCPUs 0..n-1 starting there.
struct TestVm {
    kvmxx::Kvm kvm;
    kvmxx::Vm vm;
    kvmxx::MemoryRegion ram;
    std::vector<kvmxx::Vcpu> cpus;
    std::uint64_t entry = ram_base;  ///< where the program was loaded and vCPU 0 starts

    /// Everything in one call. On arm64 secondaries start powered off (they wait
    /// for PSCI CPU_ON); on x86_64 every vCPU starts in real mode at the program.
    static void create(TestVm& t, std::span<const std::uint8_t> program, unsigned ncpus = 1) {
        open(t);
        if (::testing::Test::HasFatalFailure()) return;
        load(t, program, ncpus);
    }

    /// The first half of create(): /dev/kvm, a VM and its RAM, no vCPUs yet (for
    /// what must happen before the first vCPU, such as some KVM_ENABLE_CAPs).
    static void open(TestVm& t) {
        auto kvm = kvmxx::Kvm::open();
        ASSERT_OK(kvm);
        t.kvm = std::move(*kvm);
        auto vm = t.kvm.create_vm();
        ASSERT_OK(vm);
        t.vm = std::move(*vm);
        auto ram = t.vm.add_memory(ram_base, ram_size);
        ASSERT_OK(ram);
        t.ram = *ram;
    }

    /// The second half: copies `program` into RAM and creates vCPUs 0..ncpus-1 at it.
    static void load(TestVm& t, std::span<const std::uint8_t> program, unsigned ncpus = 1) {
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
            auto cpu = create_vcpu_at(t.vm, i, t.entry);
            ASSERT_OK(cpu);
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
    ADD_FAILURE() << "expected " << what << " exit, got " << kvmxx::describe(exit);
    return Kind{};
}
inline kvmxx::exit::MmioWrite expect_write(kvmxx::Vcpu& cpu) { return expect_exit<kvmxx::exit::MmioWrite>(cpu, "an MMIO write"); }
inline kvmxx::exit::MmioRead expect_read(kvmxx::Vcpu& cpu) { return expect_exit<kvmxx::exit::MmioRead>(cpu, "an MMIO read"); }
inline kvmxx::exit::SystemEvent expect_system_event(kvmxx::Vcpu& cpu) {
    return expect_exit<kvmxx::exit::SystemEvent>(cpu, "a system event");
}

}  // namespace kvmtest
