// kernel_image.hpp — what a --kernel file is (Documentation/arch/arm64/booting.rst).
//
// The Image starts with a 64-byte header: code0/code1, text_offset (where in a
// 2 MiB-aligned region the Image must sit), image_size (how much memory it
// needs, bss included), flags, and the magic "ARM\x64" at offset 56. A damaged
// Image is refused: an EFI-stub Image (Debian's) is also a PE/COFF file whose
// section table says how long the file must be.
//
// A file without the magic is what other VMMs boot too: a raw flat binary (a
// bare-metal program, a test payload). It goes where kvmtool puts one, at RAM
// base + 0x80000 (the old text_offset), entered there with the DTB in x0, and
// the VMM says so in one warning line. Kernels in a wrapper this VMM does not
// open (gzip, xz, zstd, EFI zboot, ELF, an x86 bzImage) are refused by name:
// run as code, they would only show up as a silent guest.
#pragma once

#include "errors.hpp"

#include <kvmxx/kvmxx.hpp>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace vmm {

struct ImageHeader {
    std::uint64_t text_offset;
    std::uint64_t image_size;
    std::uint64_t flags;
};

/// How much of a kernel file is read to check it: the Image header and, for an
/// EFI-stub Image, its PE/COFF headers and section table, which come first.
inline constexpr std::size_t image_head_bytes = 64 << 10;

namespace detail {
inline std::uint64_t le(std::span<const std::uint8_t> b, std::size_t off, int bytes) {
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | b[off + static_cast<std::size_t>(i)];
    return v;
}

/// An EFI-stub Image is also a PE/COFF file ("MZ" at 0, the PE header's offset at
/// 0x3c): every section's raw data must lie inside the file, which is how a kernel
/// cut short is told from a whole one. "" when it is whole, else why not.
inline std::string check_pe_sections(std::span<const std::uint8_t> head, std::uint64_t file_size) {
    constexpr std::size_t coff_size = 24, section_size = 40;  // "PE\0\0" + COFF header; one section header
    constexpr std::uint64_t arm64_machine = 0xaa64;           // IMAGE_FILE_MACHINE_ARM64
    const std::uint64_t pe = le(head, 0x3c, 4);
    if (pe + coff_size > head.size() || std::memcmp(head.data() + pe, "PE\0\0", 4) != 0)
        return "its EFI stub has no PE header at offset " + std::to_string(pe);
    if (le(head, pe + 4, 2) != arm64_machine) return "its PE header is not for arm64 (machine " + kvmxx::trace::hex(le(head, pe + 4, 2)) + ")";
    const std::uint64_t sections = le(head, pe + 6, 2);
    const std::uint64_t table = pe + coff_size + le(head, pe + 20, 2);  // after the optional header
    if (table + sections * section_size > head.size())
        return "its PE section table lies past the first " + std::to_string(head.size()) + " bytes";
    for (std::uint64_t i = 0; i < sections; ++i) {
        const std::size_t at = table + i * section_size;
        const std::uint64_t end = le(head, at + 20, 4) + le(head, at + 16, 4);  // PointerToRawData + SizeOfRawData
        if (end > file_size) {
            std::string name(reinterpret_cast<const char*>(head.data() + at), 8);
            name = name.substr(0, name.find('\0'));
            return "it is truncated: its section " + name + " ends at byte " + std::to_string(end) + " but the file has " +
                   std::to_string(file_size) + " (copy the kernel again)";
        }
    }
    return "";
}
}  // namespace detail

/// The header of an arm64 Image whose first bytes are `head` (at least 64, or the
/// whole file) and whose size is `file_size`; a bad_input error saying why it is
/// not one, or why it is damaged.
inline kvmxx::Result<ImageHeader> parse_image_header(std::span<const std::uint8_t> head, std::uint64_t file_size) {
    if (file_size < 64 || head.size() < 64)
        return bad_input("it is " + std::to_string(file_size) + " bytes, shorter than the 64-byte arm64 Image header");
    if (std::memcmp(head.data() + 56, "ARM\x64", 4) != 0)
        return bad_input("it has no arm64 Image magic (\"ARM\\x64\" at offset 56): not an uncompressed arm64 kernel Image"
                         " (a vmlinuz.gz, an EFI zboot or an x86 bzImage are not accepted)");
    ImageHeader h{detail::le(head, 8, 8), detail::le(head, 16, 8), detail::le(head, 24, 8)};
    if (h.image_size == 0) {  // kernels before 3.17: unknown size, text_offset 0x80000
        h.text_offset = 0x80000;
        h.image_size = file_size;
    }
    if (h.image_size < file_size)
        return bad_input("its header says image_size=" + std::to_string(h.image_size) + " but the file is larger");
    if (head[0] == 'M' && head[1] == 'Z')
        if (auto why = detail::check_pe_sections(head, file_size); !why.empty()) return bad_input(why);
    return h;
}

/// The same for a kernel held whole in memory.
inline kvmxx::Result<ImageHeader> parse_image_header(std::span<const std::uint8_t> bytes) {
    return parse_image_header(bytes, bytes.size());
}

/// Where a raw binary (no Image header) is loaded, from the start of RAM: kvmtool's rule.
inline constexpr std::uint64_t raw_binary_offset = 0x80000;

/// What a kernel file is: an arm64 Image with its header, or a raw binary.
struct KernelFile {
    ImageHeader header;  ///< for a raw binary: text_offset 0x80000, image_size = its size
    bool raw = false;
};

namespace detail {
/// The name of a wrapper a kernel may come in (gzip, ELF, ...) whose magic starts
/// `head`; "" for none this VMM knows.
inline std::string packed_kernel(std::span<const std::uint8_t> head) {
    auto at = [&](std::size_t off, std::string_view magic) {
        return head.size() >= off + magic.size() && std::memcmp(head.data() + off, magic.data(), magic.size()) == 0;
    };
    if (at(0, "\x1f\x8b")) return "a gzip file (a vmlinuz.gz?): gunzip it";
    if (at(0, "\xfd" "7zXZ")) return "an xz file: unxz it";
    if (at(0, "\x28\xb5\x2f\xfd")) return "a zstd file: unzstd it";
    if (at(0, "MZ") && at(4, "zimg")) return "an EFI zboot image: give the uncompressed Image";
    if (at(0, "\x7f" "ELF")) return "an ELF file (a vmlinux?): give arch/arm64/boot/Image, or objcopy -O binary it";
    if (at(0x202, "HdrS")) return "an x86 bzImage";
    return "";
}
}  // namespace detail

/// An arm64 Image (parse_image_header), or else a raw binary; a bad_input error
/// for an empty file, a damaged Image, or a kernel in a wrapper (gzip, ELF, ...).
inline kvmxx::Result<KernelFile> parse_kernel(std::span<const std::uint8_t> head, std::uint64_t file_size) {
    if (file_size == 0 || head.empty()) return bad_input("it is empty: give an arm64 Image or a raw binary");
    if (head.size() >= 64 && std::memcmp(head.data() + 56, "ARM\x64", 4) == 0) {
        auto h = parse_image_header(head, file_size);
        if (!h) return kvmxx::unexpected<kvmxx::Error>(h.error());
        return KernelFile{*h, false};
    }
    if (auto what = detail::packed_kernel(head); !what.empty())
        return bad_input("it is " + what + " (no arm64 Image magic \"ARM\\x64\" at offset 56)");
    return KernelFile{{raw_binary_offset, file_size, 0}, true};
}

}  // namespace vmm
