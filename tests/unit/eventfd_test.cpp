// EventFd against the real eventfd(2).
#include <kvmxx/eventfd.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>

#include <chrono>
#include <thread>

using namespace std::chrono_literals;

namespace {

TEST(EventFd, CreateWithNoArgumentsIsValidAndCloexec) {
    auto ev = kvmxx::EventFd::create();
    ASSERT_TRUE(ev) << ev.error().message();
    EXPECT_TRUE(ev->valid());
    EXPECT_NE(::fcntl(ev->fd(), F_GETFD) & FD_CLOEXEC, 0);
    EXPECT_EQ(ev->event_fd(), ev->fd());
}

TEST(EventFd, SignalsAddUpAndAReadTakesTheCount) {
    auto ev = kvmxx::EventFd::create();
    ASSERT_TRUE(ev);
    ASSERT_TRUE(ev->signal());
    ASSERT_TRUE(ev->signal(4));
    auto v = ev->wait();
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, 5u);
    auto empty = ev->try_read();
    ASSERT_TRUE(empty);
    EXPECT_FALSE(empty->has_value());
}

TEST(EventFd, SemaphoreModeTakesOneAtATime) {
    auto ev = kvmxx::EventFd::create({.semaphore = true, .initial = 3});
    ASSERT_TRUE(ev);
    EXPECT_EQ(*ev->wait(), 1u);
    EXPECT_EQ(*ev->wait(), 1u);
    EXPECT_EQ(**ev->try_read(), 1u);
    EXPECT_FALSE(ev->try_read()->has_value());
}

TEST(EventFd, NonBlockingEmptyReadIsEagain) {
    auto ev = kvmxx::EventFd::create({.nonblocking = true});
    ASSERT_TRUE(ev);
    auto r = ev->wait();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), EAGAIN);
    EXPECT_STREQ(r.error().operation(), "eventfd read");
}

TEST(EventFd, TryReadTakesTheCountOrSaysNoneOnBothKinds) {
    for (bool nonblocking : {false, true}) {
        auto ev = kvmxx::EventFd::create({.nonblocking = nonblocking});
        ASSERT_TRUE(ev);
        auto empty = ev->try_read();
        ASSERT_TRUE(empty) << empty.error().message();
        EXPECT_FALSE(*empty) << "nonblocking=" << nonblocking;
        ASSERT_TRUE(ev->signal(3));
        auto three = ev->try_read();
        ASSERT_TRUE(three);
        ASSERT_TRUE(*three);
        EXPECT_EQ(**three, 3u);
        // An fd adopted from elsewhere: its O_NONBLOCK is read, not assumed.
        kvmxx::EventFd adopted(kvmxx::UniqueFd(ev->release()));
        auto none = adopted.try_read();
        ASSERT_TRUE(none);
        EXPECT_FALSE(*none);
    }
}

TEST(EventFd, WaitForTimesOutThenSeesASignalFromAnotherThread) {
    auto ev = kvmxx::EventFd::create();
    ASSERT_TRUE(ev);
    EXPECT_FALSE(*ev->wait_for(10ms));
    std::thread t([&] { (void)ev->signal(2); });
    EXPECT_TRUE(*ev->wait_for(5s));
    t.join();
    EXPECT_EQ(*ev->wait(), 2u);
}

TEST(EventFd, MovedFromIsEmpty) {
    auto ev = kvmxx::EventFd::create();
    ASSERT_TRUE(ev);
    kvmxx::EventFd moved = std::move(*ev);
    EXPECT_FALSE(ev->valid());
    EXPECT_TRUE(moved.valid());
    auto r = ev->signal();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), EBADF);
}

}  // namespace
