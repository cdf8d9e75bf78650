// fuzz.hpp — what every harness shares: a reader over the fuzzer's bytes and
// the invariant check (a violated invariant aborts, which libFuzzer reports as
// a crash and keeps the input that caused it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#define FUZZ_CHECK(cond)                                                                          \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            std::fprintf(stderr, "fuzz: invariant violated: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            std::abort();                                                                         \
        }                                                                                         \
    } while (0)

namespace fuzz {

/// Takes values off the front of the input; past its end every value is 0.
class Input {
public:
    Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

    bool empty() const noexcept { return at_ >= size_; }
    std::size_t left() const noexcept { return size_ - at_; }

    std::uint8_t u8() noexcept { return at_ < size_ ? data_[at_++] : 0; }
    std::uint16_t u16() noexcept { return static_cast<std::uint16_t>(u8() | u8() << 8); }
    std::uint32_t u32() noexcept { return u16() | std::uint32_t{u16()} << 16; }
    std::uint64_t u64() noexcept { return u32() | std::uint64_t{u32()} << 32; }
    bool flag() noexcept { return u8() & 1; }

    /// Up to `n` bytes (fewer at the end of the input).
    std::span<const std::uint8_t> bytes(std::size_t n) noexcept {
        n = n < left() ? n : left();
        std::span<const std::uint8_t> out(data_ + at_, n);
        at_ += n;
        return out;
    }
    /// The rest of the input.
    std::span<const std::uint8_t> rest() noexcept { return bytes(left()); }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t at_ = 0;
};

/// [a, a + as) and [b, b + bs) share a byte (no wrap-around: computed in 128 bits).
inline bool overlap(std::uint64_t a, std::uint64_t as, std::uint64_t b, std::uint64_t bs) {
    using u128 = unsigned __int128;
    return as && bs && u128{a} < u128{b} + bs && u128{b} < u128{a} + as;
}
/// [a, a + as) lies inside [b, b + bs).
inline bool within(std::uint64_t a, std::uint64_t as, std::uint64_t b, std::uint64_t bs) {
    using u128 = unsigned __int128;
    return a >= b && u128{a} + as <= u128{b} + bs;
}

inline std::uint64_t load_le(std::span<const std::uint8_t> d) {
    std::uint64_t v = 0;
    for (std::size_t i = d.size(); i-- > 0;) v = v << 8 | d[i];
    return v;
}

}  // namespace fuzz
