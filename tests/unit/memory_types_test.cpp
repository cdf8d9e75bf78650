// The pure parts of guest memory: range checks and dirty-log decoding.
#include <kvmxx/vm.hpp>

#include <gtest/gtest.h>

namespace {

TEST(MemoryRegion, ContainsHandlesEdgesAndOverflow) {
    kvmxx::MemoryRegion r{0, 0x4000'0000, 0x10000, nullptr, kvmxx::MemoryFlags::None};
    EXPECT_TRUE(r.contains(0x4000'0000, 0x10000));
    EXPECT_TRUE(r.contains(0x4000'fff8, 8));
    EXPECT_FALSE(r.contains(0x4000'fff9, 8));
    EXPECT_FALSE(r.contains(0x3fff'ffff, 2));
    EXPECT_FALSE(r.contains(0x4000'0000, 0x10001));
    EXPECT_FALSE(r.contains(~0ULL - 3, 8));  // gpa + len would wrap
}

TEST(DirtyLog, BitmapToGuestPhysicalPages) {
    kvmxx::DirtyLog log;
    log.gpa = 0x4000'0000;
    log.page_size = 4096;
    log.bitmap = {0b1001, 1ULL << 63};
    auto pages = log.dirty_pages();
    ASSERT_EQ(pages.size(), 3u);
    EXPECT_EQ(pages[0], 0x4000'0000u);
    EXPECT_EQ(pages[1], 0x4000'0000u + 3 * 4096);
    EXPECT_EQ(pages[2], 0x4000'0000u + 127 * 4096);
}

TEST(MemoryFlags, Combine) {
    auto f = kvmxx::MemoryFlags::ReadOnly | kvmxx::MemoryFlags::LogDirtyPages;
    EXPECT_EQ(static_cast<std::uint32_t>(f), static_cast<std::uint32_t>(KVM_MEM_READONLY | KVM_MEM_LOG_DIRTY_PAGES));
}

TEST(Vm, AnEmptyVmRejectsAccessesWithAClearError) {
    kvmxx::Vm vm;
    auto s = vm.guest_span(0x1000, 4);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().errnum(), EFAULT);
    EXPECT_NE(s.error().message().find("not inside one memory slot"), std::string::npos);
    auto bad = vm.add_memory(0x1001, 4096);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().errnum(), EINVAL);
    EXPECT_NE(bad.error().hint().find("page size"), std::string::npos);
}

}  // namespace
