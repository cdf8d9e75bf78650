// loader.hpp — the arm64 Linux boot protocol (Documentation/arch/arm64/booting.rst):
// decide where the kernel (an Image or a raw binary: kernel_image.hpp), the
// initrd and the DTB go in guest RAM, and put them there.
//
// BootImages opens the files, checks them and plans their places before a VM
// exists; once the device tree is made, it reads the kernel and initrd straight
// into guest RAM, copies the device tree there and sets the boot CPU's entry state.
#pragma once

#include "errors.hpp"
#include "kernel_image.hpp"

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
        auto header = parse_kernel(head, b.kernel.size);
        if (!header) return context("--kernel " + kernel_path, header.error());
        if (header->raw)
            warn("--kernel " + kernel_path + " has no arm64 Image header: loading it as a raw binary at " +
                 kvmxx::trace::hex(ram_base + raw_binary_offset) + ", entered there with the DTB address in x0");
        if (!initrd_path.empty()) {
            auto initrd = InputFile::open(initrd_path, "--initrd");
            if (!initrd) return kvmxx::unexpected<kvmxx::Error>(initrd.error());
            b.initrd = std::move(*initrd);
        }
        auto layout = plan_boot(ram_base, ram_size, header->header, b.initrd.size, dtb_max);
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
