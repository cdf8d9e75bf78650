// Real-kernel tests on every architecture: memory slots, read-only memory, dirty
// logging, ioeventfd.
#include "test_vm.hpp"

using namespace kvmtest;

namespace {

constexpr std::uint64_t slot_a = 0x5000'0000, slot_b = 0x6000'0000;

TEST(KvmMemory, ReadOnlySlotTurnsWritesIntoMmioExitsButReadsSeeMemory) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_ro_slot());
    auto ro = t.vm.add_memory(slot_a, 0x1000, kvmxx::MemoryFlags::ReadOnly);
    ASSERT_OK(ro);
    std::memcpy(ro->host, "\x11\x22\x33\x44", 4);
    ASSERT_OK(set_arg(t.cpu(), 5, slot_a));
    ASSERT_OK(set_arg(t.cpu(), 2, 0x99));
    auto blocked = expect_write(t.cpu());
    ASSERT_EQ(blocked.address, slot_a) << "the write reached memory (the guest then spins: no next exit)";
    EXPECT_EQ(blocked.value(), 0x99u);
    auto seen = expect_write(t.cpu());
    EXPECT_EQ(seen.address, report);
    EXPECT_EQ(seen.value(), 0x44332211u);  // memory unchanged by the write
}

TEST(KvmMemory, TwoSlotsGuestCopiesBetweenThem) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_copy_slots());
    auto a = t.vm.add_memory(slot_a, 0x1000);
    auto b = t.vm.add_memory(slot_b, 0x1000);
    ASSERT_OK(a);
    ASSERT_OK(b);
    EXPECT_NE(a->slot, b->slot);
    const auto word = static_cast<guest_word>(0x0102030405060708ULL);
    ASSERT_OK(t.vm.write(slot_a, {reinterpret_cast<const std::uint8_t*>(&word), sizeof word}));
    ASSERT_OK(set_arg(t.cpu(), 5, slot_a));
    ASSERT_OK(set_arg(t.cpu(), 7, slot_b));
    EXPECT_EQ(expect_write(t.cpu()).value(), word);
    guest_word copied = 0;
    ASSERT_OK(t.vm.read(slot_b, {reinterpret_cast<std::uint8_t*>(&copied), sizeof copied}));
    EXPECT_EQ(copied, word);
}

TEST(KvmMemory, RemovedSlotBecomesMmio) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_load_report());
    auto a = t.vm.add_memory(slot_a, 0x1000);
    ASSERT_OK(a);
    ASSERT_OK(t.vm.remove_memory(a->slot));
    EXPECT_FALSE(t.vm.guest_span(slot_a, 8));
    ASSERT_OK(set_arg(t.cpu(), 5, slot_a));
    auto r = expect_read(t.cpu());
    EXPECT_EQ(r.address, slot_a);
    r.set(0x5a5a);
    EXPECT_EQ(expect_write(t.cpu()).value(), 0x5a5au);
    // The kernel let the slot go too: the range takes new memory of another size (a
    // slot the kernel kept cannot change size: EINVAL). On kvm_pvm, whose emulator
    // turns a load from a slot with no memory behind it into an MMIO read, this is
    // what shows a slot the kernel kept.
    auto again = t.vm.add_memory(slot_a, 0x2000);
    ASSERT_OK(again);
    EXPECT_EQ(again->gpa, slot_a);
}

TEST(KvmMemory, OverlappingSlotIsEexistNamingTheRange) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    auto overlap = t.vm.add_memory(ram_base + 0x1000, 0x1000);
    ASSERT_FALSE(overlap);
    EXPECT_EQ(overlap.error().errnum(), EEXIST);
    EXPECT_NE(overlap.error().detail().find("gpa=0x40001000"), std::string::npos);
    EXPECT_NE(overlap.error().hint().find("overlaps"), std::string::npos);
    EXPECT_EQ(t.vm.memory_regions().size(), 1u);  // the failed slot was not kept
}

TEST(KvmMemory, DirtyLogReportsExactlyThePagesTheGuestWrote) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_dirty_pages());
    auto logged = t.vm.add_memory(slot_a, 16 * 0x1000, kvmxx::MemoryFlags::LogDirtyPages);
    ASSERT_OK(logged);
    auto before = t.vm.dirty_log(logged->slot);
    ASSERT_OK(before);
    EXPECT_TRUE(before->dirty_pages().empty());
    ASSERT_OK(set_arg(t.cpu(), 5, slot_a));
    ASSERT_OK(set_arg(t.cpu(), 2, 1));
    (void)expect_write(t.cpu());
    auto after = t.vm.dirty_log(logged->slot);
    ASSERT_OK(after);
    EXPECT_EQ(after->dirty_pages(), (std::vector<std::uint64_t>{slot_a + 0x1000, slot_a + 0x5000, slot_a + 0x9000}));
    auto again = t.vm.dirty_log(logged->slot);  // reading clears the log
    EXPECT_TRUE(again->dirty_pages().empty());
}

TEST(KvmIoeventfd, GuestWriteSignalsWithoutAnExitAndDatamatchFilters) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_ioevent());
    auto plain = kvmxx::EventFd::create();
    auto matched = kvmxx::EventFd::create();
    ASSERT_OK(plain);
    ASSERT_OK(matched);
    ASSERT_OK(t.vm.ioeventfd(*plain, {.address = report + 0x1000, .length = 4}));
    ASSERT_OK(t.vm.ioeventfd(*matched, {.address = report + 0x2000, .length = 4, .datamatch = 2}));
    ASSERT_OK(set_arg(t.cpu(), 2, 7));
    ASSERT_OK(set_arg(t.cpu(), 3, 1));
    ASSERT_OK(set_arg(t.cpu(), 4, 2));
    // The first write (+0x1000) must not exit; the unmatched one (+0x2000, value 1) must.
    auto miss = expect_write(t.cpu());
    EXPECT_EQ(miss.address, report + 0x2000);
    EXPECT_EQ(miss.value(), 1u);
    EXPECT_EQ(**plain->try_read(), 1u);
    EXPECT_FALSE(matched->try_read()->has_value());
    // The matching write signals; the next exit is the final report.
    auto last = expect_write(t.cpu());
    EXPECT_EQ(last.address, report);
    EXPECT_EQ(**matched->try_read(), 1u);
    ASSERT_OK(t.vm.remove_ioeventfd(*plain, {.address = report + 0x1000, .length = 4}));
    auto gone = t.vm.remove_ioeventfd(*plain, {.address = report + 0x1000, .length = 4});
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().errnum(), ENOENT) << "virt/kvm/eventfd.c: no such ioeventfd to deassign";
    EXPECT_STREQ(gone.error().operation(), "KVM_IOEVENTFD");
}

// set_memory_flags re-registers a slot with new flags (api.rst 4.35: a slot's flags may
// change, but not KVM_MEM_READONLY): dirty logging starts and stops; read-only is EINVAL.
// Without logging, KVM_GET_DIRTY_LOG is the kernel's ENOENT (the slot has no bitmap).
TEST(KvmMemory, SetMemoryFlagsTurnsDirtyLoggingOnAndOffButNotReadOnly) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_dirty_pages());
    auto mem = t.vm.add_memory(slot_a, 16 * 0x1000);
    ASSERT_OK(mem);
    auto unlogged = t.vm.dirty_log(mem->slot);
    ASSERT_FALSE(unlogged);
    EXPECT_EQ(unlogged.error().errnum(), ENOENT);
    EXPECT_EQ(unlogged.error().detail().find("not in use"), std::string::npos) << "the kernel's ENOENT, not kvmxx's";

    ASSERT_OK(t.vm.set_memory_flags(mem->slot, kvmxx::MemoryFlags::LogDirtyPages));
    ASSERT_OK(set_arg(t.cpu(), 5, slot_a));
    ASSERT_OK(set_arg(t.cpu(), 2, 1));
    (void)expect_write(t.cpu());
    auto logged = t.vm.dirty_log(mem->slot);
    ASSERT_OK(logged);
    EXPECT_EQ(logged->dirty_pages(), (std::vector<std::uint64_t>{slot_a + 0x1000, slot_a + 0x5000, slot_a + 0x9000}));

    auto ro = t.vm.set_memory_flags(mem->slot, kvmxx::MemoryFlags::ReadOnly);
    ASSERT_FALSE(ro);
    EXPECT_EQ(ro.error().errnum(), EINVAL) << "KVM_MEM_READONLY cannot change on a live slot";
    auto regions = t.vm.memory_regions();
    ASSERT_EQ(regions.size(), 2u);
    EXPECT_EQ(regions[1].flags, kvmxx::MemoryFlags::LogDirtyPages) << "a refused change is not recorded";

    ASSERT_OK(t.vm.set_memory_flags(mem->slot, kvmxx::MemoryFlags::None));
    auto off = t.vm.dirty_log(mem->slot);
    ASSERT_FALSE(off) << "logging was turned off";
    EXPECT_EQ(off.error().errnum(), ENOENT);
}

// set_user_memory_region passes a kvm_userspace_memory_region as it is: the slot number,
// flags, address and size the caller chose. User slots are 0..KVM_CAP_NR_MEMSLOTS-1
// (api.rst 4.35); size 0 deletes the slot.
TEST(KvmMemory, SetUserMemoryRegionTakesTheRawRegionUpToTheLastSlotTheKernelHas) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_ro_slot());
    auto nslots = t.vm.check(kvmxx::Cap::NrMemslots);
    ASSERT_OK(nslots);
    ASSERT_GT(*nslots, 1);
    auto backing = kvmxx::Mapping::anonymous(0x1000);
    ASSERT_OK(backing);
    std::memcpy(backing->data(), "\x11\x22\x33\x44", 4);
    kvm_userspace_memory_region region{};
    region.slot = static_cast<std::uint32_t>(*nslots - 1);  // the last user slot
    region.flags = KVM_MEM_READONLY;
    region.guest_phys_addr = slot_b;
    region.memory_size = 0x1000;
    region.userspace_addr = reinterpret_cast<std::uint64_t>(backing->data());
    ASSERT_OK(t.vm.set_user_memory_region(region));
    EXPECT_EQ(t.vm.memory_regions().size(), 1u) << "a raw region is not tracked";
    ASSERT_OK(set_arg(t.cpu(), 5, slot_b));
    ASSERT_OK(set_arg(t.cpu(), 2, 0x99));
    auto blocked = expect_write(t.cpu());
    ASSERT_EQ(blocked.address, slot_b) << "the region's KVM_MEM_READONLY did not reach the kernel";
    auto seen = expect_write(t.cpu());
    EXPECT_EQ(seen.address, report);
    EXPECT_EQ(seen.value(), 0x44332211u) << "the guest read the caller's memory";

    kvm_userspace_memory_region beyond = region;
    beyond.slot = static_cast<std::uint32_t>(*nslots);
    beyond.guest_phys_addr = slot_a;
    auto refused = t.vm.set_user_memory_region(beyond);
    ASSERT_FALSE(refused) << "slot " << *nslots << " is past KVM_CAP_NR_MEMSLOTS";
    EXPECT_EQ(refused.error().errnum(), EINVAL);

    region.memory_size = 0;
    ASSERT_OK(t.vm.set_user_memory_region(region));  // deleted before `backing` is unmapped
}

}  // namespace
