// common.hpp — the two helpers every example uses, so each example file shows
// only what it teaches.
#pragma once

#include <kvmxx/kvmxx.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

namespace example {

/// The value of `r`, or: print the library's one-line error and exit 1.
/// (Examples stop at the first error; a VMM would handle it.)
template <class T>
T must(kvmxx::Result<T> r) {
    if (!r) {
        std::fprintf(stderr, "error: %s\n", r.error().message().c_str());
        std::exit(1);
    }
    if constexpr (!std::is_void_v<T>) return std::move(*r);
}

/// Copies guest instructions into guest RAM at `gpa`.
inline void load(const kvmxx::MemoryRegion& ram, std::uint64_t gpa, std::span<const std::uint32_t> words) {
    std::memcpy(ram.host + (gpa - ram.gpa), words.data(), words.size_bytes());
    __builtin___clear_cache(reinterpret_cast<char*>(ram.host), reinterpret_cast<char*>(ram.host + ram.size));
}

}  // namespace example
