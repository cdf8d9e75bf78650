// Fault paths: every fd the library's setup sequence allocates, refused in turn by
// RLIMIT_NOFILE, and guest RAM refused by RLIMIT_AS. Each failure must be one clean
// line naming the call, with the kernel's own errno, and leave no fd, mapping, slot or
// VM behind once the objects built so far are destroyed.
#include "setup_sequence.hpp"

#include <cstdio>
#include <string>

using namespace kvmtest;

namespace {

TEST(KvmFault, EachFdOfTheSetupRefusedInTurnIsEmfileNamingItsCallAndLeavesNothingBehind) {
    REQUIRE_KVM();
    const auto steps = fd_steps();
    {
        KvmSetup warm;  // the heap and the code's pages settle before the first sample
        auto r = setup_kvm(warm);
        ASSERT_TRUE(r) << r.error().message();
    }
    const Usage before = usage();
    ASSERT_GT(before.fds, 0);
    ASSERT_GT(before.mappings, 0);
    const int vms_before = kernel_vms_of_this_process();
    RlimitGuard nofile(RLIMIT_NOFILE);
    ASSERT_TRUE(nofile.ok());
    for (unsigned n = 0;; ++n) {
        ASSERT_LE(n, steps.size()) << "the setup still fails with " << n << " fds to spare";
        const auto fds = open_fds();
        kvmxx::Result<> r;
        std::size_t slots_left = 0;
        int slot_errno = ENOENT;
        {
            KvmSetup s;
            ASSERT_TRUE(nofile.set(nofile_limit_for(fds, n)));
            r = setup_kvm(s);
            nofile.restore();
            slots_left = s.vm.memory_regions().size();
            if (s.vm.valid()) slot_errno = kernel_slot_errno(s.vm, 0, 1 << 20);
            EXPECT_EQ(slot_errno == 0, slots_left == 1) << "n=" << n << ": kvmxx's slots are the kernel's";
#if KVMXX_ARCH_ARM64
            // The GICv3 refused its fd: kvm_vgic_create had already run, and the kernel
            // frees only the device struct on that path, so the VM's GIC exists without an
            // fd and the VM takes no other (a VMM must start again with a new VM).
            if (n == 4) {
                auto again = kvmxx::arm64::Vgic::create(s.vm, kvmxx::arm64::Vgic::Version::V3);
                ASSERT_FALSE(again) << "a second GIC after the first was refused its fd";
                EXPECT_EQ(again.error().errnum(), EEXIST) << again.error().message();
                std::printf("  the GIC again after its fd was refused: %s\n", again.error().message().c_str());
            }
#endif
        }  // everything built so far is destroyed here
        const Usage after = usage();
        EXPECT_EQ(after.fds, before.fds) << "n=" << n << ": " << before.str() << " → " << after.str();
        EXPECT_EQ(after.mappings, before.mappings) << "n=" << n << ": " << before.str() << " → " << after.str();
        if (vms_before >= 0) {
            EXPECT_EQ(kernel_vms_of_this_process(), vms_before) << "n=" << n;
        }
        if (r) {
            EXPECT_EQ(n, steps.size()) << "the setup succeeded with fewer fds than it has steps that take one";
            break;
        }
        ASSERT_LT(n, steps.size()) << r.error().message();
        expect_one_line(r.error(), steps[n], EMFILE);
        std::printf("  fd %u refused: %s (slots in the kernel before the destruction: %zu)\n", n,
                    r.error().message().c_str(), slots_left);
    }
}

TEST(KvmFault, GuestRamBeyondRlimitAsIsEnomemFromMmapAndLeavesNothingMapped) {
    REQUIRE_KVM();
    auto kvm = kvmxx::Kvm::open();
    ASSERT_OK(kvm);
    auto vm = kvm->create_vm();
    ASSERT_OK(vm);
    constexpr std::uint64_t ram_bytes = 256 << 20;
    const Usage before = usage();
    ASSERT_GT(before.vm_size_kib, 0);
    kvmxx::Result<kvmxx::MemoryRegion> ram;
    {
        RlimitGuard as(RLIMIT_AS);
        ASSERT_TRUE(as.ok());
        // Room for the heap to move a little, not for the RAM.
        ASSERT_TRUE(as.set(static_cast<rlim_t>(before.vm_size_kib + (32 << 10)) * 1024));
        ram = vm->add_memory(ram_base, ram_bytes);
    }
    ASSERT_FALSE(ram) << "256 MiB of guest RAM under an address-space limit 32 MiB above the process";
    expect_one_line(ram.error(), "mmap", ENOMEM);
    EXPECT_EQ(ram.error().detail(), "anonymous size=" + std::to_string(ram_bytes));
    std::printf("  %s\n", ram.error().message().c_str());
    const Usage after = usage();
    EXPECT_EQ(after.mappings, before.mappings);
    EXPECT_EQ(after.fds, before.fds);
    EXPECT_TRUE(vm->memory_regions().empty());
    EXPECT_EQ(kernel_slot_errno(*vm, 0, ram_bytes), ENOENT) << "no slot reached the kernel";
    // With the limit restored the same RAM goes in: it was the limit, and nothing of the
    // failed attempt stands in the way.
    auto again = vm->add_memory(ram_base, ram_bytes, kvmxx::MemoryFlags::LogDirtyPages);
    ASSERT_OK(again);
    EXPECT_EQ(kernel_slot_errno(*vm, again->slot, ram_bytes), 0);
}

// The other half of create_vcpu: KVM_CREATE_VCPU succeeds and the kvm_run mmap is
// refused. The vCPU's fd must be closed with no mapping left; the kernel keeps the vCPU
// itself (vCPUs live as long as their VM), so kvmxx counts it and its id is spent.
TEST(KvmFault, AKvmRunPageBeyondRlimitAsIsEnomemFromMmapTheVcpuFdIsClosedAndItsIdSpent) {
    REQUIRE_KVM();
    auto kvm = kvmxx::Kvm::open();
    ASSERT_OK(kvm);
    auto vm = kvm->create_vm();
    ASSERT_OK(vm);
    auto first = vm->create_vcpu(0);  // the heap and the code's pages settle
    ASSERT_OK(first);
    const Usage before = usage();
    ASSERT_GT(before.vm_size_kib, 0);
    kvmxx::Result<kvmxx::Vcpu> cpu;
    {
        RlimitGuard as(RLIMIT_AS);
        ASSERT_TRUE(as.ok());
        ASSERT_TRUE(as.set(static_cast<rlim_t>(before.vm_size_kib) * 1024));  // no new mapping at all
        cpu = vm->create_vcpu(1);
    }
    ASSERT_FALSE(cpu) << "a vCPU whose kvm_run page could not be mapped";
    expect_one_line(cpu.error(), "mmap", ENOMEM);
    EXPECT_NE(cpu.error().detail().find("offset=0"), std::string::npos) << cpu.error().message();
    std::printf("  %s\n", cpu.error().message().c_str());
    const Usage after = usage();
    EXPECT_EQ(after.fds, before.fds) << "the vCPU's fd was closed";
    EXPECT_EQ(after.mappings, before.mappings);
    EXPECT_EQ(vm->vcpu_count(), 2u) << "the kernel's vCPU 1 exists";
    auto again = vm->create_vcpu(1);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().errnum(), EEXIST) << again.error().message();
    auto next = vm->create_vcpu(2);
    ASSERT_OK(next);
}

}  // namespace
