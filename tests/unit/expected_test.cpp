// kvmxx::expected: the interface both the bundled and the std implementation must offer.
#include <kvmxx/expected.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>

using kvmxx::expected;
using kvmxx::unexpected;

namespace {

expected<int, std::string> parse(bool ok) {
    if (ok) return 42;
    return unexpected<std::string>("bad");
}

TEST(Expected, HoldsValueOrError) {
    auto a = parse(true);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(*a, 42);
    EXPECT_EQ(a.value(), 42);
    auto b = parse(false);
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error(), "bad");
    EXPECT_EQ(b.value_or(7), 7);
}

TEST(Expected, MonadicMembersChainAndShortCircuit) {
    auto twice = [](int v) -> expected<int, std::string> { return v * 2; };
    EXPECT_EQ(*parse(true).and_then(twice), 84);
    EXPECT_EQ(parse(false).and_then(twice).error(), "bad");
    EXPECT_EQ(*parse(true).transform([](int v) { return std::to_string(v); }), "42");
    EXPECT_EQ(parse(false).transform_error([](const std::string& e) { return e.size(); }).error(), 3u);
    auto recovered = parse(false).or_else([](const std::string&) -> expected<int, std::string> { return 1; });
    EXPECT_EQ(*recovered, 1);
}

TEST(Expected, VoidSpecialisation) {
    expected<void, int> ok;
    EXPECT_TRUE(ok);
    expected<void, int> bad = unexpected<int>(5);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), 5);
    auto chained = ok.and_then([]() -> expected<int, int> { return 3; });
    EXPECT_EQ(*chained, 3);
    auto transformed = bad.transform([] { return 1; });
    EXPECT_EQ(transformed.error(), 5);
}

TEST(Expected, MoveOnlyValuesAndReassignment) {
    expected<std::unique_ptr<int>, int> p = std::make_unique<int>(9);
    auto q = std::move(p);
    ASSERT_TRUE(q);
    EXPECT_EQ(**q, 9);
    q = unexpected<int>(2);
    EXPECT_EQ(q.error(), 2);
    q = std::make_unique<int>(4);
    EXPECT_EQ(**q, 4);
}

TEST(Expected, AnErrorNeverComparesEqualToAValue) {
    // [expected.eq]: x == v is x.has_value() && *x == v. Same types on both sides, so a
    // read of the inactive member would see the error's bits as the value.
    expected<int, int> error = unexpected<int>(42);
    EXPECT_FALSE(error == 42);
    expected<int, int> value = 42;
    EXPECT_TRUE(value == 42);
    EXPECT_FALSE(value == 41);
}

/// Counts its live objects, to see that expected destroys what it holds.
struct Counted {
    static inline int live = 0;
    Counted() { ++live; }
    Counted(const Counted&) { ++live; }
    Counted(Counted&&) noexcept { ++live; }
    Counted& operator=(const Counted&) = default;
    ~Counted() { --live; }
};

TEST(Expected, TheErrorIsDestroyedByAssignmentAndByTheDestructor) {
    ASSERT_EQ(Counted::live, 0);
    {
        expected<int, Counted> e(kvmxx::unexpect);
        EXPECT_EQ(Counted::live, 1);
        e = 5;  // [expected.object.assign]: destroys the error, then holds the value
        EXPECT_EQ(Counted::live, 0);
        EXPECT_EQ(*e, 5);
    }
    {
        expected<int, Counted> e(kvmxx::unexpect);
        EXPECT_EQ(Counted::live, 1);
    }
    EXPECT_EQ(Counted::live, 0) << "the destructor left the error alive";
}

#if defined(__cpp_exceptions)
TEST(Expected, ValueOnErrorThrowsBadExpectedAccess) {
    auto b = parse(false);
    EXPECT_THROW((void)b.value(), kvmxx::bad_expected_access<std::string>);
}
#endif

TEST(Expected, ModeMatchesStandardLibrary) {
#if defined(__cpp_lib_expected) && __cpp_lib_expected >= 202211L
    EXPECT_EQ(KVMXX_USE_STD_EXPECTED, 1);
#else
    EXPECT_EQ(KVMXX_USE_STD_EXPECTED, 0);
#endif
}

}  // namespace
