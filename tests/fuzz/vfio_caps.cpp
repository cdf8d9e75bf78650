// VFIO info capability chains (include/kvmxx/vfio/cap_chain.hpp) and the two
// decoders over them, region info and IOMMU info (vfio/device.hpp,
// vfio/container.hpp): any buffer the kernel might have written. Invariants:
// the walk never claims a byte outside the buffer, visits offsets in
// increasing order (so it ends), each capability starting with a whole header;
// sparse areas lie inside the region; IOVA ranges and counts come only from
// bytes the buffer holds.
#include "fuzz.hpp"

#include <kvmxx/kvmxx.hpp>

#include <linux/vfio.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    const std::uint32_t first = in.flag() ? in.u32() : in.u8();
    // A copy the size of the input's rest, so that reading past it is caught.
    const auto rest = in.rest();
    const std::vector<std::uint8_t> buffer(rest.begin(), rest.end());
    const std::span<const std::uint8_t> buf(buffer);

    const auto caps = kvmxx::vfio::info_caps(buf, first);
    std::size_t previous = 0;
    for (const auto& c : caps) {
        FUZZ_CHECK(c.bytes.size() >= sizeof(vfio_info_cap_header));
        FUZZ_CHECK(c.bytes.data() >= buf.data() && c.bytes.data() + c.bytes.size() <= buf.data() + buf.size());
        const std::size_t at = static_cast<std::size_t>(c.bytes.data() - buf.data());
        FUZZ_CHECK(at != 0 && (previous == 0 || at >= previous + sizeof(vfio_info_cap_header)));
        vfio_info_cap_header h;
        std::memcpy(&h, c.bytes.data(), sizeof h);
        FUZZ_CHECK(h.id == c.id && h.version == c.version);
        previous = at;
    }
    FUZZ_CHECK(caps.size() <= buf.size() / sizeof(vfio_info_cap_header));

    if (buf.size() >= sizeof(vfio_region_info)) {
        const auto info = kvmxx::vfio::decode_region_info(buf);
        vfio_region_info raw;
        std::memcpy(&raw, buf.data(), sizeof raw);
        FUZZ_CHECK(info.size == raw.size && info.flags == raw.flags);
        if (info.sparse)
            for (const auto& a : *info.sparse) FUZZ_CHECK(a.size > 0 && fuzz::within(a.offset, a.size, 0, info.size));
        for (const auto& a : info.mmap_areas()) FUZZ_CHECK(fuzz::within(a.offset, a.size, 0, info.size));
    }
    if (buf.size() >= sizeof(vfio_iommu_type1_info)) {
        const auto info = kvmxx::vfio::decode_iommu_info(buf);
        FUZZ_CHECK(info.iova_ranges.size() * sizeof(vfio_iova_range) <= buf.size());
        for (const auto& r : info.iova_ranges) (void)kvmxx::vfio::check_iova(info.iova_ranges, r.start, 1);
    }
    return 0;
}
