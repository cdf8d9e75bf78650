// kvmxx::MmioBus, on the host: ranges are checked when added (an overlap is
// refused naming both devices, adjacent ranges are fine), accesses reach the
// device with the offset inside its range only when the range holds all of them,
// anything else reads as zero, and each device has its own lock.
#include <kvmxx/kvmxx.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

/// Records every access; a read answers 0xa0 + offset in each byte.
struct Recorder {
    struct Access {
        bool write;
        std::uint64_t offset;
        std::size_t size;
    };
    std::vector<Access> seen;
    void read(std::uint64_t offset, std::span<std::uint8_t> data) {
        seen.push_back({false, offset, data.size()});
        for (auto& b : data) b = static_cast<std::uint8_t>(0xa0 + offset);
    }
    void write(std::uint64_t offset, std::span<const std::uint8_t> data) { seen.push_back({true, offset, data.size()}); }
};

TEST(MmioBus, AnOverlappingRangeIsRefusedNamingBothDevicesAndRanges) {
    kvmxx::MmioBus bus;
    Recorder uart, rtc, inner;
    ASSERT_TRUE(bus.add("uart", 0x0900'0000, 0x1000, uart));
    auto r = bus.add("rtc", 0x0900'0800, 0x1000, rtc);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), EEXIST);
    EXPECT_EQ(r.error().detail(), "rtc at 0x9000800-0x90017ff overlaps uart at 0x9000000-0x9000fff");
    EXPECT_NE(r.error().message().find("MmioBus::add"), std::string::npos);
    // From below, from inside, and covering it whole: all refused.
    EXPECT_FALSE(bus.add("below", 0x08ff'f000, 0x1001, rtc));
    EXPECT_FALSE(bus.add("inside", 0x0900'0010, 4, inner));
    EXPECT_FALSE(bus.add("around", 0x0800'0000, 0x0200'0000, rtc));
    EXPECT_EQ(bus.size(), 1u) << "a refused range is not added";
    std::uint8_t b[4];
    EXPECT_TRUE(bus.read(0x0900'0800, b));
    EXPECT_TRUE(rtc.seen.empty()) << "the refused device gets nothing";
}

TEST(MmioBus, AdjacentRangesAreAcceptedAndEachGetsItsOwnAccesses) {
    kvmxx::MmioBus bus;
    Recorder a, b, c;
    ASSERT_TRUE(bus.add("b", 0x2000, 0x1000, b));
    ASSERT_TRUE(bus.add("a", 0x1000, 0x1000, a));  // just below b
    ASSERT_TRUE(bus.add("c", 0x3000, 0x1000, c));  // just above b
    EXPECT_EQ(bus.size(), 3u);
    EXPECT_EQ(bus.device_at(0x1fff), "a");
    EXPECT_EQ(bus.device_at(0x2000), "b");
    EXPECT_EQ(bus.device_at(0x3fff), "c");
    EXPECT_EQ(bus.device_at(0x4000), "");
    EXPECT_EQ(bus.device_at(0xfff), "");
}

TEST(MmioBus, AnEmptyRangeOrOneWrappingTheAddressSpaceIsRefused) {
    kvmxx::MmioBus bus;
    Recorder d;
    EXPECT_EQ(bus.add("empty", 0x1000, 0, d).error().errnum(), EINVAL);
    EXPECT_EQ(bus.add("wraps", ~0ull - 0xfff, 0x2000, d).error().errnum(), EINVAL);
    EXPECT_TRUE(bus.add("top", ~0ull - 0xfff, 0x1000, d)) << "the last page is a range like any other";
    EXPECT_EQ(bus.device_at(~0ull), "top");
}

TEST(MmioBus, RoutesByOffsetInsideTheRange) {
    kvmxx::MmioBus bus;
    Recorder lo, hi;
    ASSERT_TRUE(bus.add("lo", 0x1000, 0x100, lo));
    ASSERT_TRUE(bus.add("hi", 0x8000, 0x100, hi));
    std::uint8_t v[4] = {};
    ASSERT_TRUE(bus.read(0x8010, v));
    EXPECT_EQ(v[0], 0xb0);
    const std::uint8_t w[2] = {1, 2};
    ASSERT_TRUE(bus.write(0x10fe, w));
    ASSERT_EQ(hi.seen.size(), 1u);
    EXPECT_FALSE(hi.seen[0].write);
    EXPECT_EQ(hi.seen[0].offset, 0x10u);
    EXPECT_EQ(hi.seen[0].size, 4u);
    ASSERT_EQ(lo.seen.size(), 1u);
    EXPECT_TRUE(lo.seen[0].write);
    EXPECT_EQ(lo.seen[0].offset, 0xfeu) << "the last two bytes of the range are the device's";
}

TEST(MmioBus, AnUnclaimedReadIsZeroAndTraced) {
    struct Capture {
        std::vector<std::string> lines;
        static void sink(std::string_view line, void* self) { static_cast<Capture*>(self)->lines.emplace_back(line); }
    } capture;
    kvmxx::trace::set_sink(&Capture::sink, &capture);
    kvmxx::trace::enable();
    kvmxx::MmioBus bus;
    Recorder d;
    ASSERT_TRUE(bus.add("d", 0x1000, 0x1000, d));
    std::uint8_t v[8] = {9, 9, 9, 9, 9, 9, 9, 9};
    const bool claimed = bus.read(0x5000, v);
    const bool write_claimed = bus.write(0x0, v);
    kvmxx::trace::disable();
    kvmxx::trace::set_sink(nullptr);
    EXPECT_FALSE(claimed);
    EXPECT_FALSE(write_claimed);
    for (auto b : v) EXPECT_EQ(b, 0);
    EXPECT_TRUE(d.seen.empty());
    ASSERT_EQ(capture.lines.size(), 2u);
    EXPECT_NE(capture.lines[0].find("unclaimed read of 8 byte(s) at 0x5000"), std::string::npos) << capture.lines[0];
    EXPECT_NE(capture.lines[1].find("unclaimed write"), std::string::npos) << capture.lines[1];
}

TEST(MmioBus, AnAccessStraddlingTheEndOfARangeIsNotGivenToTheDevice) {
    kvmxx::MmioBus bus;
    Recorder a, b;
    ASSERT_TRUE(bus.add("a", 0x1000, 0x1000, a));
    ASSERT_TRUE(bus.add("b", 0x2000, 0x1000, b));
    std::uint8_t v[4] = {9, 9, 9, 9};
    EXPECT_FALSE(bus.read(0x1ffe, v)) << "two bytes in a, two in b";
    EXPECT_EQ(v[0] | v[1] | v[2] | v[3], 0);
    const std::uint8_t wide[8] = {};
    EXPECT_FALSE(bus.write(0x2ffc, wide)) << "runs past b into nothing";
    EXPECT_TRUE(a.seen.empty());
    EXPECT_TRUE(b.seen.empty());
    EXPECT_EQ(bus.device_at(0x1ffe, 4), "");
}

TEST(MmioBus, HandlesMmioExitsAndLeavesTheRestAlone) {
    kvmxx::MmioBus bus;
    Recorder d;
    ASSERT_TRUE(bus.add("d", 0x1000, 0x1000, d));
    std::uint8_t data[4] = {};
    EXPECT_TRUE(bus.handle(kvmxx::Exit{kvmxx::exit::MmioRead{0x1004, data}}));
    EXPECT_EQ(data[0], 0xa4) << "the answer is in the exit's data, for KVM to hand the guest";
    EXPECT_TRUE(bus.handle(kvmxx::Exit{kvmxx::exit::MmioWrite{0x1008, data}}));
    EXPECT_FALSE(bus.handle(kvmxx::Exit{kvmxx::exit::Hlt{}}));
    ASSERT_EQ(d.seen.size(), 2u);
    EXPECT_TRUE(d.seen[1].write);
    EXPECT_EQ(d.seen[1].offset, 8u);
}

/// Two devices on two threads: device A does not return until device B has been
/// entered. Behind one lock for all, B could not be entered while A is inside, and
/// A would give up (after far longer than any scheduling delay) having not seen B.
TEST(MmioBus, AccessesToTwoDevicesDoNotWaitForEachOther) {
    struct Rendezvous {
        std::mutex m;
        std::condition_variable cv;
        bool a_inside = false, b_entered = false;
    } r;
    struct WaitsForB {
        Rendezvous& r;
        bool saw_b = false;
        void read(std::uint64_t, std::span<std::uint8_t>) {}
        void write(std::uint64_t, std::span<const std::uint8_t>) {
            std::unique_lock l(r.m);
            r.a_inside = true;
            r.cv.notify_all();
            saw_b = r.cv.wait_for(l, std::chrono::seconds(20), [&] { return r.b_entered; });
        }
    } a{r};
    struct EntersB {
        Rendezvous& r;
        void read(std::uint64_t, std::span<std::uint8_t>) {}
        void write(std::uint64_t, std::span<const std::uint8_t>) {
            std::lock_guard l(r.m);
            r.b_entered = true;
            r.cv.notify_all();
        }
    } b{r};
    kvmxx::MmioBus bus;
    ASSERT_TRUE(bus.add("a", 0x1000, 0x1000, a));
    ASSERT_TRUE(bus.add("b", 0x2000, 0x1000, b));
    const std::uint8_t v = 1;
    std::thread ta([&] { bus.write(0x1000, {&v, 1}); });
    {
        std::unique_lock l(r.m);
        r.cv.wait(l, [&] { return r.a_inside; });
    }
    std::thread tb([&] { bus.write(0x2000, {&v, 1}); });
    ta.join();
    tb.join();
    EXPECT_TRUE(a.saw_b) << "device b's access waited for device a's: one lock for both";
}

/// One device on four threads: its accesses never overlap (the bus holds the
/// device's lock), so a device model needs no locking of its own.
TEST(MmioBus, AccessesToOneDeviceTakeTurns) {
    struct Checker {
        std::atomic<int> inside{0};
        std::atomic<bool> overlapped{false};
        unsigned count = 0;  // unguarded on purpose: the bus's lock guards it
        void enter() {
            if (inside.fetch_add(1) != 0) overlapped = true;
            for (int i = 0; i < 50; ++i) std::this_thread::yield();
            ++count;
            inside.fetch_sub(1);
        }
        void read(std::uint64_t, std::span<std::uint8_t>) { enter(); }
        void write(std::uint64_t, std::span<const std::uint8_t>) { enter(); }
    } dev;
    kvmxx::MmioBus bus;
    ASSERT_TRUE(bus.add("dev", 0x1000, 0x1000, dev));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            std::uint8_t v[4];
            for (int i = 0; i < 200; ++i) bus.read(0x1000 + 4 * (i % 8), v);
        });
    for (auto& t : threads) t.join();
    EXPECT_FALSE(dev.overlapped);
    EXPECT_EQ(dev.count, 800u);
}

}  // namespace
