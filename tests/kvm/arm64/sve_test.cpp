// SVE on a real arm64 KVM: the init → KVM_REG_ARM64_SVE_VLS → finalize sequence
// (Vcpu::init, set_sve_vector_lengths, finalize_sve), what the guest then sees
// (its ID register and its vector length), and that its Z registers keep their
// values while two vCPU threads take turns on one host CPU.
#include "../test_vm.hpp"

#include <kvmxx/kvmxx.hpp>

#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <thread>

using namespace kvmtest;
namespace arm64 = kvmxx::arm64;

GUEST_PROGRAM(sve_keep)

namespace {

/// The host's vector lengths, as an SVE vCPU finalized with no set of its own has them.
arm64::SveVectorLengths host_lengths(kvmxx::Vm& vm, unsigned id) {
    auto cpu = vm.create_vcpu(id, {.sve = true});
    auto l = cpu.and_then([](const kvmxx::Vcpu& c) { return c.sve_vector_lengths(); });
    if (l) return *l;
    ADD_FAILURE() << l.error().message();
    return {};
}

/// The host's lengths up to `max_bits`: the sets KVM accepts.
arm64::SveVectorLengths truncated(const arm64::SveVectorLengths& host, unsigned max_bits) {
    arm64::SveVectorLengths l;
    for (unsigned b : host.bits())
        if (b <= max_bits) l.add_vq(b / 128);
    return l;
}

struct SveRun {
    std::uint64_t vl_bytes = 0, rounds_left = ~0ull;
    bool kept = false;
};

/// Runs sve_keep on `cpu` until it reports; each round's exit yields the host CPU.
SveRun run_sve_keep(kvmxx::Vcpu& cpu) {
    SveRun r;
    for (;;) {
        const kvmxx::Exit exit = run(cpu);
        auto* w = std::get_if<kvmxx::exit::MmioWrite>(&exit);
        if (!w) {
            ADD_FAILURE() << "unexpected " << kvmxx::describe(exit);
            return r;
        }
        switch (w->address - report) {
            case 0: r.vl_bytes = w->value(); break;
            case 8: sched_yield(); break;  // the other vCPU's thread runs here
            case 16: r.kept = true; return r;
            case 24: r.rounds_left = w->value(); return r;
            default: ADD_FAILURE() << "unexpected report " << kvmxx::describe(exit); return r;
        }
    }
}

}  // namespace

TEST(KvmSve, ViewOfTheVectorLengthsIsTheHostsUntilSetAndTheGuestSeesSve) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::open(t);
    if (HasFatalFailure()) return;
    ASSERT_TRUE(t.kvm.has(kvmxx::Cap::ArmSve)) << "the testbed's -cpu max has SVE";
    const auto host = host_lengths(t.vm, 0);
    ASSERT_TRUE(host.has_bits(128)) << "every SVE implementation has 128-bit vectors; host: " << host.to_string();
    // The ID register the guest reads says SVE on an SVE vCPU, and not on another.
    // A second VM for the vCPU without the feature: from Linux 6.7 on the features are
    // VM-wide (the first KVM_ARM_VCPU_INIT fixes them; another set is EINVAL).
    auto other_vm = t.kvm.create_vm();
    ASSERT_OK(other_vm);
    auto plain = other_vm->create_vcpu(1, {});
    ASSERT_OK(plain);
    auto sve = t.vm.create_vcpu(2, {.sve = true, .sve_lengths = truncated(host, 128)});
    ASSERT_OK(sve);
    EXPECT_EQ(arm64::id_aa64pfr0_sve(*sve->get(arm64::sysreg::ID_AA64PFR0_EL1)), 1u);
    EXPECT_EQ(arm64::id_aa64pfr0_sve(*plain->get(arm64::sysreg::ID_AA64PFR0_EL1)), 0u);
    // After finalize the set is what was asked, and fixed: the kernel says EPERM.
    auto set = sve->sve_vector_lengths();
    ASSERT_OK(set);
    EXPECT_EQ(set->bits(), std::vector<unsigned>{128});
    auto late = sve->set_sve_vector_lengths(host);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().errnum(), EPERM) << late.error().message();
    auto again = sve->finalize_sve();
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().errnum(), EPERM) << "finalized once, by init: " << again.error().message();
    // A plain vCPU has no VLS register (ENOENT), and lengths without SVE are refused.
    auto none = plain->sve_vector_lengths();
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().errnum(), ENOENT) << none.error().message();
    auto mixed = other_vm->create_vcpu(3, {.sve_lengths = host});
    ASSERT_FALSE(mixed);
    EXPECT_NE(mixed.error().message().find("without the SVE feature"), std::string::npos) << mixed.error().message();
}

TEST(KvmSve, ALengthLeftOutBelowTheMaximumIsRefusedNamingTheHostsSet) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::open(t);
    if (HasFatalFailure()) return;
    const auto host = host_lengths(t.vm, 0);
    const auto bits = host.bits();
    ASSERT_GE(bits.size(), 2u) << "the testbed's -cpu max has several vector lengths; host: " << host.to_string();
    // {128, max}: 256 (or whatever lies between) left out.
    auto gap = arm64::SveVectorLengths::of_bits({bits.front(), bits.back()});
    ASSERT_OK(gap);
    auto refused = t.vm.create_vcpu(1, {.sve = true, .sve_lengths = *gap});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().errnum(), EINVAL);
    EXPECT_NE(refused.error().message().find("KVM takes the host's lengths (" + host.to_string() + ")"), std::string::npos)
        << refused.error().message();
    // Lengths that are no lengths never reach the kernel.
    auto odd = arm64::SveVectorLengths::of_bits({100});
    ASSERT_FALSE(odd);
    EXPECT_EQ(odd.error().detail(), "100 bits is not a vector length: give multiples of 128 up to 2048");
}

TEST(KvmSve, ZRegistersKeepTheirValuesWhileTwoVcpuThreadsShareOneHostCpu) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::open(t);
    if (HasFatalFailure()) return;
    TestVm::load(t, program_sve_keep(), 0);
    const auto host = host_lengths(t.vm, 0);
    const auto bits = host.bits();
    ASSERT_GE(bits.size(), 2u) << host.to_string();
    // vCPU 1 may use every length, vCPU 2 only up to the second shortest: their
    // vector lengths differ, so a register file handed over wrongly shows.
    const arm64::SveVectorLengths sets[2] = {host, truncated(host, bits[1])};
    const std::uint8_t patterns[2] = {0x5a, 0xc3};
    constexpr std::uint64_t rounds = 200;
    std::vector<kvmxx::Vcpu> cpus;
    for (unsigned i = 0; i < 2; ++i) {
        auto cpu = t.vm.create_vcpu(i + 1, {.sve = true, .sve_lengths = sets[i]});
        ASSERT_OK(cpu);
        ASSERT_OK(cpu->set(arm64::reg::pc, t.entry));
        ASSERT_OK(set_arg(*cpu, 2, patterns[i]));
        ASSERT_OK(set_arg(*cpu, 3, rounds));
        cpus.push_back(std::move(*cpu));
    }
    SveRun runs[2];
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < 2; ++i)
        threads.emplace_back([&, i] {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(0, &one);  // both threads on host CPU 0: they must take turns
            sched_setaffinity(0, sizeof one, &one);
            runs[i] = run_sve_keep(cpus[i]);
        });
    for (auto& th : threads) th.join();
    for (unsigned i = 0; i < 2; ++i) {
        SCOPED_TRACE("vCPU " + std::to_string(i + 1));
        EXPECT_EQ(runs[i].vl_bytes, sets[i].max_bits() / 8) << "the guest's vector length is its set's longest";
        EXPECT_TRUE(runs[i].kept) << "z0/z31 changed with " << runs[i].rounds_left << " rounds left";
        // KVM's view of Z0 after the run: the pattern in every byte of the vector length.
        auto z0 = cpus[i].get(arm64::sve::z(0));
        ASSERT_OK(z0);
        const auto vl = std::min<std::size_t>(runs[i].vl_bytes, z0->size());
        EXPECT_TRUE(std::all_of(z0->begin(), z0->begin() + static_cast<std::ptrdiff_t>(vl),
                                [&](std::uint8_t b) { return b == patterns[i]; }));
    }
}
