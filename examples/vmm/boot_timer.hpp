// boot_timer.hpp — a write-only marker device for measuring boot time, the way
// Firecracker does: the guest writes any value to it when it is up (from
// userspace, e.g. `devmem 0x9010000 32 1` in /init) and the VMM prints how long
// after its own start that was. Not in the device tree: nothing but a
// benchmark's guest knows it is there. Reads return zero. Only the first marker
// is printed: a guest writing it in a loop (tests/e2e/hostile.sh) gets the rest
// counted, and one line at the end says how many.
#pragma once

#include "device.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <span>

namespace vmm {

class BootTimer final : public Device {
public:
    static constexpr std::uint64_t size = 0x1000;
    using Clock = std::chrono::steady_clock;

    /// A marker at `base`, timing from `start` (the VMM's own start).
    BootTimer(std::uint64_t base, Clock::time_point start) : base_(base), start_(start) {}

    kvmxx::Result<> attach(kvmxx::MmioBus& bus) override { return bus.add("boot-timer", base_, size, *this); }
    void write_fdt(FdtWriter&, const FdtRefs&) const override {}  // a benchmark's guest knows the address

    /// After the run, if the guest marked: the rest of the figures (run time, peak memory).
    void report_end() const {
        if (!marked_) return;
        rusage usage{};
        ::getrusage(RUSAGE_SELF, &usage);
        std::fprintf(stderr, "kvmxx-vmm: boot-timer: exit at %.1f ms, peak RSS %ld KiB\n", elapsed_ms(), usage.ru_maxrss);
        if (markers_ > 1)
            std::fprintf(stderr, "kvmxx-vmm: boot-timer: %llu later marker(s) not printed\n",
                         static_cast<unsigned long long>(markers_ - 1));
    }

    void read(std::uint64_t, std::span<std::uint8_t> data) { std::fill(data.begin(), data.end(), 0); }
    void write(std::uint64_t, std::span<const std::uint8_t> data) {
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < data.size() && i < 4; ++i) v |= std::uint32_t{data[i]} << (8 * i);
        marked_ = true;
        if (markers_++ == 0) std::fprintf(stderr, "kvmxx-vmm: boot-timer: guest marker %u at %.1f ms\n", v, elapsed_ms());
    }

    bool marked() const noexcept { return marked_; }
    /// How many markers the guest wrote (only the first was printed).
    std::uint64_t markers() const noexcept { return markers_; }
    double elapsed_ms() const {
        return std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
    }

private:
    std::uint64_t base_;
    Clock::time_point start_;
    bool marked_ = false;
    std::uint64_t markers_ = 0;
};

}  // namespace vmm
