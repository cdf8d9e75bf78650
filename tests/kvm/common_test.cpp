// Real-kernel tests on every architecture: kicks, errors, the trace, capabilities.
#include "test_vm.hpp"

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

// A guest that halts and never wakes by itself, so that only a kick ends each halt:
// x86 HLT with IF clear (with the LAPIC in the kernel the vCPU halts inside KVM), arm64
// WFI (which KVM traps and turns into a halt inside KVM), each in a loop.
#if KVMXX_ARCH_ARM64
#define HALT_LOOP_BODY "1:  wfi\n    b 1b\n"
#else
#define HALT_LOOP_BODY "1:  hlt\n    jmp 1b\n"
#endif
asm(".pushsection .rodata.guest_halt_loop, \"a\"\n"
    ".balign 16\n"
    ".globl guest_halt_loop\n"
    "guest_halt_loop:\n" HALT_LOOP_BODY
    ".globl guest_halt_loop_end\n"
    "guest_halt_loop_end:\n"
    ".popsection\n");
GUEST_PROGRAM(halt_loop)

using namespace kvmtest;
using namespace std::chrono_literals;

namespace {

TEST(KvmOpen, RealDevKvmReportsApiVersion12) {
    REQUIRE_KVM();
    auto kvm = kvmxx::Kvm::open();
    ASSERT_OK(kvm);
    auto version = kvm->api_version();
    ASSERT_OK(version);
    EXPECT_EQ(*version, 12);
    auto mmap_size = kvm->vcpu_mmap_size();
    ASSERT_OK(mmap_size);
    EXPECT_GE(*mmap_size, sizeof(kvm_run));
    auto vm = kvm->create_vm();
    ASSERT_OK(vm);
}

TEST(KvmKick, ThousandKicksFromAnotherThreadEachInterruptRun) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    auto kicker = t.cpu().kicker();
    std::atomic<int> phase{0};  // 1: armed by the vCPU thread, 2: kicked
    constexpr int kicks = 1000;
    std::thread other([&] {
        for (int i = 0; i < kicks; ++i) {
            while (phase.load() != 1) std::this_thread::yield();
            kicker.kick();
            phase.store(2);
        }
    });
    int interrupted = 0;
    for (int i = 0; i < kicks; ++i) {
        phase.store(1);
        auto exit = t.cpu().run();
        ASSERT_OK(exit);
        if (std::holds_alternative<kvmxx::exit::Interrupted>(*exit)) ++interrupted;
        while (phase.load() != 2) std::this_thread::yield();
    }
    other.join();
    EXPECT_EQ(interrupted, kicks);
    EXPECT_EQ(t.cpu().raw_run().immediate_exit, 0) << "run() must clear immediate_exit after a kick";
}

TEST(KvmErrors, DuplicateVcpuIdIsEexistWithHint) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    auto again = t.vm.create_vcpu(0);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().errnum(), EEXIST);
    EXPECT_STREQ(again.error().operation(), "KVM_CREATE_VCPU");
    EXPECT_NE(again.error().hint().find("once per VM"), std::string::npos);
}

TEST(KvmTrace, RunLinesDecodeTheExit) {
    REQUIRE_KVM();
    std::vector<std::string> lines;
    kvmxx::trace::set_sink([](std::string_view l, void* v) { static_cast<std::vector<std::string>*>(v)->emplace_back(l); },
                           &lines);
    TestVm t;
    TestVm::create(t, program_mmio_rw());
    ASSERT_OK(set_arg(t.cpu(), 2, 0x42));
    kvmxx::trace::enable();
    (void)expect_write(t.cpu());
    kvmxx::trace::disable();
    kvmxx::trace::set_sink(nullptr);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "KVM_RUN vcpu=0 exit=KVM_EXIT_MMIO dir=write addr=0xa000000 len=4 data=0x42 -> 0");
}

/// A parameter of the kvm module (/sys/module/kvm/parameters/NAME), or nullopt.
std::optional<std::uint64_t> kvm_param(const char* name) {
    std::ifstream in(std::string("/sys/module/kvm/parameters/") + name);
    std::uint64_t v = 0;
    if (!(in >> v)) return std::nullopt;
    return v;
}

/// Runs halt_loop in a VM whose halt polling is capped at `max_poll_ns` (KVM_CAP_HALT_POLL):
/// `halts` times the vCPU halts inside KVM, and once the kernel's own "blocking" statistic
/// says it sleeps, a kick ends that halt. `polls` is then the vCPU's halt_attempted_poll.
void halt_polls(std::uint64_t max_poll_ns, int halts, std::uint64_t& polls) {
    TestVm t;
    TestVm::open(t);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    ASSERT_OK(t.vm.enable_cap(kvmxx::Cap::HaltPoll, {&max_poll_ns, 1}));
#if KVMXX_ARCH_X86_64
    ASSERT_OK(t.vm.create_irqchip());  // else the guest's HLT is an exit, not a halt inside KVM
#endif
    TestVm::load(t, program_halt_loop());
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    auto stats = Stats::open(t.cpu().fd());
    ASSERT_TRUE(stats) << "KVM_GET_STATS_FD on the vCPU (KVM_CAP_BINARY_STATS_FD, Linux 5.14)";
    ASSERT_TRUE(stats->get("blocking")) << "no \"blocking\" vCPU statistic";
    ASSERT_TRUE(stats->get("halt_attempted_poll")) << "no \"halt_attempted_poll\" vCPU statistic";
    for (int i = 0; i < halts; ++i) {
        std::atomic<bool> blocked{false};
        auto kicker = t.cpu().kicker();
        std::thread waker([&] {
            for (int ms = 0; ms < 20'000 && !blocked; ++ms) {
                if (stats->get("blocking") == 1u) blocked = true;
                else std::this_thread::sleep_for(1ms);
            }
            kicker.kick();  // ends the halt (or, had it never come, the run)
        });
        auto exit = t.cpu().run();
        waker.join();
        ASSERT_OK(exit);
        ASSERT_TRUE(std::holds_alternative<kvmxx::exit::Interrupted>(*exit)) << kvmxx::describe(*exit);
        ASSERT_TRUE(blocked) << "halt " << i << ": the vCPU never blocked inside KVM in 20 s";
    }
    polls = *stats->get("halt_attempted_poll");
}

// KVM_CAP_HALT_POLL sets the VM's maximum halt-polling time (api.rst 7.24); nothing reads
// it back, so the test reads its effect in the vCPU's statistics. With 0 KVM never polls
// before it blocks a halted vCPU. With a maximum longer than the halts, each halt that
// ends sooner than it grows the vCPU's poll window (virt/kvm/kvm_main.c, kvm_vcpu_halt:
// to halt_poll_ns_grow_start, then times halt_poll_ns_grow), so every later halt polls
// first: 3 halts, at least 2 polls.
TEST(KvmCap, HaltPollingIsEnabledPerVmAndTheVcpuPollsOnlyWhenItsVmAllowsIt) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    auto supported = t.vm.check(kvmxx::Cap::HaltPoll);
    ASSERT_OK(supported);
    ASSERT_GT(*supported, 0) << "KVM_CAP_HALT_POLL is generic since Linux 5.15";
    ASSERT_GT(*t.vm.check(kvmxx::Cap::BinaryStatsFd), 0) << "the test reads the effect from the stats fd";

    std::uint64_t without = ~0ull, with = 0;
    halt_polls(0, 3, without);
    ASSERT_FALSE(HasFatalFailure());
    EXPECT_EQ(without, 0u) << "halt polling capped at 0 ns, yet KVM polled";
    halt_polls(2'000'000'000, 3, with);
    ASSERT_FALSE(HasFatalFailure());
    const auto grow = kvm_param("halt_poll_ns_grow"), start = kvm_param("halt_poll_ns_grow_start");
    ASSERT_TRUE(grow && start) << "/sys/module/kvm/parameters/halt_poll_ns_grow{,_start} unreadable";
    if (*grow != 0 && *start != 0)
        EXPECT_GE(with, 2u) << "halt polling allowed for 2 s, yet KVM did not poll before the 2nd and 3rd halts";
    else
        EXPECT_EQ(with, 0u) << "this kernel never grows the poll window (kvm.halt_poll_ns_grow=0)";

    const std::uint64_t too_long = 1ull << 32;  // the maximum is an unsigned int of ns
    auto invalid = t.vm.enable_cap(kvmxx::Cap::HaltPoll, {&too_long, 1});
    ASSERT_FALSE(invalid);
    EXPECT_EQ(invalid.error().errnum(), EINVAL);

    auto refused = t.vm.enable_cap(kvmxx::Cap::Hlt);  // a capability that cannot be enabled
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().errnum(), EINVAL);
    EXPECT_NE(refused.error().message().find("KVM_ENABLE_CAP"), std::string::npos);
    EXPECT_NE(refused.error().message().find("KVM_CAP_HLT"), std::string::npos);

    // kvmxx's own guard, not the kernel's: kvm_enable_cap has four arguments, and a
    // fifth was once dropped without a word.
    const std::uint64_t five[5] = {1, 0, 0, 0, 0};
    auto too_many = t.vm.enable_cap(kvmxx::Cap::HaltPoll, five);
    ASSERT_FALSE(too_many);
    EXPECT_EQ(too_many.error().errnum(), EINVAL);
    EXPECT_NE(too_many.error().message().find("5 arguments given, kvm_enable_cap has 4"), std::string::npos)
        << too_many.error().message();
}

// KVM_CHECK_EXTENSION on /dev/kvm (api.rst 4.4): 0 for what the kernel lacks, 1 or a
// number for what it has. KVM_CAP_USER_MEMORY is 1 on every kernel kvmxx runs on; an
// s390-only capability is 0 elsewhere; KVM_CAP_NR_VCPUS is the recommended and
// KVM_CAP_MAX_VCPUS the maximum number of vCPUs (api.rst 4.7 "KVM_CREATE_VCPU").
TEST(KvmCap, SystemCheckExtensionSaysWhatTheKernelHasAndHasAgrees) {
    REQUIRE_KVM();
    auto kvm = kvmxx::Kvm::open();
    ASSERT_OK(kvm);
    auto user_memory = kvm->check(kvmxx::Cap::UserMemory);
    ASSERT_OK(user_memory);
    EXPECT_EQ(*user_memory, 1);
    auto s390 = kvm->check(kvmxx::Cap::S390Psw);
    ASSERT_OK(s390);
    EXPECT_EQ(*s390, 0) << "KVM_CAP_S390_PSW on a kernel that is not s390's";
    EXPECT_TRUE(kvm->has(kvmxx::Cap::UserMemory));
    EXPECT_FALSE(kvm->has(kvmxx::Cap::S390Psw));
    auto recommended = kvm->check(kvmxx::Cap::NrVcpus);
    auto maximum = kvm->check(kvmxx::Cap::MaxVcpus);
    ASSERT_OK(recommended);
    ASSERT_OK(maximum);
    EXPECT_GT(*recommended, 0);
    EXPECT_GE(*maximum, *recommended);
    auto slots = kvm->check(kvmxx::Cap::NrMemslots);
    ASSERT_OK(slots);
    EXPECT_GE(*slots, 32) << "KVM_CAP_NR_MEMSLOTS";
}

// Kvm::create_vm with explicit options. On arm64 ipa_bits is the VM's IPA size
// (api.rst 4.2, KVM_VM_TYPE_ARM_IPA_SIZE): the kernel refuses a memory slot that ends
// above 2^ipa_bits (EFAULT, arch/arm64/kvm/mmu.c). x86 has one VM type: the options
// that exist are the defaults, and the VM they make runs a guest.
TEST(KvmCreateVm, OptionsChooseTheVmTypeAndTheKernelHoldsTheVmToIt) {
    REQUIRE_KVM();
    auto kvm = kvmxx::Kvm::open();
    ASSERT_OK(kvm);
    auto vm = kvm->create_vm(kvmxx::VmOptions{.ipa_bits = 0});
    ASSERT_OK(vm);
    ASSERT_OK(vm->add_memory(ram_base, 0x1000));
#if KVMXX_ARCH_ARM64
    auto host_max = kvm->check(kvmxx::Cap::ArmVmIpaSize);
    ASSERT_OK(host_max);
    ASSERT_GT(*host_max, 36) << "the testbed's host has more than 36 IPA bits";
    constexpr std::uint64_t top = 1ull << 36;
    ASSERT_OK(vm->add_memory(top, 0x1000)) << "the default is the host's limit";
    auto small = kvm->create_vm({.ipa_bits = 36});
    ASSERT_OK(small);
    ASSERT_OK(small->add_memory(top - 0x1000, 0x1000)) << "the last page below 2^36";
    auto above = small->add_memory(top, 0x1000);
    ASSERT_FALSE(above) << "a slot above the VM's 36-bit IPA space";
    EXPECT_EQ(above.error().errnum(), EFAULT);
    EXPECT_STREQ(above.error().operation(), "KVM_SET_USER_MEMORY_REGION");
#else
    constexpr std::uint64_t code = 0x7000'0000;  // a PC no other VM of the run uses (test_vm.hpp)
    auto ram = vm->add_memory(code, 0x1000);
    ASSERT_OK(ram);
    std::memcpy(ram->host, program_mmio_rw().data(), program_mmio_rw().size());
    auto cpu = create_vcpu_at(*vm, 0, code);
    ASSERT_OK(cpu);
    ASSERT_OK(set_arg(*cpu, 2, 0x0b7));
    auto w = expect_write(*cpu);
    EXPECT_EQ(w.address, report);
    EXPECT_EQ(w.value(), 0x0b7u);
#endif
}

}  // namespace
