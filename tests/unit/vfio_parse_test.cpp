// Pure VFIO logic on the host: capability chains, region and IOMMU info decoding,
// the IOVA check, PCI config-space parsing, and the sysfs path logic (on a
// directory tree made here). The ioctls themselves are tested in tests/vfio,
// against the real kernel in the testbed.
#include <kvmxx/kvmxx.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace vfio = kvmxx::vfio;

namespace {

template <class T>
void put(std::vector<std::uint8_t>& buf, std::size_t at, const T& v) {
    if (buf.size() < at + sizeof v) buf.resize(at + sizeof v);
    std::memcpy(buf.data() + at, &v, sizeof v);
}

TEST(VfioCapChain, WalksInOrderAndStopsAtLoopsAndOverruns) {
    std::vector<std::uint8_t> buf(64);
    put(buf, 16, vfio_info_cap_header{1, 1, 32});
    put(buf, 32, vfio_info_cap_header{2, 3, 16});  // points back: a loop
    auto caps = vfio::info_caps(buf, 16);
    ASSERT_EQ(caps.size(), 2u);
    EXPECT_EQ(caps[0].id, 1);
    EXPECT_EQ(caps[0].bytes.size(), 16u);
    EXPECT_EQ(caps[1].id, 2);
    EXPECT_EQ(caps[1].version, 3);
    EXPECT_TRUE(vfio::info_caps(buf, 0).empty());
    EXPECT_TRUE(vfio::info_caps(buf, 60).empty());  // a header would run past the end
}

TEST(VfioCapChain, EveryCapabilitysBytesLieInsideTheBuffer) {
    // `next` is an offset the kernel (or something pretending to be it) wrote: one that
    // points backwards must not turn into a span that runs off the buffer.
    std::vector<std::uint8_t> buf(64);
    put(buf, 16, vfio_info_cap_header{1, 1, 32});
    put(buf, 32, vfio_info_cap_header{2, 1, 8});  // backwards, below the first one
    auto caps = vfio::info_caps(buf, 16);
    ASSERT_EQ(caps.size(), 2u);
    const auto* begin = buf.data();
    const auto* end = buf.data() + buf.size();
    for (const auto& c : caps) {
        ASSERT_GE(c.bytes.data(), begin) << "cap " << c.id;
        ASSERT_LE(c.bytes.data(), end) << "cap " << c.id;
        EXPECT_LE(c.bytes.size(), static_cast<std::size_t>(end - c.bytes.data())) << "cap " << c.id;
    }
    EXPECT_EQ(caps[1].bytes.size(), 32u) << "the last capability runs to the end of the buffer";
}

TEST(VfioRegionInfo, DecodesSparseAreasTypeAndMsixMappable) {
    std::vector<std::uint8_t> buf;
    vfio_region_info info{};
    info.argsz = 200;
    info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE | VFIO_REGION_INFO_FLAG_MMAP |
                 VFIO_REGION_INFO_FLAG_CAPS;
    info.index = 0;
    info.cap_offset = sizeof info;
    info.size = 0x4000;
    info.offset = 0;
    put(buf, 0, info);
    const std::size_t sparse_at = sizeof info;
    vfio_region_info_cap_sparse_mmap sparse;  // no {}: clang calls that a zero-size array
    std::memset(&sparse, 0, sizeof sparse);
    sparse.header = {VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1, 0};
    sparse.nr_areas = 3;
    put(buf, sparse_at, sparse);
    put(buf, sparse_at + sizeof sparse, vfio_region_sparse_mmap_area{0, 0x2000});
    put(buf, sparse_at + sizeof sparse + 16, vfio_region_sparse_mmap_area{0x3000, 0x1000});
    put(buf, sparse_at + sizeof sparse + 32, vfio_region_sparse_mmap_area{0x3000, 0x9000});  // past the end: dropped
    const std::size_t type_at = sparse_at + sizeof sparse + 48;
    sparse.header.next = static_cast<std::uint32_t>(type_at);
    put(buf, sparse_at, sparse);
    vfio_region_info_cap_type type{};
    type.header = {VFIO_REGION_INFO_CAP_TYPE, 1, static_cast<std::uint32_t>(type_at + sizeof type)};
    type.type = 7;
    type.subtype = 9;
    put(buf, type_at, type);
    put(buf, type_at + sizeof type, vfio_info_cap_header{VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1, 0});

    auto r = vfio::decode_region_info(buf);
    EXPECT_TRUE(r.readable() && r.writable() && r.mappable());
    ASSERT_TRUE(r.sparse.has_value());
    ASSERT_EQ(r.sparse->size(), 2u);
    EXPECT_EQ((*r.sparse)[1].offset, 0x3000u);
    EXPECT_EQ(r.type, (std::pair<std::uint32_t, std::uint32_t>{7, 9}));
    EXPECT_TRUE(r.msix_mappable);
    EXPECT_EQ(r.mmap_areas().size(), 1u) << "MSI-X mappable: the whole BAR may be mmapped";
    r.msix_mappable = false;
    EXPECT_EQ(r.mmap_areas().size(), 2u);
}

TEST(VfioIommuInfo, DecodesIovaRangesAndTheCheckRefusesTheMsiWindow) {
    std::vector<std::uint8_t> buf;
    vfio_iommu_type1_info info{};
    info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
    info.iova_pgsizes = 0x1000;
    info.cap_offset = sizeof info;
    put(buf, 0, info);
    vfio_iommu_type1_info_cap_iova_range head;
    std::memset(&head, 0, sizeof head);
    head.header = {VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1, 0};
    head.nr_iovas = 2;
    put(buf, sizeof info, head);
    put(buf, sizeof info + sizeof head, vfio_iova_range{0, 0x7ff'ffff});
    put(buf, sizeof info + sizeof head + 16, vfio_iova_range{0x810'0000, 0xffff'ffff'ffffULL});
    auto i = vfio::decode_iommu_info(buf);
    EXPECT_EQ(i.page_sizes, 0x1000u);
    ASSERT_EQ(i.iova_ranges.size(), 2u);
    EXPECT_TRUE(vfio::check_iova(i.iova_ranges, 0x10'0000, 0x1000).empty());
    EXPECT_TRUE(vfio::check_iova(i.iova_ranges, 0x7ff'f000, 0x1000).empty());
    auto why = vfio::check_iova(i.iova_ranges, 0x800'0000, 0x1000);
    EXPECT_NE(why.find("iova=0x8000000"), std::string::npos);
    EXPECT_NE(why.find("MSI doorbell"), std::string::npos);
    EXPECT_NE(why.find("0x0-0x7ffffff"), std::string::npos);
    EXPECT_FALSE(vfio::check_iova(i.iova_ranges, 0x7ff'f000, 0x2000).empty()) << "straddles the window";
    EXPECT_FALSE(vfio::check_iova(i.iova_ranges, 0xffff'ffff'f000ULL, 0x2000).empty()) << "wraps past the end";
}

/// A config space with MSI at 0x40 (64-bit, maskable) → MSI-X at 0x50 → PCIe at 0x70.
std::array<std::uint8_t, 256> sample_config() {
    std::array<std::uint8_t, 256> c{};
    auto w16 = [&](std::size_t at, std::uint16_t v) { std::memcpy(&c[at], &v, 2); };
    auto w32 = [&](std::size_t at, std::uint32_t v) { std::memcpy(&c[at], &v, 4); };
    w16(0x00, 0x1b36);
    w16(0x02, 0x0010);
    w16(0x06, 0x0010);  // Status bit 4: Capabilities List
    w32(0x08, 0x01080200);  // class 01 08 02 (NVMe), revision 0
    w32(0x10, 0xfe00'0004);  // BAR0: 64-bit memory
    w32(0x14, 0x0000'0001);  //   its upper half
    w32(0x18, 0x0000'c001);  // BAR2: I/O
    w32(0x1c, 0x8000'0008);  // BAR3: 32-bit prefetchable
    c[0x34] = 0x40;
    c[0x40] = vfio::pci::cap_msi;
    c[0x41] = 0x50;
    w16(0x42, (1 << 7) | (1 << 8) | (2 << 1));  // 64-bit, per-vector mask, 4 vectors
    c[0x50] = vfio::pci::cap_msix;
    c[0x51] = 0x70;
    w16(0x52, 63);              // 64 vectors
    w32(0x54, 0x2000 | 0);      // table in BAR0 at 0x2000
    w32(0x58, 0x3000 | 4);      // PBA in BAR4 at 0x3000
    c[0x70] = vfio::pci::cap_pcie;
    c[0x71] = 0x00;
    return c;
}

TEST(PciConfig, WalksCapabilitiesAndParsesMsiAndMsix) {
    auto bytes = sample_config();
    vfio::PciConfig cfg(bytes);
    EXPECT_EQ(cfg.vendor_id(), 0x1b36);
    EXPECT_EQ(cfg.class_code(), 0x010802u);
    auto caps = cfg.capabilities();
    ASSERT_EQ(caps.size(), 3u);
    EXPECT_EQ(caps[2].id, vfio::pci::cap_pcie);
    auto msi = cfg.msi();
    ASSERT_TRUE(msi);
    EXPECT_EQ(msi->vectors_capable(), 4u);
    EXPECT_TRUE(msi->is_64bit());
    EXPECT_EQ(msi->data_offset(), 0x4cu);
    EXPECT_EQ(msi->mask_offset(), 0x50u);
    auto msix = cfg.msix();
    ASSERT_TRUE(msix);
    EXPECT_EQ(msix->table_size, 64u);
    EXPECT_EQ(msix->table_bar, 0u);
    EXPECT_EQ(msix->table_offset, 0x2000u);
    EXPECT_EQ(msix->pba_bar, 4u);
    EXPECT_EQ(msix->pba_offset, 0x3000u);
    EXPECT_EQ(msix->table_bytes(), 1024u);
    EXPECT_EQ(msix->pba_bytes(), 8u);
}

TEST(PciConfig, WithoutTheCapabilitiesListStatusBitThereAreNoCapabilities) {
    // PCI 3.0, 6.2.3: the capability pointer is valid only when Status bit 4 is set.
    auto bytes = sample_config();
    bytes[0x06] = 0x08;  // Interrupt Status (bit 3) only
    vfio::PciConfig cfg(bytes);
    EXPECT_TRUE(cfg.capabilities().empty());
    EXPECT_FALSE(cfg.msi());
}

TEST(PciConfig, TheReservedLowBitsOfCapabilityPointersAreIgnored) {
    // PCI 3.0, 6.7: the bottom two bits of the Capabilities Pointer and of each Next
    // pointer are reserved; software must mask them off.
    auto bytes = sample_config();
    bytes[0x34] = 0x42;
    bytes[0x41] = 0x53;
    bytes[0x51] = 0x71;
    auto caps = vfio::PciConfig(bytes).capabilities();
    ASSERT_EQ(caps.size(), 3u);
    EXPECT_EQ(caps[0].offset, 0x40);
    EXPECT_EQ(caps[1].offset, 0x50);
    EXPECT_EQ(caps[1].id, vfio::pci::cap_msix);
    EXPECT_EQ(caps[2].offset, 0x70);
}

TEST(PciConfig, ThirtyTwoBitMsiHasDataAt8AndMaskBitsAt12) {
    // PCI 3.0, 6.8.1: without the 64-bit flag the message data is at +0x08 and, after a
    // reserved word, the mask bits at +0x0c.
    auto bytes = sample_config();
    const std::uint16_t control = (1 << 8) | (2 << 1);  // per-vector mask, 4 vectors, 32-bit
    std::memcpy(&bytes[0x42], &control, 2);
    auto msi = vfio::PciConfig(bytes).msi();
    ASSERT_TRUE(msi);
    EXPECT_FALSE(msi->is_64bit());
    EXPECT_TRUE(msi->per_vector_masking());
    EXPECT_EQ(msi->data_offset(), 0x48u);
    EXPECT_EQ(msi->mask_offset(), 0x4cu);
}

TEST(PciConfig, AnMsiCapabilityEndingAtTheTopOfConfigSpaceHasNoWrappedOffsets) {
    // A 64-bit MSI without mask bits is 14 bytes: at 0xf0 it fits in the 256-byte
    // space, and its would-be mask offset is 0x100, past the end, not 0x00 (which
    // would name the Vendor ID). Found by the pci_caps fuzz harness.
    auto bytes = sample_config();
    bytes[0x34] = 0xf0;
    bytes[0xf0] = vfio::pci::cap_msi;
    bytes[0xf1] = 0;
    const std::uint16_t control = 1 << 7;  // 64-bit, one vector, no per-vector mask
    std::memcpy(&bytes[0xf2], &control, 2);
    auto msi = vfio::PciConfig(bytes).msi();
    ASSERT_TRUE(msi);
    EXPECT_EQ(msi->offset, 0xf0);
    EXPECT_EQ(msi->data_offset(), 0xfcu);
    EXPECT_EQ(msi->mask_offset(), 0x100u);
    EXPECT_FALSE(msi->per_vector_masking());
}

TEST(PciConfig, AMultiFunctionDeviceStillHasATypeZeroHeaderAndItsBars) {
    // Header Type bit 7 says "multi-function"; bits 0-6 are the layout (0: a device).
    auto bytes = sample_config();
    bytes[0x0e] = 0x80;
    vfio::PciConfig cfg(bytes);
    EXPECT_EQ(cfg.header_type(), 0u);
    EXPECT_EQ(cfg.bars().size(), 5u);
}

TEST(PciConfig, ALoopingOrWildCapabilityListEnds) {
    auto bytes = sample_config();
    bytes[0x71] = 0x40;  // PCIe → back to MSI: a loop
    EXPECT_EQ(vfio::PciConfig(bytes).capabilities().size(), 3u);
    bytes[0x34] = 0x10;  // into the header: not a capability
    EXPECT_TRUE(vfio::PciConfig(bytes).capabilities().empty());
    EXPECT_FALSE(vfio::PciConfig(std::span(bytes).first(0x48)).msix()) << "truncated space";
}

TEST(PciConfig, DecodesBarsIncluding64Bit) {
    auto bytes = sample_config();
    auto bars = vfio::PciConfig(bytes).bars();
    ASSERT_EQ(bars.size(), 5u);  // BAR1 is BAR0's upper half
    EXPECT_TRUE(bars[0].is_64bit);
    EXPECT_EQ(bars[0].address, 0x1'fe00'0000ULL);
    EXPECT_EQ(bars[1].index, 2u);
    EXPECT_TRUE(bars[1].io);
    EXPECT_EQ(bars[1].address, 0xc000u);
    EXPECT_TRUE(bars[2].prefetchable);
    EXPECT_EQ(bars[2].address, 0x8000'0000u);
}

/// A sysfs tree: 05.0 on vfio-pci and 05.1 on uio_pci_generic in group 2; 06.0 with no group.
class FakeSysfs : public ::testing::Test {
protected:
    void SetUp() override {
        root = std::filesystem::temp_directory_path() / ("kvmxx-sysfs-" + std::to_string(::getpid()));
        std::filesystem::remove_all(root);
        auto drivers = root / "bus/pci/drivers";
        std::filesystem::create_directories(drivers / "vfio-pci");
        std::filesystem::create_directories(drivers / "uio_pci_generic");
        std::filesystem::create_directories(root / "kernel/iommu_groups/2/devices");
        for (auto [bdf, drv] : {std::pair{"0000:00:05.0", "vfio-pci"}, {"0000:00:05.1", "uio_pci_generic"}}) {
            auto dev = root / "bus/pci/devices" / bdf;
            std::filesystem::create_directories(dev);
            std::filesystem::create_directory_symlink(drivers / drv, dev / "driver");
            std::filesystem::create_directory_symlink(root / "kernel/iommu_groups/2", dev / "iommu_group");
            std::filesystem::create_directory_symlink(dev, root / "kernel/iommu_groups/2/devices" / bdf);
        }
        std::filesystem::create_directories(root / "bus/pci/devices/0000:00:06.0");
    }
    void TearDown() override { std::filesystem::remove_all(root); }
    std::filesystem::path root;
};

TEST_F(FakeSysfs, GroupOfFollowsTheIommuGroupLink) {
    vfio::Sysfs s{root};
    EXPECT_EQ(*s.group_of("0000:00:05.1"), 2u);
    EXPECT_EQ(s.driver_of("0000:00:05.1"), "uio_pci_generic");
    EXPECT_EQ(s.group_devices(2), (std::vector<std::string>{"0000:00:05.0", "0000:00:05.1"}));
    EXPECT_EQ(s.blockers(2), (std::vector<std::string>{"0000:00:05.1 (uio_pci_generic)"}));
}

TEST_F(FakeSysfs, MissingDeviceMissingGroupAndWrongDriverAreClearErrors) {
    vfio::Sysfs s{root};
    auto none = kvmxx::VfioGroup::for_device("0000:00:09.0", s);
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message().find("no PCI device 0000:00:09.0"), std::string::npos);
    auto nogroup = kvmxx::VfioGroup::for_device("0000:00:06.0", s);
    ASSERT_FALSE(nogroup);
    EXPECT_NE(nogroup.error().message().find("has no IOMMU group"), std::string::npos);
    EXPECT_NE(nogroup.error().hint().find("driver_override"), std::string::npos);
    auto wrong = kvmxx::VfioGroup::for_device("0000:00:05.1", s);
    ASSERT_FALSE(wrong);
    EXPECT_NE(wrong.error().message().find("is bound to uio_pci_generic, not vfio-pci"), std::string::npos);
    EXPECT_NE(wrong.error().hint().find("echo vfio-pci >"), std::string::npos);
}

TEST(VfioOpen, AMissingContainerOrGroupNodeSaysWhatToLoadOrBind) {
    auto c = kvmxx::VfioContainer::open("/nonexistent/vfio");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().errnum(), ENOENT);
    EXPECT_NE(c.error().hint().find("modprobe vfio-pci"), std::string::npos);
    auto g = kvmxx::VfioGroup::open(4242, {}, "/nonexistent");
    ASSERT_FALSE(g);
    EXPECT_NE(g.error().hint().find("no VFIO group 4242"), std::string::npos);
}

}  // namespace
