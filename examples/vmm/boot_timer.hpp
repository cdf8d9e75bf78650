// boot_timer.hpp — a write-only marker device for measuring boot time, the way
// Firecracker does: the guest writes any value to it when it is up (from
// userspace, e.g. `devmem 0x9010000 32 1` in /init) and the VMM prints how long
// after its own start that was. Not in the device tree: nothing but a
// benchmark's guest knows it is there. Reads return zero.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <span>

namespace vmm {

class BootTimer {
public:
    static constexpr std::uint64_t size = 0x1000;
    using Clock = std::chrono::steady_clock;

    explicit BootTimer(Clock::time_point start) : start_(start) {}

    void read(std::uint64_t, std::span<std::uint8_t> data) { std::fill(data.begin(), data.end(), 0); }
    void write(std::uint64_t, std::span<const std::uint8_t> data) {
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < data.size() && i < 4; ++i) v |= std::uint32_t{data[i]} << (8 * i);
        marked_ = true;
        std::fprintf(stderr, "kvmxx-vmm: boot-timer: guest marker %u at %.1f ms\n", v, elapsed_ms());
    }

    bool marked() const noexcept { return marked_; }
    double elapsed_ms() const {
        return std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
    }

private:
    Clock::time_point start_;
    bool marked_ = false;
};

}  // namespace vmm
