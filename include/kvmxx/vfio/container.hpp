// kvmxx/vfio/container.hpp — `VfioContainer`, the owner of /dev/vfio/vfio: one
// IOMMU context (address space) that groups join and DMA maps live in.
//
// Example [vfio_container], built by tests/unit/doc_examples_test.cpp:
//
//     auto box = kvmxx::VfioContainer::open();          // open + VFIO_GET_API_VERSION
//     if (!box) return kvmxx::unexpected(box.error());
//     if (auto r = box->attach(*group); !r) return r;   // VFIO_GROUP_SET_CONTAINER + VFIO_SET_IOMMU
//     if (auto r = box->map_dma(0x100000, buf, 0x1000); !r) return r;  // VFIO_IOMMU_MAP_DMA: IOVA → host memory
//     if (auto r = box->unmap_dma(0x100000, 0x1000); !r) return r;     // VFIO_IOMMU_UNMAP_DMA
//
// The IOMMU does not accept DMA maps everywhere: the kernel reports the usable
// IOVA ranges, which leave out reserved regions such as the MSI doorbell of an
// arm64 SMMU (0x8000000-0x80fffff in QEMU's virt machine). map_dma checks a map
// against them first, so a map over the doorbell is refused with a message that
// says so and lists the ranges that can be used.
#pragma once

#include "../config.hpp"
#include "../error.hpp"
#include "../ioctl.hpp"
#include "../trace.hpp"
#include "../unique_fd.hpp"
#include "../vm.hpp"
#include "cap_chain.hpp"

#include <fcntl.h>
#include <linux/vfio.h>
#include <unistd.h>

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

KVMXX_BEGIN_NAMESPACE

namespace vfio {
/// An IOVA range the IOMMU can map, both ends inclusive (as the kernel reports).
struct IovaRange {
    std::uint64_t start;  ///< first usable IOVA
    std::uint64_t last;   ///< last usable IOVA (inclusive)
    /// [iova, iova+size) lies wholly in the range (no overflow at the top).
    bool contains(std::uint64_t iova, std::uint64_t size) const noexcept {
        return size != 0 && iova >= start && iova <= last && size - 1 <= last - iova;
    }
};

/// VFIO_IOMMU_GET_INFO, with its capability chain decoded.
struct IommuInfo {
    std::uint64_t page_sizes = 0;          ///< bitmap of supported IOMMU page sizes
    std::vector<IovaRange> iova_ranges;    ///< empty when the kernel does not report them
    std::optional<std::uint32_t> dma_avail;  ///< how many more DMA maps the container allows
};

/// DMA access the device gets to a mapped range.
enum class DmaAccess : std::uint32_t {
    Read = VFIO_DMA_MAP_FLAG_READ,
    Write = VFIO_DMA_MAP_FLAG_WRITE,
    ReadWrite = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
};

/// Decodes the info struct and chain that VFIO_IOMMU_GET_INFO wrote into `buffer`.
inline IommuInfo decode_iommu_info(std::span<const std::uint8_t> buffer) {
    IommuInfo out;
    vfio_iommu_type1_info info{};
    std::memcpy(&info, buffer.data(), std::min(buffer.size(), sizeof info));
    out.page_sizes = info.iova_pgsizes;
    if (!(info.flags & VFIO_IOMMU_INFO_CAPS)) return out;
    for (const InfoCap& cap : info_caps(buffer, info.cap_offset)) {
        if (cap.id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
            vfio_iommu_type1_info_cap_iova_range head;
            if (!cap.read(head)) continue;
            for (std::uint32_t i = 0; i < head.nr_iovas; ++i) {
                const std::size_t at = sizeof(vfio_iommu_type1_info_cap_iova_range) + i * sizeof(vfio_iova_range);
                if (at + sizeof(vfio_iova_range) > cap.bytes.size()) break;
                vfio_iova_range r;
                std::memcpy(&r, cap.bytes.data() + at, sizeof r);
                out.iova_ranges.push_back({r.start, r.end});
            }
        } else if (cap.id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
            vfio_iommu_type1_info_dma_avail a;
            if (cap.read(a)) out.dma_avail = a.avail;
        }
    }
    return out;
}

/// Why [iova, iova+size) cannot be mapped given `ranges`, or "" when it can.
inline std::string check_iova(const std::vector<IovaRange>& ranges, std::uint64_t iova, std::uint64_t size) {
    if (ranges.empty()) return {};
    for (const auto& r : ranges)
        if (r.contains(iova, size)) return {};
    std::string why = "iova=" + trace::hex(iova) + " size=" + trace::hex(size) +
                      " is not inside one usable IOVA range: it overlaps a reserved window (such as the"
                      " MSI doorbell) or the end of the address space; usable:";
    for (const auto& r : ranges) why.append(" ").append(trace::hex(r.start)).append("-").append(trace::hex(r.last));
    return why;
}
}  // namespace vfio

/// What VfioContainer::attach needs of a group: its fd and number.
template <class G>
concept VfioGroupHandle = requires(const G& g) {
    { g.fd() } -> std::convertible_to<int>;
    { g.number() } -> std::convertible_to<unsigned>;
};

/// The /dev/vfio/vfio fd: one IOMMU context that groups join (attach) and DMA
/// maps (IOVA → host memory) live in. Move-only; closing it detaches its groups
/// and drops their maps.
class VfioContainer {
public:
    VfioContainer() = default;
    /// Takes ownership of an open container fd (open() also checks the API version).
    explicit VfioContainer(UniqueFd fd) noexcept : fd_(std::move(fd)) {}

    /// Opens `path` and checks VFIO_GET_API_VERSION == VFIO_API_VERSION.
    [[nodiscard]] static Result<VfioContainer> open(const char* path = "/dev/vfio/vfio") {
        const int fd = ::open(path, O_RDWR | O_CLOEXEC);
        if (trace::enabled()) [[unlikely]]
            sys::trace_ioctl("open", std::string("path=") + path, fd, errno);
        if (fd < 0) {
            const int e = errno;
            return fail_with_hint("open", e, path,
                                  e == ENOENT ? "VFIO is not loaded: modprobe vfio-pci (it brings vfio and vfio_iommu_type1)"
                                              : "");
        }
        VfioContainer c{UniqueFd(fd)};
        auto v = c.api_version();
        if (!v) return unexpected<Error>(std::move(v).error());
        if (*v != VFIO_API_VERSION)
            return fail("VFIO_GET_API_VERSION", EINVAL, std::string(path) + " reports API version " + std::to_string(*v));
        return c;
    }

    /// VFIO_GET_API_VERSION.
    [[nodiscard]] Result<int> api_version() const { return sys::ioctl(fd_.get(), VFIO_GET_API_VERSION, "VFIO_GET_API_VERSION", 0); }

    /// VFIO_CHECK_EXTENSION: does this container support IOMMU type / extension `ext`?
    [[nodiscard]] Result<bool> check_extension(std::uint32_t ext) const {
        return sys::ioctl(fd_.get(), VFIO_CHECK_EXTENSION, "VFIO_CHECK_EXTENSION", static_cast<unsigned long>(ext),
                          [&] { return trace::Args().dec("ext", ext).take(); })
            .transform([](int r) { return r > 0; });
    }

    /// VFIO_SET_IOMMU: chooses the IOMMU model; needs at least one group attached.
    [[nodiscard]] Result<> set_iommu(std::uint32_t type = VFIO_TYPE1v2_IOMMU) {
        auto r = sys::ioctl(fd_.get(), VFIO_SET_IOMMU, "VFIO_SET_IOMMU", static_cast<unsigned long>(type),
                            [&] {
                                return trace::Args()
                                    .str("type", type == VFIO_TYPE1v2_IOMMU ? "VFIO_TYPE1v2_IOMMU" : std::to_string(type))
                                    .take();
                            });
        if (!r) {
            auto e = std::move(r).error();
            if (e.errnum() == ENODEV || e.errnum() == EINVAL)
                return fail_with_hint("VFIO_SET_IOMMU", e.errnum(), "type=" + std::to_string(type),
                                      "attach a group first, and check the type with check_extension");
            return unexpected<Error>(std::move(e));
        }
        iommu_set_ = true;
        auto info = iommu_info();
        if (info) ranges_ = info->iova_ranges;
        return {};
    }

    /// Adds `group` to this container (VFIO_GROUP_SET_CONTAINER) and, for the
    /// first group, chooses the Type1v2 IOMMU (VFIO_SET_IOMMU).
    template <VfioGroupHandle G>
    [[nodiscard]] Result<> attach(const G& group) {
        const int fd = fd_.get();
        auto r = sys::ioctl(group.fd(), VFIO_GROUP_SET_CONTAINER, "VFIO_GROUP_SET_CONTAINER", &fd,
                            [&] { return trace::Args().dec("group", group.number()).take(); });
        if (!r) {
            auto e = std::move(r).error();
            if (e.errnum() == EINVAL)
                return fail_with_hint("VFIO_GROUP_SET_CONTAINER", EINVAL, "group=" + std::to_string(group.number()),
                                      "the group is already in a container, or its devices cannot share this "
                                      "container's IOMMU");
            return unexpected<Error>(std::move(e));
        }
        if (!iommu_set_) return set_iommu();
        return {};
    }

    /// VFIO_IOMMU_GET_INFO: page sizes, usable IOVA ranges, DMA maps left.
    [[nodiscard]] Result<vfio::IommuInfo> iommu_info() const {
        std::vector<std::uint8_t> buf(sizeof(vfio_iommu_type1_info));
        for (int pass = 0; pass < 2; ++pass) {
            auto* info = reinterpret_cast<vfio_iommu_type1_info*>(buf.data());
            info->argsz = static_cast<std::uint32_t>(buf.size());
            auto r = sys::ioctl(fd_.get(), VFIO_IOMMU_GET_INFO, "VFIO_IOMMU_GET_INFO", info);
            if (!r) return unexpected<Error>(std::move(r).error());
            if (info->argsz <= buf.size()) break;
            buf.assign(info->argsz, 0);  // the chain needs more room: ask again
        }
        return vfio::decode_iommu_info(buf);
    }

    /// VFIO_IOMMU_MAP_DMA: the device may access [iova, iova+size) and reach `host`.
    /// All three must be page aligned and the range inside one usable IOVA range.
    ///
    /// Safety: the kernel pins the pages behind `host` (charging them to
    /// RLIMIT_MEMLOCK) and the device reads and writes them, on its own schedule,
    /// until unmap_dma() of the range or the container closes. Unmapping `host` or
    /// freeing it first does not stop the device: the pinned pages stay its target
    /// and are not returned to the system, so memory reused for something else is
    /// not reached, but data the device writes is lost to the caller. unmap_dma
    /// before freeing; map only memory the device's owner (the guest) may see.
    [[nodiscard]] Result<> map_dma(std::uint64_t iova, const void* host, std::uint64_t size,
                     vfio::DmaAccess access = vfio::DmaAccess::ReadWrite) {
        const auto vaddr = reinterpret_cast<std::uint64_t>(host);
        auto describe = [&] { return trace::Args().hex("iova", iova).hex("size", size).hex("vaddr", vaddr).take(); };
        const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
        if (size == 0 || (iova | vaddr | size) & (page - 1))
            return fail_with_hint("VFIO_IOMMU_MAP_DMA", EINVAL, describe(),
                                  "iova, host address and size must be non-zero multiples of the page size");
        if (auto why = vfio::check_iova(ranges_, iova, size); !why.empty())
            return fail_with_hint("VFIO_IOMMU_MAP_DMA", EINVAL, why, "choose an IOVA inside one usable range");
        vfio_iommu_type1_dma_map m{};
        m.argsz = sizeof m;
        m.flags = static_cast<std::uint32_t>(access);
        m.vaddr = vaddr;
        m.iova = iova;
        m.size = size;
        return sys::ioctl(fd_.get(), VFIO_IOMMU_MAP_DMA, "VFIO_IOMMU_MAP_DMA", &m, describe).transform([](int) {});
    }

    /// Maps guest RAM with IOVA = guest-physical address, so a device given
    /// guest addresses by the guest's driver reaches the right memory.
    ///
    /// Safety: as map_dma(iova, host, size); unmap_dma(ram.gpa, ram.size) before
    /// Vm::remove_memory of the slot or the Vm's destruction frees `ram`.
    [[nodiscard]] Result<> map_dma(const MemoryRegion& ram) { return map_dma(ram.gpa, ram.host, ram.size); }

    /// VFIO_IOMMU_UNMAP_DMA of exactly [iova, iova+size): an error unless the
    /// kernel reports having unmapped that many bytes.
    [[nodiscard]] Result<> unmap_dma(std::uint64_t iova, std::uint64_t size) {
        vfio_iommu_type1_dma_unmap u{};
        u.argsz = sizeof u;
        u.iova = iova;
        u.size = size;
        auto describe = [&] { return trace::Args().hex("iova", iova).hex("size", size).take(); };
        auto r = sys::ioctl(fd_.get(), VFIO_IOMMU_UNMAP_DMA, "VFIO_IOMMU_UNMAP_DMA", &u, describe);
        if (!r) return unexpected<Error>(std::move(r).error());
        if (u.size != size)
            return fail_with_hint("VFIO_IOMMU_UNMAP_DMA", ENOENT,
                                  describe() + " unmapped=" + trace::hex(u.size),
                                  "unmap exactly the ranges that were mapped (a map cannot be split)");
        return {};
    }

    /// The usable IOVA ranges learnt when the IOMMU was set (empty before).
    const std::vector<vfio::IovaRange>& iova_ranges() const noexcept { return ranges_; }
    int fd() const noexcept { return fd_.get(); }        ///< the raw container fd, still owned here
    bool valid() const noexcept { return fd_.valid(); }  ///< holds a container fd (not default/moved-from)

private:
    UniqueFd fd_;
    bool iommu_set_ = false;
    std::vector<vfio::IovaRange> ranges_;
};

KVMXX_END_NAMESPACE
