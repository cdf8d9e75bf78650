// kvmxx/vfio/cap_chain.hpp — walking a VFIO "info capability chain".
//
// VFIO_DEVICE_GET_REGION_INFO and VFIO_IOMMU_GET_INFO return a fixed struct
// followed by optional capabilities: each starts with a `vfio_info_cap_header`
// {id, version, next}, where `next` is the offset of the following one from the
// start of the whole buffer (0 ends the chain). The kernel writes them only when
// the caller's `argsz` leaves room, so the wrappers ask twice: once to learn the
// size, once with a buffer that big.
//
// The walk is pure logic over bytes the kernel wrote; it refuses offsets that
// leave the buffer or go backwards (a loop), instead of trusting them.
#pragma once

#include "../config.hpp"

#include <linux/vfio.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

KVMXX_BEGIN_NAMESPACE
namespace vfio {

/// One capability: its id and version and the bytes from its header on.
struct InfoCap {
    std::uint16_t id;                     ///< VFIO_*_INFO_CAP_* (meaning depends on the ioctl)
    std::uint16_t version;                ///< layout version of this capability
    std::span<const std::uint8_t> bytes;  ///< header included

    /// Copies the capability's fixed part into `out` (a struct that starts with a
    /// vfio_info_cap_header); false when the capability is too short for it.
    template <class T>
    bool read(T& out) const noexcept {
        if (bytes.size() < sizeof(T)) return false;
        std::memcpy(&out, bytes.data(), sizeof(T));
        return true;
    }
};

/// Every capability of the chain starting at `first` (0: none) in `buffer`.
inline std::vector<InfoCap> info_caps(std::span<const std::uint8_t> buffer, std::uint32_t first) {
    std::vector<InfoCap> caps;
    std::size_t at = first;
    std::size_t floor = 0;
    while (at != 0 && at >= floor && at + sizeof(vfio_info_cap_header) <= buffer.size()) {
        vfio_info_cap_header h;
        std::memcpy(&h, buffer.data() + at, sizeof h);
        // A capability holds at least its header: a `next` inside it ends the chain here.
        const std::size_t end = (h.next >= at + sizeof h && h.next <= buffer.size()) ? h.next : buffer.size();
        caps.push_back({h.id, h.version, buffer.subspan(at, end - at)});
        floor = at + sizeof h;
        at = h.next;
    }
    return caps;
}

}  // namespace vfio
KVMXX_END_NAMESPACE
