// UniqueFd with real descriptors: ownership moves, moved-from is empty, closes once.
#include <kvmxx/unique_fd.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <type_traits>

namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

int open_null() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

static_assert(!std::is_copy_constructible_v<kvmxx::UniqueFd>);
static_assert(!std::is_copy_assignable_v<kvmxx::UniqueFd>);
static_assert(std::is_nothrow_move_constructible_v<kvmxx::UniqueFd>);

TEST(UniqueFd, ClosesOnDestruction) {
    int raw = open_null();
    ASSERT_GE(raw, 0);
    { kvmxx::UniqueFd fd(raw); EXPECT_TRUE(is_open(raw)); }
    EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFd, MoveLeavesSourceEmptyAndClosesOnce) {
    int raw = open_null();
    kvmxx::UniqueFd a(raw);
    kvmxx::UniqueFd b(std::move(a));
    EXPECT_FALSE(a.valid());
    EXPECT_EQ(a.get(), -1);
    EXPECT_EQ(b.get(), raw);
    a.reset();  // the moved-from object must not close raw
    EXPECT_TRUE(is_open(raw));
    kvmxx::UniqueFd c;
    c = std::move(b);
    EXPECT_TRUE(is_open(raw));
    EXPECT_EQ(c.get(), raw);
}

TEST(UniqueFd, MoveAssignClosesThePreviousDescriptor) {
    int first = open_null(), second = open_null();
    kvmxx::UniqueFd a(first), b(second);
    a = std::move(b);
    EXPECT_FALSE(is_open(first));
    EXPECT_TRUE(is_open(second));
}

TEST(UniqueFd, MoveAssignLeavesTheSourceEmpty) {
    int raw = open_null();
    kvmxx::UniqueFd a(raw), b;
    b = std::move(a);
    EXPECT_FALSE(a.valid());
    EXPECT_EQ(a.get(), -1);
    a.reset();  // the moved-from object must not close raw
    EXPECT_TRUE(is_open(raw));
    EXPECT_EQ(b.get(), raw);
}

TEST(UniqueFd, DescriptorZeroIsAValidDescriptor) {
    // open(2) returns the lowest free number: 0 when stdin is closed.
    kvmxx::UniqueFd zero(0);
    EXPECT_TRUE(zero.valid());
    EXPECT_TRUE(static_cast<bool>(zero));
    EXPECT_EQ(zero.release(), 0);  // not closed: it is this process's stdin
}

TEST(UniqueFd, ResetToTheSameDescriptorKeepsItOpen) {
    int raw = open_null();
    ASSERT_GE(raw, 0);
    kvmxx::UniqueFd fd(raw);
    fd.reset(fd.get());  // closing it would leave the owner holding a closed (and reusable) number
    EXPECT_TRUE(is_open(raw));
    EXPECT_EQ(fd.get(), raw);
}

TEST(UniqueFd, ReleaseGivesUpOwnership) {
    int raw = open_null();
    { kvmxx::UniqueFd fd(raw); EXPECT_EQ(fd.release(), raw); EXPECT_FALSE(fd); }
    EXPECT_TRUE(is_open(raw));
    ::close(raw);
}

TEST(UniqueFd, CloseReportsResultAndEmpties) {
    kvmxx::UniqueFd fd(open_null());
    int raw = fd.get();
    EXPECT_TRUE(fd.close());
    EXPECT_FALSE(fd.valid());
    EXPECT_FALSE(is_open(raw));
    EXPECT_TRUE(fd.close());  // closing an empty UniqueFd is a no-op
}

TEST(UniqueFd, CloseOfAnAlreadyClosedDescriptorIsAnError) {
    int raw = open_null();
    ::close(raw);
    kvmxx::UniqueFd fd(raw);
    auto r = fd.close();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), EBADF);
}

}  // namespace
