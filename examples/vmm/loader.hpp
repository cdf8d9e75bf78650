// loader.hpp — the arm64 Linux boot protocol (Documentation/arch/arm64/booting.rst):
// check that a file is an arm64 kernel Image and decide where the Image, the
// initrd and the DTB go in guest RAM.
//
// The Image starts with a 64-byte header: code0/code1, text_offset (where in a
// 2 MiB-aligned region the Image must sit), image_size (how much memory it
// needs, bss included), flags, and the magic "ARM\x64" at offset 56. A file
// without the magic is refused: booting garbage only shows up as a silent guest.
// So is a damaged one: an EFI-stub Image (Debian's) is also a PE/COFF file whose
// section table says how long the file must be.
//
// BootImages opens the files, checks them and plans their places before a VM
// exists; once the device tree is made, it reads the kernel and initrd straight
// into guest RAM, copies the device tree there and sets the boot CPU's entry state.
#pragma once

#include "errors.hpp"

#include <kvmxx/kvmxx.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

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

/// Where each part goes in guest RAM [ram_base, ram_base + ram_size).
struct BootLayout {
    std::uint64_t kernel;      ///< load address = entry point
    std::uint64_t initrd = 0;  ///< 0: none
    std::uint64_t initrd_size = 0;
    std::uint64_t dtb;
};

/// Kernel at ram_base + text_offset (ram_base is 2 MiB aligned); the initrd after
/// the kernel's image_size, 2 MiB aligned; the DTB (≤ 2 MiB, 8-byte aligned) in the
/// last 2 MiB of RAM. A bad_input error when they do not fit.
inline kvmxx::Result<BootLayout> plan_boot(std::uint64_t ram_base, std::uint64_t ram_size, const ImageHeader& image,
                                           std::uint64_t initrd_size, std::uint64_t dtb_size) {
    constexpr std::uint64_t align = 2 << 20;
    auto up = [](std::uint64_t v, std::uint64_t a) { return (v + a - 1) & ~(a - 1); };
    BootLayout l{};
    if (dtb_size > align || ram_size < 2 * align)
        return bad_input("the device tree needs the last 2 MiB of RAM; give the guest more memory");
    l.dtb = ram_base + ram_size - align;
    // Compared as sizes, never as sums: a header's text_offset and image_size are
    // any 64-bit values, and ram_base + text_offset + image_size may wrap.
    const std::uint64_t before_dtb = ram_size - align;
    if (image.text_offset > before_dtb || image.image_size > before_dtb - image.text_offset)
        return bad_input("the kernel does not fit in " + std::to_string(ram_size >> 20) +
                         " MiB of RAM; give --memory more");
    l.kernel = ram_base + image.text_offset;
    const std::uint64_t kernel_end = l.kernel + image.image_size;
    if (initrd_size) {
        l.initrd = up(kernel_end, align);
        l.initrd_size = initrd_size;
        if (l.initrd > l.dtb || initrd_size > l.dtb - l.initrd)
            return bad_input("the kernel (" + std::to_string(image.image_size >> 20) + " MiB) and the initrd (" +
                             std::to_string(initrd_size >> 20) + " MiB) do not fit in " +
                             std::to_string(ram_size >> 20) + " MiB of RAM with the device tree; give --memory more");
    }
    return l;
}

/// A file opened for reading, with its size; an error naming the option it came from.
struct InputFile {
    kvmxx::UniqueFd fd;
    std::uint64_t size = 0;

    static kvmxx::Result<InputFile> open(const std::string& path, const char* option) {
        auto failed = [&](int e) {
            return kvmxx::unexpected<kvmxx::Error>(
                kvmxx::Error(vmm_op, e, std::string("cannot read ") + option + " " + path + ": " + std::strerror(e)));
        };
        InputFile f{kvmxx::UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)), 0};
        struct stat st {};
        if (!f.fd || ::fstat(f.fd.get(), &st) != 0) return failed(errno);
        if (!S_ISREG(st.st_mode)) return failed(S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
        f.size = static_cast<std::uint64_t>(st.st_size);
        return f;
    }

    /// Fills `out` from `offset` with pread(2): straight into guest RAM, no copy kept.
    kvmxx::Result<> read_at(std::uint64_t offset, std::span<std::uint8_t> out, const std::string& what) const {
        for (std::size_t done = 0; done < out.size();) {
            const ssize_t n = ::pread(fd.get(), out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0)
                return kvmxx::unexpected<kvmxx::Error>(kvmxx::Error(vmm_op, n < 0 ? errno : EIO,
                    "reading " + what + ": " + (n < 0 ? std::strerror(errno) : "the file shrank while being read")));
            done += static_cast<std::size_t>(n);
        }
        return {};
    }
};

/// The kernel and initrd, checked and placed in RAM [ram_base, ram_base + ram_size).
/// Only their headers are read at first; place() reads each file once, into guest
/// RAM, so the VMM never holds a second copy of either.
struct BootImages {
    static constexpr std::uint64_t dtb_max = 64 << 10;  ///< room planned for the device tree

    InputFile kernel, initrd;  ///< initrd.size == 0: none
    BootLayout layout;

    /// Opens `kernel_path` (an arm64 Image, checked against its own headers) and
    /// `initrd_path` ("" for none) and plans their places.
    static kvmxx::Result<BootImages> load(const std::string& kernel_path, const std::string& initrd_path,
                                          std::uint64_t ram_base, std::uint64_t ram_size) {
        BootImages b{};
        auto kernel = InputFile::open(kernel_path, "--kernel");
        if (!kernel) return kvmxx::unexpected<kvmxx::Error>(kernel.error());
        b.kernel = std::move(*kernel);
        std::vector<std::uint8_t> head(std::min<std::uint64_t>(b.kernel.size, image_head_bytes));
        if (auto r = b.kernel.read_at(0, head, "--kernel " + kernel_path); !r) return kvmxx::unexpected<kvmxx::Error>(r.error());
        auto header = parse_image_header(head, b.kernel.size);
        if (!header) return context("--kernel " + kernel_path, header.error());
        if (!initrd_path.empty()) {
            auto initrd = InputFile::open(initrd_path, "--initrd");
            if (!initrd) return kvmxx::unexpected<kvmxx::Error>(initrd.error());
            b.initrd = std::move(*initrd);
        }
        auto layout = plan_boot(ram_base, ram_size, *header, b.initrd.size, dtb_max);
        if (!layout) return kvmxx::unexpected<kvmxx::Error>(layout.error());
        b.layout = *layout;
        return b;
    }

    /// Guest-physical [start, end) of the initrd, for /chosen; {0, 0} without one.
    std::uint64_t initrd_start() const noexcept { return initrd.size ? layout.initrd : 0; }
    std::uint64_t initrd_end() const noexcept { return initrd.size ? layout.initrd + initrd.size : 0; }

    /// Reads the kernel and the initrd into guest RAM, copies `dtb` there, and
    /// sets the boot CPU's entry state: PC = kernel, x0 = DTB, x1..x3 = 0
    /// (KVM_ARM_VCPU_INIT already gave EL1h with interrupts masked and the MMU off).
    kvmxx::Result<> place(kvmxx::Vm& vm, kvmxx::Vcpu& boot_cpu, std::span<const std::uint8_t> dtb) const {
        if (dtb.size() > dtb_max)
            return kvmxx::unexpected<kvmxx::Error>(kvmxx::Error(vmm_op, E2BIG, "the device tree outgrew its room"));
        if (auto r = read_into(vm, kernel, layout.kernel, "the kernel"); !r) return r;
        if (auto r = read_into(vm, initrd, layout.initrd, "the initrd"); !r) return r;
        if (auto r = vm.write(layout.dtb, dtb); !r) return context("loading the device tree", r.error());
        note("kernel at " + kvmxx::trace::hex(layout.kernel) + ", initrd at " + kvmxx::trace::hex(layout.initrd) + " (" +
             std::to_string(initrd.size) + " bytes), dtb at " + kvmxx::trace::hex(layout.dtb) + " (" +
             std::to_string(dtb.size()) + " bytes)");
        namespace reg = kvmxx::arm64::reg;
        if (auto r = boot_cpu.set(reg::pc, layout.kernel); !r) return context("setting the entry point", r.error());
        if (auto r = boot_cpu.set(reg::x(0), layout.dtb); !r) return context("passing the device tree", r.error());
        return {};
    }

private:
    static kvmxx::Result<> read_into(kvmxx::Vm& vm, const InputFile& file, std::uint64_t gpa, const std::string& what) {
        if (file.size == 0) return {};
        auto dst = vm.guest_span(gpa, file.size);
        if (!dst) return context("loading " + what, dst.error());
        return file.read_at(0, *dst, what);
    }
};

}  // namespace vmm
