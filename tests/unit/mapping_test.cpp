// Mapping: owns an mmap, moves (unmapping what it replaces), shares an fd, refuses size 0.
#include <kvmxx/mapping.hpp>
#include <kvmxx/unique_fd.hpp>

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

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

TEST(Mapping, MoveAssignUnmapsWhatTheTargetHeld) {
    auto a = kvmxx::Mapping::anonymous(4096);
    auto b = kvmxx::Mapping::anonymous(4096);
    ASSERT_TRUE(a && b);
    void* old = a->data();
    void* kept = b->data();
    *a = std::move(*b);
    EXPECT_FALSE(mapped(old)) << "the range a held before the assignment leaked";
    EXPECT_TRUE(mapped(kept));
    EXPECT_EQ(static_cast<void*>(a->data()), kept);
    EXPECT_FALSE(b->valid());
}

TEST(Mapping, OfFdIsSharedWithTheFile) {
    // kvm_run and VFIO regions are shared with the kernel: what one side writes the other sees.
    kvmxx::UniqueFd fd(::memfd_create("kvmxx-mapping-test", MFD_CLOEXEC));
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(::ftruncate(fd.get(), 4096), 0);
    auto m = kvmxx::Mapping::of_fd(fd.get(), 4096, 0);
    ASSERT_TRUE(m) << m.error().message();
    std::memcpy(m->data() + 100, "kvmxx", 5);
    char seen[5] = {};
    ASSERT_EQ(::pread(fd.get(), seen, 5, 100), 5);
    EXPECT_EQ(std::memcmp(seen, "kvmxx", 5), 0) << "the file does not see a write through the mapping";
    ASSERT_EQ(::pwrite(fd.get(), "vm", 2, 200), 2);
    EXPECT_EQ(std::memcmp(m->data() + 200, "vm", 2), 0) << "the mapping does not see a write to the file";
}

TEST(Mapping, ZeroSizeIsAClearError) {
    auto m = kvmxx::Mapping::anonymous(0);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().errnum(), EINVAL);
    EXPECT_NE(m.error().message().find("size=0"), std::string::npos);
}

}  // namespace
