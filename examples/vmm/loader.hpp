// loader.hpp — the arm64 Linux boot protocol (Documentation/arch/arm64/booting.rst):
// check that a file is an arm64 kernel Image and decide where the Image, the
// initrd and the DTB go in guest RAM.
//
// The Image starts with a 64-byte header: code0/code1, text_offset (where in a
// 2 MiB-aligned region the Image must sit), image_size (how much memory it
// needs, bss included), flags, and the magic "ARM\x64" at offset 56. A file
// without the magic is refused: booting garbage only shows up as a silent guest.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>

namespace vmm {

struct ImageHeader {
    std::uint64_t text_offset;
    std::uint64_t image_size;
    std::uint64_t flags;
};

/// The header of an arm64 Image, or the reason `bytes` is not one.
inline std::optional<ImageHeader> parse_image_header(std::span<const std::uint8_t> bytes, std::string& why) {
    if (bytes.size() < 64) {
        why = "it is " + std::to_string(bytes.size()) + " bytes, shorter than the 64-byte arm64 Image header";
        return std::nullopt;
    }
    auto le64 = [&](std::size_t off) {
        std::uint64_t v = 0;
        for (int i = 7; i >= 0; --i) v = (v << 8) | bytes[off + static_cast<std::size_t>(i)];
        return v;
    };
    if (std::memcmp(bytes.data() + 56, "ARM\x64", 4) != 0) {
        why = "it has no arm64 Image magic (\"ARM\\x64\" at offset 56): not an uncompressed arm64 kernel Image"
              " (a vmlinuz.gz, an EFI zboot or an x86 bzImage are not accepted)";
        return std::nullopt;
    }
    ImageHeader h{le64(8), le64(16), le64(24)};
    if (h.image_size == 0) {  // kernels before 3.17: unknown size, text_offset 0x80000
        h.text_offset = 0x80000;
        h.image_size = bytes.size();
    }
    if (h.image_size < bytes.size()) {
        why = "its header says image_size=" + std::to_string(h.image_size) + " but the file is larger";
        return std::nullopt;
    }
    return h;
}

/// Where each part goes in guest RAM [ram_base, ram_base + ram_size).
struct BootLayout {
    std::uint64_t kernel;      ///< load address = entry point
    std::uint64_t initrd = 0;  ///< 0: none
    std::uint64_t initrd_size = 0;
    std::uint64_t dtb;
};

/// Kernel at ram_base + text_offset (ram_base is 2 MiB aligned); the initrd after
/// the kernel's image_size, 2 MiB aligned; the DTB (≤ 2 MiB, 8-byte aligned) in the
/// last 2 MiB of RAM. nullopt with `why` when they do not fit.
inline std::optional<BootLayout> plan_boot(std::uint64_t ram_base, std::uint64_t ram_size, const ImageHeader& image,
                                           std::uint64_t initrd_size, std::uint64_t dtb_size, std::string& why) {
    constexpr std::uint64_t align = 2 << 20;
    auto up = [](std::uint64_t v, std::uint64_t a) { return (v + a - 1) & ~(a - 1); };
    BootLayout l{};
    l.kernel = ram_base + image.text_offset;
    const std::uint64_t kernel_end = l.kernel + image.image_size;
    if (dtb_size > align || ram_size < 2 * align) {
        why = "the device tree needs the last 2 MiB of RAM; give the guest more memory";
        return std::nullopt;
    }
    l.dtb = ram_base + ram_size - align;
    if (initrd_size) {
        l.initrd = up(kernel_end, align);
        l.initrd_size = initrd_size;
        if (l.initrd + initrd_size > l.dtb) {
            why = "the kernel (" + std::to_string(image.image_size >> 20) + " MiB) and the initrd (" +
                  std::to_string(initrd_size >> 20) + " MiB) do not fit in " + std::to_string(ram_size >> 20) +
                  " MiB of RAM with the device tree; give --memory more";
            return std::nullopt;
        }
    } else if (kernel_end > l.dtb) {
        why = "the kernel does not fit in " + std::to_string(ram_size >> 20) + " MiB of RAM; give --memory more";
        return std::nullopt;
    }
    return l;
}

}  // namespace vmm
