// log_limit.hpp — what a guest can make the VMM say (a BAR placement refused, a
// route the kernel would not take) comes out a few lines at a time: a guest
// doing it in a loop must not flood the VMM's log (tests/e2e/hostile.sh).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace vmm {

/// The first `burst` lines pass, then one per `interval`; the first line that
/// passes after some were held back says how many.
class LogLimit {
public:
    using Clock = std::chrono::steady_clock;

    explicit LogLimit(unsigned burst = 10, Clock::duration interval = std::chrono::seconds(10))
        : burst_(burst), interval_(interval) {}

    /// The line to print for `line` at `now`, or "" when it is held back.
    std::string admit(const std::string& line, Clock::time_point now = Clock::now()) {
        std::lock_guard lock(lock_);
        if (passed_ >= burst_ && now - last_ < interval_) {
            ++held_;
            return "";
        }
        ++passed_;
        last_ = now;
        if (held_ == 0) return line;
        const std::string out = line + " (" + std::to_string(held_) + " more such line(s) not printed)";
        held_ = 0;
        return out;
    }

    /// Lines held back since the last one printed.
    std::uint64_t held() const {
        std::lock_guard lock(lock_);
        return held_;
    }

private:
    mutable std::mutex lock_;
    unsigned burst_;
    Clock::duration interval_;
    std::uint64_t passed_ = 0, held_ = 0;
    Clock::time_point last_{};
};

}  // namespace vmm
