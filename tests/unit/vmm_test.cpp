// The example VMM's pure parts, on the host: its command line, the arm64 Image
// checks and boot layout, the device-tree writer and the PL011's registers.
#include "../../examples/vmm/board.hpp"
#include "../../examples/vmm/loader.hpp"
#include "../../examples/vmm/options.hpp"
#include "../../examples/vmm/pl011.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

namespace {

std::optional<vmm::Options> parse(std::vector<std::string> args, std::string& error) {
    return vmm::parse_options(args, error);
}

TEST(VmmOptions, ParsesEveryOptionAndSizes) {
    std::string e;
    auto o = parse({"--kernel", "Image", "--initrd", "i.cpio", "--cmdline", "quiet", "--cpus", "4", "--memory", "1G",
                    "--device", "vfio:0000:00:04.0", "--trace"}, e);
    ASSERT_TRUE(o) << e;
    EXPECT_EQ(o->kernel, "Image");
    EXPECT_EQ(o->cpus, 4u);
    EXPECT_EQ(o->memory, 1ull << 30);
    EXPECT_EQ(o->devices, (std::vector<std::string>{"0000:00:04.0"}));
    EXPECT_TRUE(o->trace);
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
    EXPECT_TRUE(parse({"--help"}, e)->help);
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
    auto h = vmm::parse_image_header(fake_image(0, 32 << 20, 4096), why);
    ASSERT_TRUE(h) << why;
    EXPECT_EQ(h->image_size, 32u << 20);
    std::vector<std::uint8_t> gz(4096, 0x1f);
    EXPECT_FALSE(vmm::parse_image_header(gz, why));
    EXPECT_NE(why.find("no arm64 Image magic"), std::string::npos);
    EXPECT_FALSE(vmm::parse_image_header(std::vector<std::uint8_t>(10), why));
    EXPECT_NE(why.find("shorter than the 64-byte"), std::string::npos);
    EXPECT_FALSE(vmm::parse_image_header(fake_image(0, 100, 4096), why));
    EXPECT_NE(why.find("file is larger"), std::string::npos);
}

TEST(VmmLoader, PlacesKernelInitrdAndDtbOrSaysTheyDoNotFit) {
    std::string why;
    vmm::ImageHeader h{0, 40 << 20, 0};
    auto l = vmm::plan_boot(0x4000'0000, 256 << 20, h, 10 << 20, 64 << 10, why);
    ASSERT_TRUE(l) << why;
    EXPECT_EQ(l->kernel, 0x4000'0000u);
    EXPECT_EQ(l->initrd, 0x4000'0000u + (40 << 20));
    EXPECT_EQ(l->dtb, 0x4000'0000u + (254 << 20));
    EXPECT_FALSE(vmm::plan_boot(0x4000'0000, 64 << 20, h, 30 << 20, 64 << 10, why));
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
    auto dtb = f.finish();
    EXPECT_EQ(be32(dtb, 0), 0xd00dfeedu);
    EXPECT_EQ(be32(dtb, 4), dtb.size());
    const auto off_struct = be32(dtb, 8), off_strings = be32(dtb, 12);
    EXPECT_EQ(be32(dtb, 20), 17u);
    EXPECT_EQ(be32(dtb, off_struct), vmm::FdtWriter::begin_node_token);
    EXPECT_EQ(be32(dtb, off_struct + 8), vmm::FdtWriter::prop_token);  // after "" padded to 4
    EXPECT_EQ(be32(dtb, off_struct + 12), 4u);                          // value length
    const auto nameoff = be32(dtb, off_struct + 16);
    EXPECT_STREQ(reinterpret_cast<const char*>(&dtb[off_strings + nameoff]), "#address-cells");
    EXPECT_EQ(be32(dtb, off_struct + 20), 2u);
    EXPECT_EQ(be32(dtb, off_strings - 4), vmm::FdtWriter::end_token);
    vmm::FdtWriter open;
    open.begin_node("");
    EXPECT_THROW((void)open.finish(), std::logic_error);
}

TEST(VmmFdt, TheBoardTreeNamesEveryCpuAndTheInitrd) {
    vmm::Board b;
    b.cpus = 2;
    b.cmdline = "console=ttyAMA0";
    b.initrd_start = 0x4400'0000;
    b.initrd_end = 0x4410'0000;
    auto dtb = vmm::make_fdt(b);
    std::string all(dtb.begin(), dtb.end());
    for (const char* s : {"cpu@0", "cpu@1", "arm,gic-v3", "arm,gic-v3-its", "arm,psci-0.2", "arm,pl011",
                          "linux,initrd-start", "console=ttyAMA0", "arm,armv8-timer"})
        EXPECT_NE(all.find(s), std::string::npos) << s;
    EXPECT_EQ(all.find("cpu@2"), std::string::npos);
}

TEST(VmmPl011, PrintsWhatIsWrittenAndAnswersThePrimeCellIds) {
    char buf[64] = {};
    std::FILE* out = fmemopen(buf, sizeof buf, "w");
    vmm::Pl011 uart(out);
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

}  // namespace
