// What composes: positive and negative compile-time checks of the concepts
// and of move-only ownership.
#include <kvmxx/kvmxx.hpp>

#include <gtest/gtest.h>

#include <type_traits>

namespace {

struct CountingMmio {
    std::uint64_t last = 0;
    void read(std::uint64_t offset, std::span<std::uint8_t> data) { data[0] = static_cast<std::uint8_t>(offset); }
    void write(std::uint64_t, std::span<const std::uint8_t> data) { last = data[0]; }
};
struct ReadOnlyThing {
    void read(std::uint64_t, std::span<std::uint8_t>) {}
};
struct MyEventSource {
    int event_fd() const { return 3; }
};

static_assert(kvmxx::EventSource<kvmxx::EventFd>);
static_assert(kvmxx::EventSource<MyEventSource>);
static_assert(!kvmxx::EventSource<int>);
static_assert(!kvmxx::EventSource<kvmxx::Vm>);  // has fd(), but it is no eventfd
static_assert(kvmxx::MmioHandler<CountingMmio>);
static_assert(!kvmxx::MmioHandler<ReadOnlyThing>);
static_assert(kvmxx::GuestMemory<kvmxx::Vm>);
static_assert(!kvmxx::GuestMemory<kvmxx::EventFd>);

template <class T>
constexpr bool move_only = !std::is_copy_constructible_v<T> && !std::is_copy_assignable_v<T> &&
                           std::is_move_constructible_v<T> && std::is_move_assignable_v<T>;
static_assert(move_only<kvmxx::Kvm>);
static_assert(move_only<kvmxx::Vm>);
static_assert(move_only<kvmxx::Vcpu>);
static_assert(move_only<kvmxx::EventFd>);
static_assert(move_only<kvmxx::Device>);
static_assert(move_only<kvmxx::arm64::Vgic>);
static_assert(move_only<kvmxx::Mapping>);

TEST(Concepts, AnMmioHandlerCanBeDrivenGenerically) {
    CountingMmio dev;
    auto drive = [](kvmxx::MmioHandler auto& h) {
        std::uint8_t byte = 0;
        h.read(9, std::span<std::uint8_t>(&byte, 1));
        const std::uint8_t v = 0x5a;
        h.write(0, std::span<const std::uint8_t>(&v, 1));
        return byte;
    };
    EXPECT_EQ(drive(dev), 9);
    EXPECT_EQ(dev.last, 0x5au);
}

}  // namespace
