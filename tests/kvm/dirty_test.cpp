// Real-kernel tests on every architecture: the binary statistics fd, clear-dirty-log
// with manual protection, and the dirty ring. The guest (dirty_pages in kvm/<arch>/guest.S)
// writes pages 1, 5 and 9 of the slot it is given, then reports with an MMIO write; each
// interface must hand back exactly those pages, no more and no fewer.
#include "test_vm.hpp"

#include <algorithm>

using namespace kvmtest;

namespace {

constexpr std::uint64_t slot_gpa = 0x5000'0000;
constexpr std::uint64_t slot_pages = 16;
const std::vector<std::uint64_t> written_pages = {1, 5, 9};  // what dirty_pages writes

/// Sends the vCPU back to the start of its program with the slot and value it writes.
void restart(TestVm& t, std::uint64_t value) {
#if KVMXX_ARCH_ARM64
    ASSERT_OK(t.cpu().set(kvmxx::arm64::reg::pc, t.entry));
#else
    auto regs = t.cpu().regs();  // unreal mode: CS is based at the program, IP 0
    ASSERT_OK(regs);
    regs->rip = 0;
    ASSERT_OK(t.cpu().set_regs(*regs));
#endif
    ASSERT_OK(set_arg(t.cpu(), 5, slot_gpa));
    ASSERT_OK(set_arg(t.cpu(), 2, value));
}

/// One pass of the guest: it writes pages 1, 5 and 9, then its report is the exit.
void write_pages_once(TestVm& t, std::uint64_t value) {
    restart(t, value);
    if (::testing::Test::HasFatalFailure()) return;
    auto w = expect_write(t.cpu());
    EXPECT_EQ(w.address, report);
    EXPECT_EQ(w.value(), static_cast<guest_word>(value));
}

/// The page indexes (within the slot) a dirty log reports.
std::vector<std::uint64_t> page_indexes(const kvmxx::DirtyLog& log) {
    std::vector<std::uint64_t> out;
    for (auto gpa : log.dirty_pages()) out.push_back((gpa - log.gpa) / log.page_size);
    return out;
}

/// The page indexes harvested entries name, sorted; fails the test on an entry of another slot.
std::vector<std::uint64_t> ring_pages(const std::vector<kvmxx::DirtyGfn>& entries, std::uint32_t slot) {
    std::vector<std::uint64_t> out;
    for (const auto& e : entries) {
        EXPECT_EQ(e.slot, slot) << "an entry of another slot (offset " << e.offset << ")";
        out.push_back(e.offset);
    }
    std::sort(out.begin(), out.end());
    return out;
}

TEST(KvmStats, AVcpusExitCounterGrowsWithItsRoundTripsAndTheVmHasItsOwnTable) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_dirty_pages());
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    ASSERT_OK(t.vm.add_memory(slot_gpa, slot_pages * 0x1000));
    auto stats = t.cpu().stats();
    ASSERT_OK(stats);
    const auto& schema = stats->schema();
    EXPECT_NE(schema.id.find("vcpu-0"), std::string::npos) << schema.id;
    const auto* exits = schema.find("exits");
    ASSERT_NE(exits, nullptr) << "no \"exits\" among " << schema.descriptors.size() << " vCPU statistics";
    EXPECT_EQ(exits->type, kvmxx::stats::Type::Cumulative);
    EXPECT_EQ(exits->unit, kvmxx::stats::Unit::None);
    EXPECT_EQ(exits->size, 1u);
    auto before = stats->value("exits");
    ASSERT_OK(before);
    constexpr int round_trips = 50;
    for (int i = 0; i < round_trips; ++i) {
        write_pages_once(t, static_cast<std::uint64_t>(i + 1));
        ASSERT_FALSE(::testing::Test::HasFatalFailure());
    }
    auto after = stats->value("exits");
    ASSERT_OK(after);
    EXPECT_GE(*after - *before, static_cast<std::uint64_t>(round_trips));
    std::printf("vCPU \"exits\": %llu before, %llu after %d KVM_RUN round trips; %zu vCPU statistics\n",
                static_cast<unsigned long long>(*before), static_cast<unsigned long long>(*after), round_trips,
                schema.descriptors.size());
    // A histogram reads as all its buckets, a counter as one word.
    for (const auto& d : schema.descriptors) {
        auto v = stats->values(d.name);
        ASSERT_OK(v);
        EXPECT_EQ(v->size(), d.size) << d.name;
    }
    auto none = stats->value("no_such_statistic");
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().errnum(), ENOENT);
    EXPECT_NE(none.error().detail().find("no_such_statistic"), std::string::npos);

    auto vm_stats = t.vm.stats();
    ASSERT_OK(vm_stats);
    EXPECT_EQ(vm_stats->schema().id.rfind("kvm-", 0), 0u) << vm_stats->schema().id;
    EXPECT_EQ(vm_stats->schema().id.find("vcpu"), std::string::npos) << vm_stats->schema().id;
    EXPECT_NE(vm_stats->schema().find("remote_tlb_flush"), nullptr) << "a statistic every VM has (KVM_GENERIC_VM_STATS)";
    auto flushes = vm_stats->value("remote_tlb_flush");
    ASSERT_OK(flushes);
    EXPECT_GE(vm_stats->fd(), 0);

    // A stats fd got by a raw ioctl on fd() parses to the same table.
    const int raw = ::ioctl(t.cpu().fd(), KVM_GET_STATS_FD, 0);
    ASSERT_GE(raw, 0) << std::strerror(errno);
    auto adopted = kvmxx::StatsFd::adopt(kvmxx::UniqueFd(raw));
    ASSERT_OK(adopted);
    ASSERT_EQ(adopted->schema().descriptors.size(), schema.descriptors.size());
    for (std::size_t i = 0; i < schema.descriptors.size(); ++i) {
        EXPECT_EQ(adopted->schema().descriptors[i].name, schema.descriptors[i].name);
        EXPECT_EQ(adopted->schema().descriptors[i].offset, schema.descriptors[i].offset);
    }
    EXPECT_GE(*adopted->value("exits"), *after);
}

// api.rst "KVM_CLEAR_DIRTY_LOG": with KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 enabled,
// KVM_GET_DIRTY_LOG reports without clearing, and only the pages KVM_CLEAR_DIRTY_LOG
// names are handed back to tracking.
TEST(KvmDirtyLog, ClearDirtyLogHandsBackExactlyThePagesItClears) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::open(t);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    ASSERT_OK(t.vm.enable_manual_dirty_log_protect());
    TestVm::load(t, program_dirty_pages());
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    auto slot = t.vm.add_memory(slot_gpa, slot_pages * 0x1000, kvmxx::MemoryFlags::LogDirtyPages);
    ASSERT_OK(slot);
    auto clean = t.vm.dirty_log(slot->slot);
    ASSERT_OK(clean);
    EXPECT_EQ(page_indexes(*clean), std::vector<std::uint64_t>{});

    write_pages_once(t, 1);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    auto first = t.vm.dirty_log(slot->slot);
    ASSERT_OK(first);
    EXPECT_EQ(first->slot, slot->slot);
    EXPECT_EQ(page_indexes(*first), written_pages);
    auto still = t.vm.dirty_log(slot->slot);
    ASSERT_OK(still);
    EXPECT_EQ(page_indexes(*still), written_pages) << "with manual protection, reading does not clear";

    auto some = *first;  // clear pages 1 and 5 only
    std::fill(some.bitmap.begin(), some.bitmap.end(), 0);
    some.bitmap[0] = (1u << 1) | (1u << 5);
    ASSERT_OK(t.vm.clear_dirty_log(some));
    auto left = t.vm.dirty_log(slot->slot);
    ASSERT_OK(left);
    EXPECT_EQ(page_indexes(*left), std::vector<std::uint64_t>{9});
    ASSERT_OK(t.vm.clear_dirty_log(*left));
    auto none = t.vm.dirty_log(slot->slot);
    ASSERT_OK(none);
    EXPECT_EQ(page_indexes(*none), std::vector<std::uint64_t>{});

    // Cleared pages are tracked again: the next pass of the guest reports all three.
    write_pages_once(t, 2);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    auto again = t.vm.dirty_log(slot->slot);
    ASSERT_OK(again);
    EXPECT_EQ(page_indexes(*again), written_pages);
    guest_word seen = 0;
    ASSERT_OK(t.vm.read(slot_gpa + 0x9000, {reinterpret_cast<std::uint8_t*>(&seen), sizeof seen}));
    EXPECT_EQ(seen, 2u);

    kvmxx::DirtyLog unknown;
    unknown.slot = 4242;
    auto bad = t.vm.clear_dirty_log(unknown);
    ASSERT_FALSE(bad);
    EXPECT_STREQ(bad.error().operation(), "KVM_CLEAR_DIRTY_LOG");
    EXPECT_EQ(bad.error().errnum(), ENOENT);
}

// api.rst "KVM_CAP_DIRTY_LOG_RING": each vCPU's ring, mapped at page 64 of its fd, holds
// one entry per page the guest dirtied; harvested entries are reset by
// KVM_RESET_DIRTY_RINGS, which write-protects the pages again.
TEST(KvmDirtyRing, HarvestedEntriesAreExactlyThePagesTheGuestWroteOnEachPass) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::open(t);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    const bool acq_rel = t.vm.check(kvmxx::Cap::DirtyLogRingAcqRel).value_or(0) > 0;
    const bool plain = t.vm.check(kvmxx::Cap::DirtyLogRing).value_or(0) > 0;
    constexpr std::uint32_t ring_bytes = 64 << 10;  // 4096 entries: above any arch's reserve
    auto enabled = t.vm.enable_dirty_ring(ring_bytes);
    if (!acq_rel && !plain) {
        // arm64 before Linux 6.3: the one clear line, and nothing enabled.
        ASSERT_FALSE(enabled);
        EXPECT_EQ(enabled.error().errnum(), EOPNOTSUPP);
        EXPECT_NE(enabled.error().message().find("KVM_CAP_DIRTY_LOG_RING_ACQ_REL"), std::string::npos);
        EXPECT_NE(enabled.error().message().find("6.3 on arm64"), std::string::npos) << enabled.error().message();
        EXPECT_EQ(t.vm.dirty_ring_bytes(), 0u);
        std::printf("no dirty ring on this kernel: %s\n", enabled.error().message().c_str());
        return;
    }
    ASSERT_OK(enabled);
    EXPECT_EQ(t.vm.dirty_ring_bytes(), ring_bytes);
    std::printf("dirty ring enabled through %s, %u bytes\n",
                acq_rel ? "KVM_CAP_DIRTY_LOG_RING_ACQ_REL" : "KVM_CAP_DIRTY_LOG_RING", ring_bytes);
    TestVm::load(t, program_dirty_pages());
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    auto late = t.vm.enable_dirty_ring(ring_bytes);
    ASSERT_FALSE(late);
    EXPECT_NE(late.error().hint().find("before the first vCPU"), std::string::npos);
    auto slot = t.vm.add_memory(slot_gpa, slot_pages * 0x1000, kvmxx::MemoryFlags::LogDirtyPages);
    ASSERT_OK(slot);
    auto empty = t.cpu().harvest_dirty_ring();
    ASSERT_OK(empty);
    EXPECT_TRUE(empty->empty());

    for (std::uint64_t pass = 1; pass <= 3; ++pass) {
        write_pages_once(t, pass);
        ASSERT_FALSE(::testing::Test::HasFatalFailure());
        auto entries = t.cpu().harvest_dirty_ring();
        ASSERT_OK(entries);
        EXPECT_EQ(ring_pages(*entries, slot->slot), written_pages) << "pass " << pass;
        auto twice = t.cpu().harvest_dirty_ring();
        ASSERT_OK(twice);
        EXPECT_TRUE(twice->empty()) << "an entry is harvested once";
        auto reset = t.vm.reset_dirty_rings();
        ASSERT_OK(reset);
        EXPECT_EQ(*reset, written_pages.size()) << "pass " << pass;
    }
    // With a ring (and no bitmap) the VM has no dirty bitmap to read.
    auto log = t.vm.dirty_log(slot->slot);
    ASSERT_FALSE(log);
    EXPECT_EQ(log.error().errnum(), ENXIO);
}

TEST(KvmDirtyRing, AVcpuOfAVmWithoutARingHasNothingToHarvest) {
    REQUIRE_KVM();
    TestVm t;
    TestVm::create(t, program_spin());
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    auto none = t.cpu().harvest_dirty_ring();
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().errnum(), ENXIO);
    EXPECT_NE(none.error().hint().find("enable_dirty_ring"), std::string::npos);
}

}  // namespace
