// KVM_GET_STATS_FD layouts (include/kvmxx/stats.hpp): stats::parse over the bytes
// before the data block, whatever the header's offsets and counts say. Invariants:
// nothing is read outside the input (ASan sees the exact-size copy libFuzzer hands
// in); a table that parses has num_desc descriptors, every name shorter than
// name_size, and the data offset the header gave.
#include "fuzz.hpp"

#include <kvmxx/kvmxx.hpp>

#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto s = kvmxx::stats::parse({data, size});
    if (!s) {
        FUZZ_CHECK(s.error().errnum() == EINVAL);
        return 0;
    }
    kvmxx::stats::Header h{};
    FUZZ_CHECK(size >= sizeof h);
    std::memcpy(&h, data, sizeof h);
    FUZZ_CHECK(s->descriptors.size() == h.num_desc);
    FUZZ_CHECK(s->data_offset == h.data_offset);
    FUZZ_CHECK(s->id.size() < h.name_size);
    for (const auto& d : s->descriptors) {
        FUZZ_CHECK(d.name.size() < h.name_size);
        FUZZ_CHECK(s->find(d.name) != nullptr);
    }
    return 0;
}
