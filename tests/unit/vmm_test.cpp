// The example VMM's pure parts, on the host: its command line, the arm64 Image
// checks and boot layout, the device-tree writer, the PL011's registers, and the
// PCI logic that needs no device (ECAM decoding, BAR registers and placement,
// memory-slot pieces around trapped pages, the emulated MSI-X table). What needs
// the device and KVM runs in tests/e2e.
#include "../../examples/vmm/board.hpp"
#include "../../examples/vmm/boot_timer.hpp"
#include "../../examples/vmm/console.hpp"
#include "../../examples/vmm/dtb.hpp"
#include "../../examples/vmm/gic.hpp"
#include "../../examples/vmm/loader.hpp"
#include "../../examples/vmm/log_limit.hpp"
#include "../../examples/vmm/msix.hpp"
#include "../../examples/vmm/options.hpp"
#include "../../examples/vmm/passthrough_bar.hpp"
#include "../../examples/vmm/pci_host.hpp"
#include "../../examples/vmm/pl011.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include <cstdio>
#include <cstring>

namespace {

/// The parse, with its error's one line in `error`.
kvmxx::Result<vmm::Options> parse(std::vector<std::string> args, std::string& error) {
    auto r = vmm::parse_options(args);
    if (!r) error = vmm::text(r.error());
    return r;
}
kvmxx::Result<vmm::ImageHeader> parse_image_header(std::span<const std::uint8_t> bytes, std::string& why) {
    auto r = vmm::parse_image_header(bytes);
    if (!r) why = vmm::text(r.error());
    return r;
}
kvmxx::Result<vmm::BootLayout> plan_boot(std::uint64_t ram_base, std::uint64_t ram_size, const vmm::ImageHeader& image,
                                         std::uint64_t initrd_size, std::uint64_t dtb_size, std::string& why) {
    auto r = vmm::plan_boot(ram_base, ram_size, image, initrd_size, dtb_size);
    if (!r) why = vmm::text(r.error());
    return r;
}

TEST(VmmOptions, ParsesEveryOptionAndSizes) {
    std::string e;
    auto o = parse({"--kernel", "Image", "--initrd", "i.cpio", "--cmdline", "quiet", "--cpus", "4", "--memory", "1G",
                    "--device", "vfio:0000:00:04.0", "--trace", "--allow-reset"}, e);
    ASSERT_TRUE(o) << e;
    EXPECT_EQ(o->kernel, "Image");
    EXPECT_EQ(o->cpus, 4u);
    EXPECT_EQ(o->memory, 1ull << 30);
    EXPECT_EQ(o->devices, (std::vector<std::string>{"0000:00:04.0"}));
    EXPECT_TRUE(o->trace);
    EXPECT_TRUE(o->allow_reset);
    EXPECT_FALSE(parse({"--kernel", "Image"}, e)->allow_reset);  // a reset is a failure unless asked
    // SVE and pointer authentication: unset means "where the host has them".
    EXPECT_FALSE(parse({"--kernel", "Image"}, e)->sve.has_value());
    auto cpu = parse({"--kernel", "Image", "--no-sve", "--ptrauth"}, e);
    ASSERT_TRUE(cpu) << e;
    EXPECT_EQ(cpu->sve, false);
    EXPECT_EQ(cpu->ptrauth, true);
    auto lengths = parse({"--kernel", "Image", "--sve-lengths", "128,256,2048"}, e);
    ASSERT_TRUE(lengths) << e;
    EXPECT_EQ(lengths->sve_lengths, (std::vector<unsigned>{128, 256, 2048}));
    EXPECT_EQ(parse({"--kernel", "Image"}, e)->console, "stdio");
    EXPECT_EQ(parse({"--kernel", "Image", "--console", "file:/tmp/c"}, e)->console, "file:/tmp/c");
    EXPECT_EQ(vmm::parse_size("256M"), 256ull << 20);
    EXPECT_EQ(vmm::parse_size("4096"), 4096u);
    EXPECT_FALSE(vmm::parse_size("12Q"));
    EXPECT_FALSE(vmm::parse_size("99999999999999999999"));
}

TEST(VmmOptions, BadInputIsOneLineSayingWhatToDo) {
    std::string e;
    EXPECT_FALSE(parse({"--kernel", "I", "--bogus"}, e));
    EXPECT_EQ(e, "unknown option '--bogus' (see --help)");
    EXPECT_FALSE(parse({}, e));
    EXPECT_NE(e.find("--kernel is missing"), std::string::npos);
    EXPECT_FALSE(parse({"--kernel", "I", "--cpus", "0"}, e));
    EXPECT_NE(e.find("from 1 to 8"), std::string::npos);
    EXPECT_FALSE(parse({"--kernel", "I", "--cpus", "99"}, e));
    EXPECT_FALSE(parse({"--kernel", "I", "--memory", "lots"}, e));
    EXPECT_NE(e.find("not a size"), std::string::npos);
    EXPECT_FALSE(parse({"--kernel", "I", "--memory", "16M"}, e));
    EXPECT_NE(e.find("from 64M"), std::string::npos);
    EXPECT_FALSE(parse({"--kernel", "I", "--device", "0000:00:04.0"}, e));
    EXPECT_NE(e.find("vfio:BDF"), std::string::npos);
    EXPECT_FALSE(parse({"--kernel"}, e));
    EXPECT_EQ(e, "--kernel needs a file");
    EXPECT_FALSE(parse({"--kernel", "I", "--device", "vfio:0000:00:04.0", "--device", "vfio:0000:00:03.0",
                        "--device", "vfio:0000:00:04.0"}, e));
    EXPECT_EQ(e, "--device vfio:0000:00:04.0 is given twice; pass each device once");
    for (const char* bad : {"128,100", "128,", "0", "4096", "256k", "-128"}) {
        EXPECT_FALSE(parse({"--kernel", "I", "--sve-lengths", bad}, e)) << bad;
        EXPECT_NE(e.find("is not a vector length: give multiples of 128 up to 2048"), std::string::npos) << e;
    }
    EXPECT_FALSE(parse({"--kernel", "I", "--sve-lengths", "128", "--no-sve"}, e));
    EXPECT_EQ(e, "--sve-lengths with --no-sve: give one or the other");
    EXPECT_TRUE(parse({"--help"}, e)->help);
}

TEST(VmmOptions, KvmtoolsSpellingsMeanTheSame) {
    std::string e;
    // A script written for kvmtool: lkvm run -k Image -i initrd -p "..." -c 2 -m 512M.
    auto o = parse({"-k", "Image", "-i", "i.cpio", "-p", "console=ttyAMA0 quiet", "-c", "2", "-m", "512M"}, e);
    ASSERT_TRUE(o) << e;
    EXPECT_EQ(o->kernel, "Image");
    EXPECT_EQ(o->initrd, "i.cpio");
    EXPECT_EQ(o->cmdline, "console=ttyAMA0 quiet");
    EXPECT_EQ(o->cpus, 2u);
    EXPECT_EQ(o->memory, 512ull << 20);
    auto params = parse({"--kernel", "Image", "--params", "earlycon"}, e);
    ASSERT_TRUE(params) << e;
    EXPECT_EQ(params->cmdline, "earlycon");
    // The last of --cmdline, --params and -p wins, as with any repeated option.
    EXPECT_EQ(parse({"-k", "I", "--cmdline", "a", "--params", "b", "-p", "c"}, e)->cmdline, "c");
    EXPECT_FALSE(parse({"-k", "I"}, e)->pmu);
    EXPECT_TRUE(parse({"-k", "I", "--pmu"}, e)->pmu);
}

TEST(VmmOptions, BadInputToAShortFormNamesTheShortForm) {
    std::string e;
    EXPECT_FALSE(parse({"-k"}, e));
    EXPECT_EQ(e, "-k needs a file");
    EXPECT_FALSE(parse({"-k", "I", "-i"}, e));
    EXPECT_EQ(e, "-i needs a file");
    EXPECT_FALSE(parse({"-k", "I", "-p"}, e));
    EXPECT_EQ(e, "-p needs a string");
    EXPECT_FALSE(parse({"-k", "I", "--params"}, e));
    EXPECT_EQ(e, "--params needs a string");
    EXPECT_FALSE(parse({"-k", "I", "-c", "0"}, e));
    EXPECT_EQ(e, "-c 0: give a number from 1 to 8");
    EXPECT_FALSE(parse({"-k", "I", "-c"}, e));
    EXPECT_EQ(e, "-c needs a number");
    EXPECT_FALSE(parse({"-k", "I", "-m", "lots"}, e));
    EXPECT_EQ(e, "-m lots: not a size; write bytes or a number with K, M or G (e.g. 256M)");
    EXPECT_FALSE(parse({"-k", "I", "-m", "65M"}, e));
    EXPECT_EQ(e, "-m 65M: give a multiple of 2M from 64M to 64G");
    EXPECT_FALSE(parse({"-k", "I", "-x"}, e));
    EXPECT_EQ(e, "unknown option '-x' (see --help)");
    EXPECT_FALSE(parse({"-i", "i.cpio"}, e));
    EXPECT_NE(e.find("--kernel is missing"), std::string::npos);
}

std::vector<std::uint8_t> fake_image(std::uint64_t text_offset, std::uint64_t image_size, std::size_t file_size) {
    std::vector<std::uint8_t> v(file_size);
    std::memcpy(&v[8], &text_offset, 8);
    std::memcpy(&v[16], &image_size, 8);
    std::memcpy(&v[56], "ARM\x64", 4);
    return v;
}

TEST(VmmLoader, AcceptsAnArm64ImageAndRefusesEverythingElse) {
    std::string why;
    auto h = parse_image_header(fake_image(0, 32 << 20, 4096), why);
    ASSERT_TRUE(h) << why;
    EXPECT_EQ(h->image_size, 32u << 20);
    std::vector<std::uint8_t> gz(4096, 0x1f);
    EXPECT_FALSE(parse_image_header(gz, why));
    EXPECT_NE(why.find("no arm64 Image magic"), std::string::npos);
    EXPECT_FALSE(parse_image_header(std::vector<std::uint8_t>(10), why));
    EXPECT_NE(why.find("shorter than the 64-byte"), std::string::npos);
    EXPECT_FALSE(parse_image_header(fake_image(0, 100, 4096), why));
    EXPECT_NE(why.find("file is larger"), std::string::npos);
}

TEST(VmmLoader, AFileWithoutTheHeaderIsARawBinaryAtRamPlus0x80000) {
    std::string why;
    auto parse_kernel = [&](std::span<const std::uint8_t> b) {
        auto r = vmm::parse_kernel(b, b.size());
        if (!r) why = vmm::text(r.error());
        return r;
    };
    const std::vector<std::uint8_t> code{0x00, 0x00, 0x00, 0x14};  // b . — one instruction is a program
    auto raw = parse_kernel(code);
    ASSERT_TRUE(raw) << why;
    EXPECT_TRUE(raw->raw);
    EXPECT_EQ(raw->header.text_offset, 0x80000u);
    EXPECT_EQ(raw->header.image_size, 4u);
    auto layout = plan_boot(0x4000'0000, 64 << 20, raw->header, 0, 4096, why);
    ASSERT_TRUE(layout) << why;
    EXPECT_EQ(layout->kernel, 0x4008'0000u);
    auto image = parse_kernel(fake_image(0, 1 << 20, 4096));
    ASSERT_TRUE(image) << why;
    EXPECT_FALSE(image->raw);
    EXPECT_FALSE(parse_kernel(fake_image(0, 100, 4096)));  // an Image that lies is still refused
    EXPECT_NE(why.find("file is larger"), std::string::npos);
    EXPECT_FALSE(parse_kernel({}));
    EXPECT_EQ(why, "it is empty: give an arm64 Image or a raw binary");
    // Kernels in a wrapper are refused by name, not run as code.
    std::vector<std::uint8_t> bz(4096);
    std::memcpy(&bz[0x202], "HdrS", 4);
    for (auto [bytes, name] : {std::pair<std::vector<std::uint8_t>, const char*>{{0x1f, 0x8b, 8, 0}, "a gzip file"},
                               {{0xfd, '7', 'z', 'X', 'Z', 0}, "an xz file"},
                               {{0x28, 0xb5, 0x2f, 0xfd}, "a zstd file"},
                               {{'M', 'Z', 0, 0, 'z', 'i', 'm', 'g'}, "an EFI zboot image"},
                               {{0x7f, 'E', 'L', 'F', 2}, "an ELF file"},
                               {bz, "an x86 bzImage"}}) {
        EXPECT_FALSE(parse_kernel(bytes)) << name;
        EXPECT_EQ(why.rfind(std::string("it is ") + name, 0), 0u) << why;
    }
}

/// An EFI-stub Image as Debian ships it, in small: "MZ", the PE header at 0x40
/// (machine 0xaa64, no optional header) and two sections, the last one ending at
/// 0x4000 (PE/COFF spec: section headers of 40 bytes, SizeOfRawData at +16,
/// PointerToRawData at +20).
std::vector<std::uint8_t> fake_efi_image(std::uint16_t machine = 0xaa64) {
    auto v = fake_image(0, 1 << 20, 0x4000);
    auto put = [&](std::size_t at, std::uint32_t value, int bytes) {
        for (int i = 0; i < bytes; ++i) v[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value >> (8 * i));
    };
    v[0] = 'M', v[1] = 'Z';
    put(0x3c, 0x40, 4);
    std::memcpy(&v[0x40], "PE\0\0", 4);
    put(0x44, machine, 2);
    put(0x46, 2, 2);  // NumberOfSections
    put(0x54, 0, 2);  // SizeOfOptionalHeader
    const std::size_t table = 0x40 + 24;
    std::memcpy(&v[table], ".text\0\0\0", 8);
    put(table + 16, 0x2000, 4), put(table + 20, 0x1000, 4);
    std::memcpy(&v[table + 40], ".data\0\0\0", 8);
    put(table + 40 + 16, 0x1000, 4), put(table + 40 + 20, 0x3000, 4);
    return v;
}

TEST(VmmLoader, AnEfiStubImageCutShortIsRefusedByItsSectionTable) {
    std::string why;
    const auto whole = fake_efi_image();
    EXPECT_TRUE(parse_image_header(whole, why)) << why;
    const std::span<const std::uint8_t> head(whole.data(), 0x3800);  // the first 14 KiB: what a cut copy holds
    auto cut = vmm::parse_image_header(head, head.size());
    ASSERT_FALSE(cut);
    EXPECT_EQ(cut.error().detail(), "it is truncated: its section .data ends at byte 16384 but the file has 14336 "
                                    "(copy the kernel again)");
    EXPECT_TRUE(vmm::parse_image_header(std::span(whole.data(), 0x100), whole.size())) << "the head is enough to check";
    EXPECT_FALSE(parse_image_header(fake_efi_image(0x8664), why));
    EXPECT_NE(why.find("not for arm64 (machine 0x8664)"), std::string::npos) << why;
    auto no_pe = whole;
    no_pe[0x40] = 'X';
    EXPECT_FALSE(parse_image_header(no_pe, why));
    EXPECT_NE(why.find("no PE header at offset 64"), std::string::npos) << why;
}

TEST(VmmLoader, PlacesKernelInitrdAndDtbOrSaysTheyDoNotFit) {
    std::string why;
    vmm::ImageHeader h{0, 40 << 20, 0};
    auto l = plan_boot(0x4000'0000, 256 << 20, h, 10 << 20, 64 << 10, why);
    ASSERT_TRUE(l) << why;
    EXPECT_EQ(l->kernel, 0x4000'0000u);
    EXPECT_EQ(l->initrd, 0x4000'0000u + (40 << 20));
    EXPECT_EQ(l->dtb, 0x4000'0000u + (254 << 20));
    EXPECT_FALSE(plan_boot(0x4000'0000, 64 << 20, h, 30 << 20, 64 << 10, why));
    EXPECT_NE(why.find("do not fit"), std::string::npos);
    // A header's sizes are anything: sums that would wrap past 2^64 are refused,
    // never planned at a wrapped address below RAM (found by the image_header fuzzer).
    for (const vmm::ImageHeader& huge : {vmm::ImageHeader{0, ~0ull - (1 << 20), 0}, vmm::ImageHeader{~0ull - 0x1000, 0x2000, 0},
                                         vmm::ImageHeader{254ull << 20, 1, 0}}) {
        EXPECT_FALSE(plan_boot(0x4000'0000, 256 << 20, huge, 0, 64 << 10, why)) << huge.text_offset << " " << huge.image_size;
        EXPECT_EQ(why, "the kernel does not fit in 256 MiB of RAM; give --memory more");
    }
    EXPECT_FALSE(plan_boot(0x4000'0000, 256 << 20, h, ~0ull - (4 << 20), 64 << 10, why)) << "an initrd of 2^64 bytes";
    EXPECT_NE(why.find("do not fit"), std::string::npos);
}

std::uint32_t be32(const std::vector<std::uint8_t>& v, std::size_t at) {
    return std::uint32_t{v[at]} << 24 | std::uint32_t{v[at + 1]} << 16 | std::uint32_t{v[at + 2]} << 8 | v[at + 3];
}

TEST(VmmFdt, HeaderBlocksAndTokensFollowTheSpec) {
    vmm::FdtWriter f;
    f.begin_node("");
    f.prop_u32("#address-cells", 2);
    f.begin_node("chosen");
    f.prop_string("bootargs", "console=ttyAMA0");
    f.end_node();
    f.end_node();
    auto finished = f.finish();
    ASSERT_TRUE(finished) << finished.error().message();
    const auto& dtb = *finished;
    // The Devicetree Specification v0.4, 5.2 (header) and 5.4.1 (tokens): values
    // written here from the spec, not taken from FdtWriter.
    constexpr std::uint32_t fdt_begin_node = 0x1, fdt_end_node = 0x2, fdt_prop = 0x3, fdt_end = 0x9;
    EXPECT_EQ(be32(dtb, 0), 0xd00dfeedu);
    EXPECT_EQ(be32(dtb, 4), dtb.size());
    const auto off_struct = be32(dtb, 8), off_strings = be32(dtb, 12);
    EXPECT_EQ(be32(dtb, 20), 17u) << "version";
    EXPECT_EQ(be32(dtb, 24), 16u) << "last compatible version";
    EXPECT_EQ(be32(dtb, off_struct), fdt_begin_node);
    EXPECT_EQ(be32(dtb, off_struct + 8), fdt_prop);  // after "" padded to 4
    EXPECT_EQ(be32(dtb, off_struct + 12), 4u);       // value length
    const auto nameoff = be32(dtb, off_struct + 16);
    EXPECT_STREQ(reinterpret_cast<const char*>(&dtb[off_strings + nameoff]), "#address-cells");
    EXPECT_EQ(be32(dtb, off_struct + 20), 2u);
    EXPECT_EQ(be32(dtb, off_struct + 24), fdt_begin_node) << "chosen";
    EXPECT_EQ(be32(dtb, off_strings - 12), fdt_end_node) << "chosen";
    EXPECT_EQ(be32(dtb, off_strings - 8), fdt_end_node) << "the root";
    EXPECT_EQ(be32(dtb, off_strings - 4), fdt_end);
    vmm::FdtWriter open;
    open.begin_node("");
    auto unfinished = open.finish();
    ASSERT_FALSE(unfinished) << "a node left open is an error, not a DTB";
    EXPECT_NE(vmm::text(unfinished.error()).find("1 node(s) left open"), std::string::npos);
    vmm::FdtWriter extra;
    extra.end_node();
    EXPECT_FALSE(extra.finish()) << "an end_node without a begin_node too";
}

/// A flattened device tree read back as the guest kernel reads it (the spec's
/// structure block: FDT_BEGIN_NODE name, FDT_PROP len nameoff value, FDT_END_NODE,
/// FDT_NOP, FDT_END), independent of FdtWriter: node path → property → bytes.
using FdtNodes = std::map<std::string, std::map<std::string, std::string>>;
FdtNodes read_fdt(const std::vector<std::uint8_t>& dtb) {
    FdtNodes nodes;
    std::vector<std::string> path;
    const auto strings = be32(dtb, 12);
    auto full = [&] {
        std::string p;
        for (std::size_t i = 1; i < path.size(); ++i) p += "/" + path[i];
        return p.empty() ? std::string("/") : p;
    };
    for (std::size_t at = be32(dtb, 8); at + 4 <= dtb.size();) {
        const auto token = be32(dtb, at);
        at += 4;
        if (token == 0x1) {
            const std::string name(reinterpret_cast<const char*>(&dtb[at]));
            path.push_back(name);
            nodes[full()];
            at += (name.size() + 4) & ~std::size_t{3};
        } else if (token == 0x3) {
            const auto len = be32(dtb, at), nameoff = be32(dtb, at + 4);
            nodes[full()][reinterpret_cast<const char*>(&dtb[strings + nameoff])] =
                std::string(reinterpret_cast<const char*>(&dtb[at + 8]), len);
            at += 8 + ((len + 3) & ~std::uint32_t{3});
        } else if (token == 0x2) {
            if (path.empty()) break;
            path.pop_back();
        } else if (token != 0x4) {
            break;  // FDT_END, or garbage
        }
    }
    return nodes;
}

/// The node whose `compatible` list holds exactly this string, or "".
std::string node_compatible_with(const FdtNodes& nodes, const std::string& compatible) {
    for (const auto& [path, props] : nodes) {
        auto c = props.find("compatible");
        if (c == props.end()) continue;
        for (std::size_t i = 0; i < c->second.size(); i += std::strlen(&c->second[i]) + 1)
            if (compatible == &c->second[i]) return path;
    }
    return "";
}

/// A PCI function with fixed config bytes and one decoded BAR (pure logic: no device).
struct FakeFunction final : vmm::PciFunction {
    std::vector<vmm::Range> bars;
    std::uint16_t last_write = 0xffff;
    void config_read(std::uint16_t reg, std::span<std::uint8_t> d) override {
        for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(reg + i);
    }
    void config_write(std::uint16_t reg, std::span<const std::uint8_t>) override { last_write = reg; }
    bool bar_access(std::uint64_t, std::span<std::uint8_t>, bool) override { return false; }
    std::vector<vmm::Range> decoded_bars() const override { return bars; }
};

/// The board's device tree as main() makes it: the GIC, the console, the PCI host.
std::vector<std::uint8_t> board_fdt(const vmm::Guest& g, vmm::PciHost& pci) {
    vmm::Gic gic(g.cpus);
    vmm::Pl011 uart(vmm::board::uart.base, vmm::board::uart_spi, stdout);
    vmm::Device* const devices[] = {&gic, &uart, &pci};
    auto dtb = vmm::make_fdt(g, devices, uart.fdt_path());
    EXPECT_TRUE(dtb) << dtb.error().message();
    return dtb ? *dtb : std::vector<std::uint8_t>{};
}
vmm::PciHost board_pci() {
    return vmm::PciHost({vmm::board::pci_ecam, vmm::board::pci_mmio32, vmm::board::pci_mmio64, vmm::board::pci_intx_spi_base});
}

std::string cstr(const std::string& s) { return s.substr(0, s.find('\0')); }
std::uint64_t be64(const std::string& s) {
    std::uint64_t v = 0;
    for (unsigned char c : s) v = v << 8 | c;
    return v;
}

/// Devicetree spec 2.2.1: a node's unit address is the first address of its reg.
/// Every node with 2 address cells (all but the cpus) is checked; returns how many.
unsigned expect_unit_addresses_match_reg(const FdtNodes& nodes) {
    unsigned checked = 0;
    for (const auto& [path, props] : nodes) {
        const auto at = path.rfind('@');
        if (at == std::string::npos || path.rfind("/cpus/", 0) == 0) continue;
        auto reg = props.find("reg");
        if (reg == props.end() || reg->second.size() < 8) {
            ADD_FAILURE() << path << " has a unit address but no reg";
            continue;
        }
        char hex[20];
        std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(be64(reg->second.substr(0, 8))));
        EXPECT_EQ(path.substr(at + 1), hex) << path;
        ++checked;
    }
    return checked;
}

TEST(VmmFdt, TheBoardTreeNamesEveryCpuAndTheInitrd) {
    vmm::Guest b;
    b.cpus = 2;
    b.cmdline = "console=ttyAMA0";
    b.initrd_start = 0x4400'0000;
    b.initrd_end = 0x4410'0000;
    auto pci = board_pci();
    const auto nodes = read_fdt(board_fdt(b, pci));
    ASSERT_TRUE(nodes.count("/cpus/cpu@0") && nodes.count("/cpus/cpu@1"));
    EXPECT_FALSE(nodes.count("/cpus/cpu@2"));
    EXPECT_EQ(cstr(nodes.at("/cpus/cpu@1").at("enable-method")), "psci") << "secondaries start by PSCI CPU_ON";
    EXPECT_EQ(cstr(nodes.at("/chosen").at("bootargs")), "console=ttyAMA0");
    EXPECT_EQ(be64(nodes.at("/chosen").at("linux,initrd-start")), 0x4400'0000u);
    EXPECT_EQ(be64(nodes.at("/chosen").at("linux,initrd-end")), 0x4410'0000u);
    // Each device by its binding's compatible string, matched whole (a substring
    // search found "arm,gic-v3" inside "arm,gic-v3-its").
    const auto gic = node_compatible_with(nodes, "arm,gic-v3");
    EXPECT_NE(gic, "");
    EXPECT_EQ(node_compatible_with(nodes, "arm,gic-v3-its").rfind(gic + "/", 0), 0u) << "the ITS is a child of the GIC";
    EXPECT_TRUE(nodes.at(gic).count("interrupt-controller"));
    for (const char* c : {"arm,psci-0.2", "arm,pl011", "arm,armv8-timer"}) EXPECT_NE(node_compatible_with(nodes, c), "") << c;
    EXPECT_EQ(cstr(nodes.at("/chosen").at("stdout-path")), node_compatible_with(nodes, "arm,pl011"))
        << "the console is the PL011's node";
    EXPECT_EQ(expect_unit_addresses_match_reg(nodes), 5u) << "memory, intc, its, pcie (always), pl011";
}

// A guest writing the boot timer in a loop (tests/e2e/hostile.sh) printed one
// stderr line per write; now the first marker is printed and the rest counted.
TEST(VmmBootTimer, OnlyTheFirstMarkerIsPrintedTheRestCounted) {
    vmm::BootTimer timer(vmm::board::boot_timer.base, vmm::BootTimer::Clock::now());
    std::fflush(stderr);
    char path[] = "/tmp/kvmxx-boot-timer-XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::unlink(path);
    const int saved = ::dup(2);
    ::dup2(fd, 2);
    const std::uint8_t one[4] = {1, 0, 0, 0};
    for (int i = 0; i < 1000; ++i) timer.write(0, one);
    timer.report_end();
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    std::string out(4096, '\0');
    out.resize(static_cast<std::size_t>(std::max<ssize_t>(0, ::pread(fd, out.data(), out.size(), 0))));
    ::close(fd);
    EXPECT_EQ(timer.markers(), 1000u);
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << out;
    EXPECT_NE(out.find("boot-timer: guest marker 1 at"), std::string::npos) << out;
    EXPECT_NE(out.find("boot-timer: 999 later marker(s) not printed"), std::string::npos) << out;
}

// A refused BAR placement in a loop (tests/e2e/hostile.sh) printed a line each time.
TEST(VmmLogLimit, TenLinesThenOneEachIntervalSayingHowManyWereHeld) {
    vmm::LogLimit limit(10, std::chrono::seconds(10));
    const auto t0 = vmm::LogLimit::Clock::now();
    int printed = 0;
    for (int i = 0; i < 1000; ++i) printed += !limit.admit("BAR0 refused", t0 + std::chrono::milliseconds(i)).empty();
    EXPECT_EQ(printed, 10);
    EXPECT_EQ(limit.held(), 990u);
    EXPECT_EQ(limit.admit("BAR0 refused", t0 + std::chrono::seconds(5)), "");
    EXPECT_EQ(limit.admit("BAR0 refused", t0 + std::chrono::seconds(11)), "BAR0 refused (991 more such line(s) not printed)");
    EXPECT_EQ(limit.held(), 0u);
    EXPECT_EQ(limit.admit("again", t0 + std::chrono::seconds(12)), "");
    EXPECT_EQ(limit.admit("again", t0 + std::chrono::seconds(21)), "again (1 more such line(s) not printed)");
}

TEST(VmmPl011, PrintsWhatIsWrittenAndAnswersThePrimeCellIds) {
    char buf[64] = {};
    std::FILE* out = fmemopen(buf, sizeof buf, "w");
    vmm::Pl011 uart(vmm::board::uart.base, vmm::board::uart_spi, out);
    const std::uint8_t h = 'h', nl = '\n';
    uart.write(0, {&h, 1});
    uart.write(0, {&nl, 1});
    std::fclose(out);
    EXPECT_STREQ(buf, "h\n");
    std::uint8_t v[4];
    uart.read(0x18, v);
    EXPECT_EQ(v[0] & 0x90, 0x90) << "TX FIFO empty, RX FIFO empty";
    uart.read(0xff0, v);
    EXPECT_EQ(v[0], 0x0d);
    uart.read(0xffc, v);
    EXPECT_EQ(v[0], 0xb1);
    uart.read(0x7777, v);
    EXPECT_EQ(v[0], 0) << "an offset past the device reads as zero";
}

/// A 32-bit PL011 register, read as the guest's driver reads it.
std::uint32_t reg32(vmm::Pl011& uart, std::uint64_t offset) {
    std::uint8_t v[4] = {};
    uart.read(offset, v);
    return std::uint32_t{v[0]} | std::uint32_t{v[1]} << 8 | std::uint32_t{v[2]} << 16 | std::uint32_t{v[3]} << 24;
}
void set32(vmm::Pl011& uart, std::uint64_t offset, std::uint32_t value) {
    const std::uint8_t v[4] = {static_cast<std::uint8_t>(value), static_cast<std::uint8_t>(value >> 8),
                               static_cast<std::uint8_t>(value >> 16), static_cast<std::uint8_t>(value >> 24)};
    uart.write(offset, v);
}

// PL011 TRM (DDI 0183): FR 0x18 (RXFE bit 4, RXFF bit 6), IFLS 0x34 (RXIFLSEL bits
// 5:3), IMSC 0x38, RIS 0x3c, MIS 0x40, ICR 0x44; RXIS bit 4, RTIS bit 6.
TEST(VmmPl011, TypedBytesWaitInTheRxFifoAndRaiseTheLevelSpiWhileUnmasked) {
    vmm::Pl011 uart(vmm::board::uart.base, vmm::board::uart_spi, nullptr);
    std::vector<bool> line;
    uart.connect_irq([&](bool level) { line.push_back(level); });
    using namespace std::chrono_literals;
    ASSERT_TRUE(uart.receive('4', 0ms));
    ASSERT_TRUE(uart.receive('2', 0ms));
    EXPECT_EQ(reg32(uart, 0x18) & 0x10, 0u) << "RX FIFO not empty";
    EXPECT_EQ(reg32(uart, 0x3c), 0x40u) << "2 bytes, below the default trigger (1/2 of 32): receive timeout only";
    EXPECT_EQ(reg32(uart, 0x40), 0u) << "masked";
    EXPECT_TRUE(line.empty()) << "masked: the line stays low";
    set32(uart, 0x38, 0x50);  // unmask RX and RT, as Linux's amba-pl011 does
    ASSERT_EQ(line, std::vector<bool>{true});
    EXPECT_EQ(reg32(uart, 0x40), 0x40u);
    set32(uart, 0x44, 0x40);  // ICR: RT acknowledged, the bytes still wait
    EXPECT_EQ(reg32(uart, 0x3c), 0u);
    EXPECT_EQ(line, (std::vector<bool>{true, false}));
    ASSERT_TRUE(uart.receive('\n', 0ms));
    EXPECT_EQ(line, (std::vector<bool>{true, false, true})) << "a new byte times out again";
    EXPECT_EQ(reg32(uart, 0x00), '4');
    EXPECT_EQ(reg32(uart, 0x00), '2');
    EXPECT_EQ(reg32(uart, 0x00), '\n');
    EXPECT_EQ(reg32(uart, 0x18) & 0x10, 0x10u) << "drained: RX FIFO empty";
    EXPECT_EQ(line.back(), false) << "drained: the line drops";
    EXPECT_EQ(reg32(uart, 0x00), 0u) << "DR of an empty FIFO reads 0";
    // Filled to the trigger level (IFLS RXIFLSEL=0: 1/8 = 4 bytes) RX rises too; full, the
    // next byte waits (nothing typed is dropped) and FR says RXFF.
    set32(uart, 0x34, 0);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(uart.receive('a', 0ms));
    EXPECT_EQ(reg32(uart, 0x3c), 0x50u);
    for (std::size_t i = 4; i < vmm::Pl011::fifo_depth; ++i) ASSERT_TRUE(uart.receive('a', 0ms));
    EXPECT_EQ(reg32(uart, 0x18) & 0x40, 0x40u) << "RX FIFO full";
    EXPECT_FALSE(uart.receive('b', 1ms)) << "full: the byte is not taken (the console thread waits)";
}

TEST(VmmConsole, StdinReachesTheUartAndCtrlAXQuitsWithCtrlACtrlASendingOne) {
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    const int saved_stdin = ::dup(STDIN_FILENO);
    ASSERT_EQ(::dup2(p[0], STDIN_FILENO), STDIN_FILENO);  // stdin is a pipe: no raw mode
    auto console = vmm::Console::open("stdio");
    ASSERT_TRUE(console) << console.error().message();
    vmm::Pl011 uart(vmm::board::uart.base, vmm::board::uart_spi, nullptr);
    (*console)->start_input(uart);
    const char typed[] = "ab\x01\x01" "c\x01qd\x01x" "ignored";
    ASSERT_EQ(::write(p[1], typed, sizeof typed - 1), static_cast<ssize_t>(sizeof typed - 1));
    for (int i = 0; i < 200 && !(*console)->quit_requested(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE((*console)->quit_requested());
    (*console)->stop();
    ::dup2(saved_stdin, STDIN_FILENO);
    ::close(saved_stdin), ::close(p[0]), ::close(p[1]);
    std::string got;
    while (!(reg32(uart, 0x18) & 0x10)) got += static_cast<char>(reg32(uart, 0x00));
    EXPECT_EQ(got, "ab\x01" "c\x01qd") << "Ctrl-A Ctrl-A is one Ctrl-A; Ctrl-A q is not a command, both go; nothing after Ctrl-A x";
}

TEST(VmmConsole, NoneDiscardsAndABadSpecIsOneLine) {
    auto none = vmm::Console::open("none");
    ASSERT_TRUE(none);
    EXPECT_EQ((*none)->output(), nullptr);
    auto bad = vmm::Console::open("serial");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().detail(), "--console serial: write stdio, none or file:PATH");
    auto missing = vmm::Console::open("file:/nonexistent/dir/console.log");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().detail(),
              "--console file:/nonexistent/dir/console.log: cannot open /nonexistent/dir/console.log: No such file or directory");
}

TEST(VmmFdt, ThePciHostNodeMapsEachSlotsIntxAndTheMsisToTheIts) {
    vmm::Guest b;
    b.cmdline = "console=ttyAMA0";
    auto pci = board_pci();
    const auto plain = board_fdt(b, pci);
    const std::string none(plain.begin(), plain.end());
    EXPECT_NE(none.find("pci-host-ecam-generic"), std::string::npos) << "no devices: the host bridge all the same";
    EXPECT_EQ(none.find("interrupt-map"), std::string::npos) << "an empty bus maps no INTx (an empty map is invalid)";
    FakeFunction one, two;
    pci.attach(1, one);
    pci.attach(2, two);
    const auto dtb = board_fdt(b, pci);
    const std::string all(dtb.begin(), dtb.end());
    EXPECT_EQ(expect_unit_addresses_match_reg(read_fdt(dtb)), 5u) << "memory, intc, its, pcie, pl011";
    for (const char* s : {"pcie@30000000", "pci-host-ecam-generic", "msi-map", "interrupt-map-mask", "bus-range"})
        EXPECT_NE(all.find(s), std::string::npos) << s;
    // interrupt-map: 4 pins per slot, 10 cells each: the child's unit address (slot 2
    // << 11, 0, 0) and pin 1, the GIC's phandle, its unit address (0, 0), then the
    // GIC specifier: GIC_SPI (0, dt-bindings arm-gic.h), SPI 18 (the board wires slot
    // N's INTx to SPI 16 + N) and IRQ_TYPE_LEVEL_HIGH (4, dt-bindings irq.h).
    const std::uint8_t child[] = {0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const auto at = std::search(dtb.begin(), dtb.end(), std::begin(child), std::end(child));
    ASSERT_NE(at, dtb.end());
    const auto cell = static_cast<std::size_t>(at - dtb.begin()) + sizeof child + 4;  // past the phandle
    EXPECT_EQ(be32(dtb, cell), 0u);
    EXPECT_EQ(be32(dtb, cell + 4), 0u);
    EXPECT_EQ(be32(dtb, cell + 8), 0u) << "GIC_SPI";
    EXPECT_EQ(be32(dtb, cell + 12), 18u) << "slot 2's SPI";
    EXPECT_EQ(be32(dtb, cell + 16), 4u) << "IRQ_TYPE_LEVEL_HIGH";
    EXPECT_EQ(pci.intx_spi(2), 18u) << "the SPI the GSI router raises for slot 2 is the one the guest is told";
}

TEST(VmmMsixTable, VectorsStartMaskedAndTakeAlignedDwordAndQwordWrites) {
    vmm::MsixTable t(4);
    EXPECT_EQ(t.bytes(), 64u);
    EXPECT_TRUE(t[3].masked);
    const std::uint64_t address = 0x0809'0040;
    auto v = t.write(16, {reinterpret_cast<const std::uint8_t*>(&address), 8});
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, 1u);
    const std::uint32_t data = 7, unmask = 0;
    t.write(24, {reinterpret_cast<const std::uint8_t*>(&data), 4});
    t.write(28, {reinterpret_cast<const std::uint8_t*>(&unmask), 4});
    EXPECT_EQ(t[1].address, address);
    EXPECT_EQ(t[1].data, 7u);
    EXPECT_FALSE(t[1].masked);
    std::uint32_t back = 0;
    t.read(28, {reinterpret_cast<std::uint8_t*>(&back), 4});
    EXPECT_EQ(back, 0u);
    t.read(12, {reinterpret_cast<std::uint8_t*>(&back), 4});
    EXPECT_EQ(back, 1u) << "vector 0 still masked";
}

TEST(VmmMsixTable, AGuestWritingOddWidthsOrPastTheTableChangesNothing) {
    vmm::MsixTable t(2);
    const std::uint8_t bytes[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    EXPECT_FALSE(t.write(0, {bytes, 2})) << "2-byte access";
    EXPECT_FALSE(t.write(2, {bytes, 4})) << "misaligned";
    EXPECT_FALSE(t.write(4, {bytes, 8})) << "misaligned qword";
    EXPECT_FALSE(t.write(32, {bytes, 4})) << "past the table";
    EXPECT_FALSE(t.write(~0ull - 3, {bytes, 4})) << "offset that overflows";
    EXPECT_EQ(t[0].address, 0u);
    std::uint8_t out[4] = {9, 9, 9, 9};
    t.read(40, out);
    EXPECT_EQ(out[0] | out[1] | out[2] | out[3], 0) << "reads past the table are zero";
}

TEST(VmmPassthroughBar, SizingReadsBackTheSizeMaskAndFlags) {
    vmm::PassthroughBar b;
    b.size = 0x4000;
    b.flags = 0x4;  // 64-bit memory
    b.is_64bit = true;
    b.write_register(false, 0xffff'ffff);
    b.write_register(true, 0xffff'ffff);
    EXPECT_EQ(b.read_register(false), 0xffff'c004u);
    EXPECT_EQ(b.read_register(true), 0xffff'ffffu);
    b.write_register(false, 0x1010'0000 | 0x4);
    b.write_register(true, 0);
    EXPECT_EQ(b.address, 0x1010'0000u);
    EXPECT_EQ(b.read_register(false), 0x1010'0004u) << "the address, with the read-only type bits (PCI 3.0, 6.2.5.1)";
    EXPECT_EQ(b.read_register(true), 0u);
    b.write_register(false, 0x1010'1234);
    EXPECT_EQ(b.address, 0x1010'0000u) << "address bits below the size are not writable";
    vmm::PassthroughBar absent;
    absent.write_register(false, 0xffff'ffff);
    EXPECT_EQ(absent.read_register(false), 0u) << "an unoffered BAR reads zero, so the guest sees no BAR";
}

TEST(VmmPassthroughBar, MemorySlotPiecesLeaveTheTrappedPagesOut) {
    // NVMe's BAR0: 16 KiB, MSI-X table at 0x2000 and PBA at 0x3000 (one page each).
    const auto pieces = vmm::subtract({0, 0x4000}, {vmm::page_span(0x3000, 8, 0x1000), vmm::page_span(0x2000, 0x40, 0x1000)});
    ASSERT_EQ(pieces.size(), 1u);
    EXPECT_EQ(pieces[0].base, 0u);
    EXPECT_EQ(pieces[0].size, 0x2000u);
    const auto middle = vmm::subtract({0, 0x10000}, {{0x4000, 0x1000}});
    ASSERT_EQ(middle.size(), 2u);
    EXPECT_EQ(middle[1].base, 0x5000u);
    EXPECT_EQ(middle[1].size, 0xb000u);
    EXPECT_EQ(vmm::page_span(0x1ff8, 16, 0x1000).size, 0x2000u) << "a table straddling pages traps both";
}

// An exit for a part a memory slot serves is a race with the slots moving: it is
// not sent on to the device (vfio_pci_bar_rw of a width edu refuses Oopsed the host).
TEST(VmmPassthroughBar, OnlyTrappedOrUnmappedPartsAreServedThroughTheRegion) {
    // NVMe's BAR0 as above: mmapped whole, the MSI-X pages 0x2000-0x3fff trapped.
    const std::vector<vmm::Range> mapped{{0, 0x4000}}, trapped{{0x2000, 0x1000}, {0x3000, 0x1000}};
    EXPECT_TRUE(vmm::in_memory_slot(mapped, trapped, 0x14, 4));
    EXPECT_TRUE(vmm::in_memory_slot(mapped, trapped, 0x1ff8, 8));
    EXPECT_FALSE(vmm::in_memory_slot(mapped, trapped, 0x1ffc, 8)) << "straddles into the trapped page";
    EXPECT_FALSE(vmm::in_memory_slot(mapped, trapped, 0x2010, 4));
    EXPECT_FALSE(vmm::in_memory_slot(mapped, trapped, 0x4000, 1)) << "past the mapping";
    EXPECT_FALSE(vmm::in_memory_slot({}, {}, 0, 4)) << "a BAR VFIO would not mmap";
}

TEST(VmmPciHost, EcamDecodesBusDeviceFunctionAndEmptySlotsReadAllOnes) {
    auto host = board_pci();
    FakeFunction f;
    host.attach(2, f);
    auto ecam = host.ecam();
    std::uint8_t d[4];
    ecam.read((2u << 15) | 0x10, d);
    EXPECT_EQ(d[0], 0x10);
    EXPECT_EQ(d[3], 0x13);
    ecam.read((3u << 15), d);
    EXPECT_EQ(d[0], 0xff) << "empty slot";
    ecam.read((1u << 20) | (2u << 15), d);
    EXPECT_EQ(d[0], 0xff) << "bus 1 does not exist";
    ecam.read((2u << 15) | (1u << 12), d);
    EXPECT_EQ(d[0], 0xff) << "function 1 does not exist";
    ecam.read((2u << 15) | 0x11, d);
    EXPECT_EQ(d[0], 0xff) << "a misaligned dword is dropped";
    const std::uint8_t w[2] = {0, 0};
    ecam.write((2u << 15) | 0x04, w);
    EXPECT_EQ(f.last_write, 0x04);
}

TEST(VmmPciHost, ABarMayNotLandOnRamTheGicOrAnotherBar) {
    auto host = board_pci();
    FakeFunction a, b;
    a.bars = {{0x1000'0000, 0x10'0000}};
    host.attach(1, a);
    host.attach(2, b);
    EXPECT_EQ(host.check_bar({0x1010'0000, 0x4000}), "");
    EXPECT_NE(host.check_bar({vmm::board::ram_base, 0x4000}).find("outside"), std::string::npos);
    EXPECT_NE(host.check_bar({vmm::board::gic_dist.base, 0x4000}).find("outside"), std::string::npos);
    EXPECT_NE(host.check_bar({0x2fff'f000, 0x4000}).find("outside"), std::string::npos) << "runs off the window";
    EXPECT_NE(host.check_bar({0x1000'4000, 0x4000}).find("overlaps"), std::string::npos);
    a.bars.clear();  // as the device does: a BAR being moved stops decoding first
    EXPECT_EQ(host.check_bar({0x1000'0000, 0x10'0000}), "") << "a BAR placed back where it was";
}

}  // namespace
