// loader.hpp — the arm64 Linux boot protocol (Documentation/arch/arm64/booting.rst):
// check that a file is an arm64 kernel Image and decide where the Image, the
// initrd and the DTB go in guest RAM.
//
// The Image starts with a 64-byte header: code0/code1, text_offset (where in a
// 2 MiB-aligned region the Image must sit), image_size (how much memory it
// needs, bss included), flags, and the magic "ARM\x64" at offset 56. A file
// without the magic is refused: booting garbage only shows up as a silent guest.
//
// BootImages reads the files, checks them and plans their places before a VM
// exists; once the device tree is made, it copies all three into guest RAM and
// sets the boot CPU's entry state.
#pragma once

#include "errors.hpp"

#include <kvmxx/kvmxx.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace vmm {

struct ImageHeader {
    std::uint64_t text_offset;
    std::uint64_t image_size;
    std::uint64_t flags;
};

/// The header of an arm64 Image, or a bad_input error saying why `bytes` is not one.
inline kvmxx::Result<ImageHeader> parse_image_header(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < 64)
        return bad_input("it is " + std::to_string(bytes.size()) + " bytes, shorter than the 64-byte arm64 Image header");
    auto le64 = [&](std::size_t off) {
        std::uint64_t v = 0;
        for (int i = 7; i >= 0; --i) v = (v << 8) | bytes[off + static_cast<std::size_t>(i)];
        return v;
    };
    if (std::memcmp(bytes.data() + 56, "ARM\x64", 4) != 0)
        return bad_input("it has no arm64 Image magic (\"ARM\\x64\" at offset 56): not an uncompressed arm64 kernel Image"
                         " (a vmlinuz.gz, an EFI zboot or an x86 bzImage are not accepted)");
    ImageHeader h{le64(8), le64(16), le64(24)};
    if (h.image_size == 0) {  // kernels before 3.17: unknown size, text_offset 0x80000
        h.text_offset = 0x80000;
        h.image_size = bytes.size();
    }
    if (h.image_size < bytes.size())
        return bad_input("its header says image_size=" + std::to_string(h.image_size) + " but the file is larger");
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
/// last 2 MiB of RAM. A bad_input error when they do not fit.
inline kvmxx::Result<BootLayout> plan_boot(std::uint64_t ram_base, std::uint64_t ram_size, const ImageHeader& image,
                                           std::uint64_t initrd_size, std::uint64_t dtb_size) {
    constexpr std::uint64_t align = 2 << 20;
    auto up = [](std::uint64_t v, std::uint64_t a) { return (v + a - 1) & ~(a - 1); };
    BootLayout l{};
    l.kernel = ram_base + image.text_offset;
    const std::uint64_t kernel_end = l.kernel + image.image_size;
    if (dtb_size > align || ram_size < 2 * align)
        return bad_input("the device tree needs the last 2 MiB of RAM; give the guest more memory");
    l.dtb = ram_base + ram_size - align;
    if (initrd_size) {
        l.initrd = up(kernel_end, align);
        l.initrd_size = initrd_size;
        if (l.initrd + initrd_size > l.dtb)
            return bad_input("the kernel (" + std::to_string(image.image_size >> 20) + " MiB) and the initrd (" +
                             std::to_string(initrd_size >> 20) + " MiB) do not fit in " +
                             std::to_string(ram_size >> 20) + " MiB of RAM with the device tree; give --memory more");
    } else if (kernel_end > l.dtb) {
        return bad_input("the kernel does not fit in " + std::to_string(ram_size >> 20) +
                         " MiB of RAM; give --memory more");
    }
    return l;
}

/// The whole of a file, or an error naming the option it came from.
inline kvmxx::Result<std::vector<std::uint8_t>> read_whole_file(const std::string& path, const char* option) {
    std::ifstream f(path, std::ios::binary);
    if (!f)
        return kvmxx::unexpected<kvmxx::Error>(kvmxx::Error(
            vmm_op, errno, std::string("cannot read ") + option + " " + path + ": " + std::strerror(errno)));
    return std::vector<std::uint8_t>{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

/// The kernel and initrd, checked and placed in RAM [ram_base, ram_base + ram_size).
struct BootImages {
    static constexpr std::uint64_t dtb_max = 64 << 10;  ///< room planned for the device tree

    std::vector<std::uint8_t> kernel, initrd;
    BootLayout layout;

    /// Reads `kernel_path` (an arm64 Image) and `initrd_path` ("" for none) and
    /// plans their places; the initrd's size is checked before it is read.
    static kvmxx::Result<BootImages> load(const std::string& kernel_path, const std::string& initrd_path,
                                          std::uint64_t ram_base, std::uint64_t ram_size) {
        BootImages b{};
        auto kernel = read_whole_file(kernel_path, "--kernel");
        if (!kernel) return kvmxx::unexpected<kvmxx::Error>(kernel.error());
        b.kernel = std::move(*kernel);
        auto header = parse_image_header(b.kernel);
        if (!header) return context("--kernel " + kernel_path, header.error());
        std::error_code size_error;
        const auto initrd_size = initrd_path.empty() ? 0 : std::filesystem::file_size(initrd_path, size_error);
        if (size_error)
            return kvmxx::unexpected<kvmxx::Error>(
                kvmxx::Error(vmm_op, size_error.value(), "cannot read --initrd " + initrd_path + ": " + size_error.message()));
        auto layout = plan_boot(ram_base, ram_size, *header, initrd_size, dtb_max);
        if (!layout) return kvmxx::unexpected<kvmxx::Error>(layout.error());
        b.layout = *layout;
        if (!initrd_path.empty()) {
            auto initrd = read_whole_file(initrd_path, "--initrd");
            if (!initrd) return kvmxx::unexpected<kvmxx::Error>(initrd.error());
            b.initrd = std::move(*initrd);
        }
        return b;
    }

    /// Guest-physical [start, end) of the initrd, for /chosen; {0, 0} without one.
    std::uint64_t initrd_start() const noexcept { return initrd.empty() ? 0 : layout.initrd; }
    std::uint64_t initrd_end() const noexcept { return initrd.empty() ? 0 : layout.initrd + initrd.size(); }

    /// Copies the kernel, the initrd and `dtb` into guest RAM, and sets the boot
    /// CPU's entry state: PC = kernel, x0 = DTB, x1..x3 = 0 (KVM_ARM_VCPU_INIT
    /// already gave EL1h with interrupts masked and the MMU off).
    kvmxx::Result<> place(kvmxx::Vm& vm, kvmxx::Vcpu& boot_cpu, std::span<const std::uint8_t> dtb) const {
        if (dtb.size() > dtb_max)
            return kvmxx::unexpected<kvmxx::Error>(kvmxx::Error(vmm_op, E2BIG, "the device tree outgrew its room"));
        if (auto r = vm.write(layout.kernel, kernel); !r) return context("loading the kernel", r.error());
        if (!initrd.empty())
            if (auto r = vm.write(layout.initrd, initrd); !r) return context("loading the initrd", r.error());
        if (auto r = vm.write(layout.dtb, dtb); !r) return context("loading the device tree", r.error());
        note("kernel at " + kvmxx::trace::hex(layout.kernel) + ", initrd at " + kvmxx::trace::hex(layout.initrd) + " (" +
             std::to_string(initrd.size()) + " bytes), dtb at " + kvmxx::trace::hex(layout.dtb) + " (" +
             std::to_string(dtb.size()) + " bytes)");
        namespace reg = kvmxx::arm64::reg;
        if (auto r = boot_cpu.set(reg::pc, layout.kernel); !r) return context("setting the entry point", r.error());
        if (auto r = boot_cpu.set(reg::x(0), layout.dtb); !r) return context("passing the device tree", r.error());
        return {};
    }
};

}  // namespace vmm
