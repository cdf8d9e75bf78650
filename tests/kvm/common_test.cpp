// Real-kernel tests on every architecture: kicks, errors, the trace, capabilities.
#include "test_vm.hpp"

#include <atomic>
#include <thread>

using namespace kvmtest;

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

TEST(KvmCap, HaltPollingIsEnabledPerVmAndAnUnknownCapIsAClearError) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    auto supported = t.vm.check(kvmxx::Cap::HaltPoll);
    ASSERT_OK(supported);
    ASSERT_GT(*supported, 0) << "KVM_CAP_HALT_POLL is generic since Linux 5.15";
    const std::uint64_t ns = 0;  // no polling: a halted vCPU sleeps at once
    ASSERT_OK(t.vm.enable_cap(kvmxx::Cap::HaltPoll, {&ns, 1}));
    auto refused = t.vm.enable_cap(kvmxx::Cap::Hlt);  // a capability that cannot be enabled
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().errnum(), EINVAL);
    EXPECT_NE(refused.error().message().find("KVM_ENABLE_CAP"), std::string::npos);
    EXPECT_NE(refused.error().message().find("KVM_CAP_HLT"), std::string::npos);
}

}  // namespace
