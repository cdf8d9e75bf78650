// Mapping: owns an mmap, moves, refuses size 0.
#include <kvmxx/mapping.hpp>

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

namespace {

bool mapped(void* p) {
    unsigned char v;
    return ::mincore(p, static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)), &v) == 0;
}

TEST(Mapping, AnonymousIsZeroedWritableAndUnmappedOnDestruction) {
    void* where = nullptr;
    {
        auto m = kvmxx::Mapping::anonymous(8192);
        ASSERT_TRUE(m);
        EXPECT_EQ(m->size(), 8192u);
        EXPECT_EQ(m->data()[4095], 0);
        m->data()[4095] = 7;
        EXPECT_EQ(m->bytes()[4095], 7);
        where = m->data();
        EXPECT_TRUE(mapped(where));
    }
    EXPECT_FALSE(mapped(where));
}

TEST(Mapping, MoveTransfersOwnership) {
    auto m = kvmxx::Mapping::anonymous(4096);
    ASSERT_TRUE(m);
    kvmxx::Mapping a = std::move(*m);
    EXPECT_FALSE(m->valid());
    EXPECT_TRUE(a.valid());
    EXPECT_TRUE(mapped(a.data()));
}

TEST(Mapping, ZeroSizeIsAClearError) {
    auto m = kvmxx::Mapping::anonymous(0);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().errnum(), EINVAL);
    EXPECT_NE(m.error().message().find("size=0"), std::string::npos);
}

}  // namespace
