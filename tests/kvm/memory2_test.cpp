// Real-kernel tests of the memory API of Linux 6.8-6.18 (issue 13): memory slots v2
// (KVM_SET_USER_MEMORY_REGION2), guest_memfd (KVM_CREATE_GUEST_MEMFD), memory attributes
// (KVM_SET_MEMORY_ATTRIBUTES), pre-faulting (KVM_PRE_FAULT_MEMORY) and x86 VM types
// (KVM_CAP_VM_TYPES). Each test asserts the whole behaviour where the kernel offers the
// capability, and where it does not, kvmxx's one-line refusal naming the capability
// (EOPNOTSUPP, before any ioctl) together with what the raw ioctl really does on that
// kernel, so that no test skips on a kernel that lacks the feature. What each kernel was
// seen to offer is in docs/testing.md ("Backends").
#include "test_vm.hpp"

#include <sys/utsname.h>

using namespace kvmtest;

namespace {

constexpr std::uint64_t slot_gpa = 0x5000'0000;
constexpr std::uint64_t slot_bytes = 16 * 0x1000;

/// The capability on the VM (KVM_CHECK_EXTENSION on the VM fd), 0 when absent.
int vm_cap(const kvmxx::Vm& vm, kvmxx::Cap cap) {
    auto r = vm.check(cap);
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : 0;
}

std::string kernel_release() {
    utsname u{};
    ::uname(&u);
    return u.release;
}

/// kvmxx's refusal of a call the kernel has no capability for: EOPNOTSUPP, one line,
/// naming the ioctl and the capability.
void expect_refusal(const kvmxx::Error& e, const char* op, const char* cap) {
    const std::string m = e.message();
    EXPECT_EQ(e.errnum(), EOPNOTSUPP) << m;
    EXPECT_STREQ(e.operation(), op) << m;
    EXPECT_NE(m.find(cap), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    std::printf("refused on %s: %s\n", kernel_release().c_str(), m.c_str());
}

/// The guest (dirty_pages) writes `value` to pages 1, 5 and 9 of the slot at slot_gpa.
void run_dirty_pages(TestVm& t, std::uint64_t value) {
    ASSERT_OK(set_arg(t.cpu(), 5, slot_gpa));
    ASSERT_OK(set_arg(t.cpu(), 2, value));
    auto w = expect_write(t.cpu());
    EXPECT_EQ(w.address, report);
    EXPECT_EQ(w.value(), static_cast<guest_word>(value));
}

/// What the kernel answers a VM ioctl it does not have: ENOTTY from x86's
/// kvm_arch_vm_ioctl, EINVAL from arm64's (seen on 6.1 and 7.3).
constexpr int unknown_ioctl_errno() {
#if KVMXX_ARCH_ARM64
    return EINVAL;
#else
    return ENOTTY;
#endif
}

guest_word word_at(const std::uint8_t* host, std::uint64_t offset) {
    guest_word v{};
    std::memcpy(&v, host + offset, sizeof v);
    return v;
}

// api.rst "KVM_SET_USER_MEMORY_REGION2": the v1 slot plus a guest_memfd; with no
// guest_memfd it is the v1 slot, and the guest writes through it to the host's memory.
TEST(KvmMemory2, ARegion2SlotOfUserMemoryIsWhatTheGuestWritesAndBadSlotsGetTheKernelsErrno) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_dirty_pages());
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    auto backing = kvmxx::Mapping::anonymous(slot_bytes);
    ASSERT_OK(backing);
    kvmxx::uapi::UserspaceMemoryRegion2 r{};
    r.slot = 7;
    r.guest_phys_addr = slot_gpa;
    r.memory_size = slot_bytes;
    r.userspace_addr = reinterpret_cast<std::uint64_t>(backing->data());
    auto made = t.vm.set_user_memory_region2(r);

    if (vm_cap(t.vm, kvmxx::Cap::UserMemory2) == 0) {
        ASSERT_FALSE(made);
        expect_refusal(made.error(), "KVM_SET_USER_MEMORY_REGION2", "KVM_CAP_USER_MEMORY2");
        // The kernel really has no such ioctl: ENOTTY, or EINVAL on arm64, which would read
        // as a bad argument (what kvmxx's refusal spares the caller).
        EXPECT_EQ(::ioctl(t.vm.fd(), kvmxx::uapi::set_user_memory_region2, &r), -1);
        EXPECT_EQ(errno, unknown_ioctl_errno());
        return;
    }
    ASSERT_OK(made);
    run_dirty_pages(t, 0x5a5a1234);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    for (std::uint64_t page = 0; page < slot_bytes / 0x1000; ++page) {
        const bool written = page == 1 || page == 5 || page == 9;
        EXPECT_EQ(word_at(backing->data(), page * 0x1000), written ? guest_word{0x5a5a1234} : guest_word{0}) << "page " << page;
    }

    // Overlap: another slot over the same guest-physical range.
    auto overlap = r;
    overlap.slot = 8;
    overlap.guest_phys_addr = slot_gpa + 0x4000;
    auto e1 = t.vm.set_user_memory_region2(overlap);
    ASSERT_FALSE(e1);
    EXPECT_EQ(e1.error().errnum(), EEXIST) << e1.error().message();
    EXPECT_STREQ(e1.error().operation(), "KVM_SET_USER_MEMORY_REGION2");
    EXPECT_NE(e1.error().message().find("overlaps"), std::string::npos) << e1.error().message();
    // Unaligned guest-physical address.
    auto unaligned = r;
    unaligned.slot = 8;
    unaligned.guest_phys_addr = 0x6000'0800;
    auto e2 = t.vm.set_user_memory_region2(unaligned);
    ASSERT_FALSE(e2);
    EXPECT_EQ(e2.error().errnum(), EINVAL) << e2.error().message();
    EXPECT_NE(e2.error().message().find("page aligned"), std::string::npos) << e2.error().message();
    // A slot id at KVM_CAP_NR_MEMSLOTS, one past the last.
    auto slots = t.kvm.check(kvmxx::Cap::NrMemslots);
    ASSERT_OK(slots);
    auto out_of_range = r;
    out_of_range.slot = static_cast<std::uint32_t>(*slots);
    out_of_range.guest_phys_addr = 0x7000'0000;
    auto e3 = t.vm.set_user_memory_region2(out_of_range);
    ASSERT_FALSE(e3);
    EXPECT_EQ(e3.error().errnum(), EINVAL) << e3.error().message();
    std::printf("%s: %s\n", kernel_release().c_str(), e3.error().message().c_str());
    // Deleting it with size 0 (v2 as v1).
    auto gone = r;
    gone.memory_size = 0;
    ASSERT_OK(t.vm.set_user_memory_region2(gone));
}

// api.rst "KVM_CREATE_GUEST_MEMFD". With GUEST_MEMFD_FLAG_MMAP (Linux 6.18, where the VM
// offers it) a normal VM's slot is backed by the guest_memfd and the host sees the guest's
// stores through its own mapping of it.
TEST(KvmGuestMemfd, AGuestMemfdIsCreatedSizedAndWhereMappableBacksASlotTheGuestWrites) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_dirty_pages());
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    auto gmem = t.vm.create_guest_memfd(slot_bytes);
    if (vm_cap(t.vm, kvmxx::Cap::GuestMemfd) == 0) {
        ASSERT_FALSE(gmem);
        expect_refusal(gmem.error(), "KVM_CREATE_GUEST_MEMFD", "KVM_CAP_GUEST_MEMFD");
        kvmxx::uapi::CreateGuestMemfd c{};
        c.size = slot_bytes;
        EXPECT_EQ(::ioctl(t.vm.fd(), kvmxx::uapi::create_guest_memfd, &c), -1);
        EXPECT_EQ(errno, unknown_ioctl_errno());
        // Nothing to bind either: the slot call is refused as well, before the ioctl.
        kvmxx::GuestMemfd none;
        EXPECT_FALSE(none.valid());
        EXPECT_EQ(none.flags(), kvmxx::GuestMemfdFlags::None);
        auto slot = t.vm.add_guest_memfd_memory(slot_gpa, none, 0, slot_bytes);
        ASSERT_FALSE(slot);
        expect_refusal(slot.error(), "KVM_SET_USER_MEMORY_REGION2",
                       vm_cap(t.vm, kvmxx::Cap::UserMemory2) == 0 ? "KVM_CAP_USER_MEMORY2" : "KVM_CAP_GUEST_MEMFD");
        return;
    }
    ASSERT_OK(gmem);
    EXPECT_TRUE(gmem->valid());
    EXPECT_EQ(gmem->flags(), kvmxx::GuestMemfdFlags::None);
    EXPECT_EQ(gmem->size(), slot_bytes);
    EXPECT_GE(gmem->fd(), 0);
    // Size not a multiple of the page: the kernel's EINVAL, with kvmxx's hint.
    auto odd = t.vm.create_guest_memfd(0x1800);
    ASSERT_FALSE(odd);
    EXPECT_EQ(odd.error().errnum(), EINVAL);
    EXPECT_NE(odd.error().message().find("multiple of the page size"), std::string::npos) << odd.error().message();

    const int flags = vm_cap(t.vm, kvmxx::Cap::GuestMemfdFlags);
    std::printf("%s: KVM_CAP_GUEST_MEMFD_FLAGS = %#x\n", kernel_release().c_str(), flags);
    if ((flags & 1) == 0) {
        auto mapped = gmem->map();
        ASSERT_FALSE(mapped);
        EXPECT_EQ(mapped.error().errnum(), ENODEV);
        auto refused = t.vm.create_guest_memfd(slot_bytes, kvmxx::GuestMemfdFlags::Mmap);
        ASSERT_FALSE(refused);
        expect_refusal(refused.error(), "KVM_CREATE_GUEST_MEMFD", "KVM_CAP_GUEST_MEMFD_FLAGS");
        return;
    }
    // Linux 6.18: the host may fault the mapping in only with INIT_SHARED (pages start
    // shared); with MMAP alone a touch is SIGBUS, so that case maps and stops there.
    if ((flags & 2) == 0) {
        auto mappable = t.vm.create_guest_memfd(slot_bytes, kvmxx::GuestMemfdFlags::Mmap);
        ASSERT_OK(mappable);
        ASSERT_OK(mappable->map());
        return;
    }
    auto shared = t.vm.create_guest_memfd(slot_bytes, kvmxx::GuestMemfdFlags::Mmap | kvmxx::GuestMemfdFlags::InitShared);
    ASSERT_OK(shared);
    EXPECT_EQ(shared->flags(), kvmxx::GuestMemfdFlags::Mmap | kvmxx::GuestMemfdFlags::InitShared);
    auto view = shared->map();
    ASSERT_OK(view);
    auto slot = t.vm.add_guest_memfd_memory(slot_gpa, *shared, 0, slot_bytes, {view->data(), view->size()});
    ASSERT_OK(slot);
    EXPECT_EQ(slot->guest_memfd, shared->fd());
    run_dirty_pages(t, 0x600d);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    for (std::uint64_t page = 0; page < slot_bytes / 0x1000; ++page) {
        const bool written = page == 1 || page == 5 || page == 9;
        EXPECT_EQ(word_at(view->data(), page * 0x1000), written ? guest_word{0x600d} : guest_word{0}) << "page " << page;
    }
    auto through_vm = t.vm.guest_span(slot_gpa + 0x5000, sizeof(guest_word));
    ASSERT_OK(through_vm);
    EXPECT_EQ(word_at(through_vm->data(), 0), guest_word{0x600d});
    // The same guest_memfd range bound to a second slot: the kernel's EEXIST.
    auto twice = t.vm.add_guest_memfd_memory(0x6000'0000, *shared, 0, slot_bytes, {view->data(), view->size()});
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().errnum(), EEXIST) << twice.error().message();
    ASSERT_OK(t.vm.remove_memory(slot->slot));
}

// api.rst "KVM_SET_MEMORY_ATTRIBUTES": only VMs with private memory offer it.
TEST(KvmMemoryAttributes, ANormalVmHasNoMemoryAttributesAndKvmxxSaysWhichCapabilityIsMissing) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::open(t);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    const int offered = vm_cap(t.vm, kvmxx::Cap::MemoryAttributes);
    std::printf("%s: KVM_CAP_MEMORY_ATTRIBUTES on a default VM = %#x\n", kernel_release().c_str(), offered);
    auto r = t.vm.set_memory_attributes(ram_base, 0x1000, kvmxx::MemoryAttribute::Private);
    if (offered == 0) {
        ASSERT_FALSE(r);
        expect_refusal(r.error(), "KVM_SET_MEMORY_ATTRIBUTES", "KVM_CAP_MEMORY_ATTRIBUTES");
        kvmxx::uapi::MemoryAttributes a{ram_base, 0x1000, kvmxx::uapi::memory_attribute_private, 0};
        EXPECT_EQ(::ioctl(t.vm.fd(), kvmxx::uapi::set_memory_attributes, &a), -1);
        EXPECT_TRUE(errno == ENOTTY || errno == EINVAL) << std::strerror(errno);
        return;
    }
    // A default VM that offers attributes offers them without PRIVATE (nothing to back it).
    if ((offered & static_cast<int>(kvmxx::uapi::memory_attribute_private)) == 0) {
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().errnum(), EOPNOTSUPP) << r.error().message();
        return;
    }
    ASSERT_OK(r);
    ASSERT_OK(t.vm.set_memory_attributes(ram_base, 0x1000, kvmxx::MemoryAttribute::Shared));
}

// api.rst "KVM_PRE_FAULT_MEMORY": where offered, a whole range mapped (the kernel may do it
// in parts; the wrapper loops); unaligned and unslotted ranges get the kernel's errno.
TEST(KvmPreFault, ARangeInASlotIsPreFaultedInFullOrTheMissingCapabilityIsNamed) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_dirty_pages());
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    const int offered = vm_cap(t.vm, kvmxx::Cap::PreFaultMemory);
    auto done = t.cpu().pre_fault_memory(ram_base, ram_size);
    if (offered == 0) {
        ASSERT_FALSE(done);
        const auto& e = done.error();
        EXPECT_STREQ(e.operation(), "KVM_PRE_FAULT_MEMORY");
        // kvm_pvm (6.18) has the ioctl, but its shadow MMU cannot (EOPNOTSUPP). Without it
        // (x86 6.1, arm64 6.1 and 7.3) the vCPU ioctl is unknown, which both architectures'
        // kvm_arch_vcpu_ioctl answer with EINVAL: kvmxx cannot tell that from a bad range, so
        // its hint says what a good range is (docs/testing.md).
        EXPECT_EQ(e.errnum(), backend_is_pvm() ? EOPNOTSUPP : EINVAL) << e.message();
        if (e.errnum() != EINVAL) {
            EXPECT_NE(e.message().find("KVM_CAP_PRE_FAULT_MEMORY"), std::string::npos) << e.message();
        }
        std::printf("%s (%s): %s\n", kernel_release().c_str(), backend().c_str(), e.message().c_str());
        return;
    }
    ASSERT_OK(done);
    EXPECT_EQ(*done, ram_size);
    // Done again: the pages are mapped already, and the answer is the same.
    auto again = t.cpu().pre_fault_memory(ram_base, 0x10000);
    ASSERT_OK(again);
    EXPECT_EQ(*again, 0x10000u);
    auto unaligned = t.cpu().pre_fault_memory(ram_base + 0x800, 0x1000);
    ASSERT_FALSE(unaligned);
    EXPECT_EQ(unaligned.error().errnum(), EINVAL) << unaligned.error().message();
    EXPECT_NE(unaligned.error().message().find("page aligned"), std::string::npos);
    auto nowhere = t.cpu().pre_fault_memory(0x7000'0000, 0x1000);
    ASSERT_FALSE(nowhere);
    EXPECT_EQ(nowhere.error().errnum(), ENOENT) << nowhere.error().message();
    EXPECT_NE(nowhere.error().message().find("no memory slot"), std::string::npos);
    // The guest still runs from pre-faulted memory.
    ASSERT_OK(t.vm.add_memory(slot_gpa, slot_bytes));
    ASSERT_OK(t.cpu().pre_fault_memory(slot_gpa, slot_bytes));
    run_dirty_pages(t, 0x77);
}

#if KVMXX_ARCH_X86_64
// api.rst "KVM_CAP_VM_TYPES": bit n set when KVM_CREATE_VM takes type n.
TEST(KvmVmTypes, TheDefaultTypeIsAlwaysOfferedAndAnUnofferedTypeIsRefusedNamingTheMask) {
    REQUIRE_KVM();
    auto kvm = kvmxx::Kvm::open();
    ASSERT_OK(kvm);
    auto types = kvm->vm_types();
    ASSERT_OK(types);
    std::printf("%s (%s): KVM_CAP_VM_TYPES = %#x\n", kernel_release().c_str(), backend().c_str(), *types);
    EXPECT_STREQ(kvmxx::x86::vm_type_name(kvmxx::x86::VmType::SwProtected), "KVM_X86_SW_PROTECTED_VM");
    auto sw = kvm->create_vm({.type = kvmxx::x86::VmType::SwProtected});
    if (*types == 0) {  // before 6.8
        ASSERT_FALSE(sw);
        expect_refusal(sw.error(), "KVM_CREATE_VM", "KVM_CAP_VM_TYPES");
    } else {
        EXPECT_EQ(*types & 1u, 1u) << "KVM_X86_DEFAULT_VM is always offered";
        if ((*types & 2u) == 0) {
            ASSERT_FALSE(sw);
            expect_refusal(sw.error(), "KVM_CREATE_VM", "KVM_CAP_VM_TYPES");
            EXPECT_NE(sw.error().message().find(kvmxx::trace::hex(*types)), std::string::npos) << sw.error().message();
        } else {
            ASSERT_OK(sw);
        }
    }
    // What the kernel itself answers an unoffered type: EINVAL.
    if ((*types & 2u) == 0) {
        EXPECT_EQ(::ioctl(kvm->fd(), KVM_CREATE_VM, 1UL), -1);
        EXPECT_EQ(errno, EINVAL);
    }
    auto plain = kvm->create_vm({.type = kvmxx::x86::VmType::Default});
    ASSERT_OK(plain);
}

// A KVM_X86_SW_PROTECTED_VM with a guest_memfd slot: a page made private is backed by the
// guest_memfd, which the host cannot see, so the guest's store lands there and not in the
// slot's userspace memory; a page left shared is the userspace memory. Where the host has
// no such VM type (kvm_pvm, 6.1) the refusal is asserted by KvmVmTypes above and here the
// memory-fault exit decoding is all that can run (tests/unit/exit_decode_test.cpp).
TEST(KvmMemoryAttributes, ASwProtectedVmsPrivatePageIsTheGuestMemfdsAndASharedPageIsTheHosts) {
    REQUIRE_KVM();
    auto kvm = kvmxx::Kvm::open();
    ASSERT_OK(kvm);
    auto types = kvm->vm_types();
    ASSERT_OK(types);
    auto vm = kvm->create_vm({.type = kvmxx::x86::VmType::SwProtected});
    if ((*types & 2u) == 0) {
        ASSERT_FALSE(vm);
        EXPECT_EQ(vm.error().errnum(), EOPNOTSUPP) << vm.error().message();
        std::printf("%s (%s): no KVM_X86_SW_PROTECTED_VM: %s\n", kernel_release().c_str(), backend().c_str(),
                    vm.error().message().c_str());
        return;
    }
    ASSERT_OK(vm);
    TestVm t;
    t.kvm = std::move(*kvm);
    t.vm = std::move(*vm);
    auto ram = t.vm.add_memory(ram_base, ram_size);
    ASSERT_OK(ram);
    t.ram = *ram;
    TestVm::load(t, program_dirty_pages());
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    EXPECT_NE(vm_cap(t.vm, kvmxx::Cap::MemoryAttributes) & static_cast<int>(kvmxx::uapi::memory_attribute_private), 0);
    auto gmem = t.vm.create_guest_memfd(slot_bytes);
    ASSERT_OK(gmem);
    auto shared = kvmxx::Mapping::anonymous(slot_bytes);
    ASSERT_OK(shared);
    ASSERT_OK(t.vm.add_guest_memfd_memory(slot_gpa, *gmem, 0, slot_bytes, {shared->data(), shared->size()}));
    // Page 5 private, the rest shared.
    ASSERT_OK(t.vm.set_memory_attributes(slot_gpa + 0x5000, 0x1000, kvmxx::MemoryAttribute::Private));
    run_dirty_pages(t, 0xabc);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    EXPECT_EQ(word_at(shared->data(), 0x1000), guest_word{0xabc});
    EXPECT_EQ(word_at(shared->data(), 0x5000), guest_word{0}) << "the private page's store reached the shared memory";
    EXPECT_EQ(word_at(shared->data(), 0x9000), guest_word{0xabc});
    // Unaligned attributes: the kernel's EINVAL.
    auto bad = t.vm.set_memory_attributes(slot_gpa + 0x800, 0x1000, kvmxx::MemoryAttribute::Private);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().errnum(), EINVAL) << bad.error().message();
}
#endif

}  // namespace
