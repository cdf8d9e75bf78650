// Real-kernel VFIO tests: container, group and device objects, config space, and
// every bad input the issue names — each a clear error from the real vfio-pci.
#include "vfio_env.hpp"

#include <fstream>

using namespace vfiotest;

namespace {

void sysfs_write(const std::string& path, const std::string& value) {
    std::ofstream f(path);
    f << value;
}

/// Binds `bdf` to `driver` the way tests/vfio/setup.sh does.
void rebind(const std::string& bdf, const std::string& driver) {
    const std::string dev = "/sys/bus/pci/devices/" + bdf;
    if (std::filesystem::exists(dev + "/driver")) sysfs_write(dev + "/driver/unbind", bdf);
    sysfs_write(dev + "/driver_override", driver);
    sysfs_write("/sys/bus/pci/drivers_probe", bdf);
}

/// Puts `bdf` back on `driver` when the test ends, even through a fatal failure, so
/// that one failing test cannot leave the next ones a different testbed.
struct RebindOnExit {
    std::string bdf, driver;
    ~RebindOnExit() { rebind(bdf, driver); }
};

TEST(VfioContainer, ReportsTheApiVersionAndType1v2) {
    REQUIRE_DEVICES(d);
    auto c = kvmxx::VfioContainer::open();
    ASSERT_OK(c);
    EXPECT_EQ(*c->api_version(), VFIO_API_VERSION);
    EXPECT_TRUE(*c->check_extension(VFIO_TYPE1v2_IOMMU));
    EXPECT_FALSE(*c->check_extension(0x7777));
    auto early = c->set_iommu();
    ASSERT_FALSE(early) << "no group attached yet";
    EXPECT_EQ(early.error().errnum(), EINVAL) << "vfio_ioctl_set_iommu: a container with no group";
    EXPECT_NE(early.error().hint().find("attach a group first"), std::string::npos);
}

TEST(VfioGroup, OpensFromAPciAddressIsViableAndJoinsAContainer) {
    REQUIRE_DEVICES(d);
    auto g = kvmxx::VfioGroup::for_device(d->edu);
    ASSERT_OK(g);
    EXPECT_EQ(g->number(), *kvmxx::vfio::Sysfs{}.group_of(d->edu));
    auto before = g->status();
    ASSERT_OK(before);
    EXPECT_TRUE(before->viable);
    EXPECT_FALSE(before->container_set);
    auto c = kvmxx::VfioContainer::open();
    ASSERT_OK(c);
    ASSERT_OK(c->attach(*g));
    EXPECT_TRUE(g->status()->container_set);
    EXPECT_FALSE(c->iova_ranges().empty()) << "the SMMU reports its usable IOVA ranges";
    auto dev = g->device(d->edu);
    ASSERT_OK(dev);
    EXPECT_EQ(dev->name(), d->edu);
}

TEST(VfioGroup, TheSameGroupOpenedTwiceIsBusyWithAHint) {
    REQUIRE_DEVICES(d);
    auto first = kvmxx::VfioGroup::for_device(d->edu);
    ASSERT_OK(first);
    auto second = kvmxx::VfioGroup::for_device(d->edu);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().errnum(), EBUSY);
    EXPECT_NE(second.error().hint().find("already open"), std::string::npos);
}

TEST(VfioGroup, AGroupNumberThatDoesNotExistIsAClearError) {
    REQUIRE_DEVICES(d);
    auto g = kvmxx::VfioGroup::open(999);
    ASSERT_FALSE(g);
    EXPECT_EQ(g.error().errnum(), ENOENT);
    EXPECT_NE(g.error().message().find("/dev/vfio/999"), std::string::npos);
    EXPECT_NE(g.error().hint().find("no VFIO group 999"), std::string::npos);
}

TEST(VfioGroup, ADeviceNotBoundToVfioPciSaysHowToBindIt) {
    REQUIRE_DEVICES(d);
    auto g = kvmxx::VfioGroup::for_device(d->pair1);  // on uio_pci_generic
    ASSERT_FALSE(g);
    EXPECT_NE(g.error().message().find(d->pair1 + " is bound to uio_pci_generic, not vfio-pci"), std::string::npos);
    EXPECT_NE(g.error().hint().find("echo vfio-pci > /sys/bus/pci/devices/" + d->pair1 + "/driver_override"),
              std::string::npos);
}

TEST(VfioGroup, ANonViableGroupNamesTheDeviceOnAnotherDriverUntilItIsRebound) {
    REQUIRE_DEVICES(d);
    RebindOnExit restore{d->pair1, "uio_pci_generic"};
    {
        auto g = kvmxx::VfioGroup::for_device(d->pair0);
        ASSERT_OK(g);
        EXPECT_FALSE(g->status()->viable);
        auto why = g->check_viable();
        ASSERT_FALSE(why);
        const std::string n = std::to_string(g->number());
        EXPECT_NE(why.error().message().find("group " + n + " is not viable: these devices of group " + n +
                                             " are not bound to vfio-pci: " + d->pair1 + " (uio_pci_generic)"),
                  std::string::npos)
            << why.error().message();
        auto c = kvmxx::VfioContainer::open();
        ASSERT_OK(c);
        auto refused = c->attach(*g);
        ASSERT_FALSE(refused) << "the kernel refuses a container for a non-viable group";
        // 05.1's driver (uio_pci_generic) owns the group's DMA (iommu_group_claim_dma_owner): EPERM.
        EXPECT_EQ(refused.error().errnum(), EPERM) << refused.error().message();
        EXPECT_STREQ(refused.error().operation(), "VFIO_GROUP_SET_CONTAINER");
    }
    rebind(d->pair1, "vfio-pci");
    {
        auto g = kvmxx::VfioGroup::for_device(d->pair0);
        ASSERT_OK(g);
        EXPECT_TRUE(g->status()->viable);
        ASSERT_OK(g->check_viable());
    }
    rebind(d->pair1, "uio_pci_generic");
    EXPECT_EQ(kvmxx::vfio::Sysfs{}.driver_of(d->pair1), "uio_pci_generic");
}

TEST(VfioDevice, InfoRegionsAndIrqsDescribeEdu) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    auto info = o.device.info();
    ASSERT_OK(info);
    EXPECT_TRUE(info->is_pci());
    EXPECT_GE(info->num_regions, static_cast<std::uint32_t>(VFIO_PCI_CONFIG_REGION_INDEX + 1));
    auto bar0 = o.device.region_info(kvmxx::vfio::region::bar0);
    ASSERT_OK(bar0);
    EXPECT_EQ(bar0->size, 1u << 20) << "edu's BAR0 is 1 MiB";
    EXPECT_TRUE(bar0->mappable() && bar0->readable() && bar0->writable());
    auto bar1 = o.device.region_info(kvmxx::vfio::region::bar(1));
    ASSERT_OK(bar1);
    EXPECT_EQ(bar1->size, 0u) << "edu has no BAR1";
    auto intx = o.device.irq_info(kvmxx::vfio::Irq::Intx);
    ASSERT_OK(intx);
    EXPECT_EQ(intx->count, 1u);
    EXPECT_TRUE(intx->eventfd() && intx->maskable() && intx->automasked());
    auto msi = o.device.irq_info(kvmxx::vfio::Irq::Msi);
    ASSERT_OK(msi);
    EXPECT_EQ(msi->count, 1u);
    EXPECT_EQ(o.device.irq_info(kvmxx::vfio::Irq::Msix)->count, 0u);
}

TEST(VfioDevice, ConfigSpaceHasEdusIdsItsMsiCapabilityAndBar0) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    auto bytes = o.device.config();
    ASSERT_OK(bytes);
    kvmxx::vfio::PciConfig cfg(*bytes);
    EXPECT_EQ(cfg.vendor_id(), 0x1234);
    EXPECT_EQ(cfg.device_id(), 0x11e8);
    EXPECT_EQ(cfg.interrupt_pin(), 1) << "INTA#";
    auto msi = cfg.msi();
    ASSERT_TRUE(msi) << "edu has an MSI capability";
    EXPECT_FALSE(msi->enabled());
    auto bars = cfg.bars();
    ASSERT_FALSE(bars.empty());
    EXPECT_FALSE(bars[0].io);
    EXPECT_NE(bars[0].address, 0u) << "the host assigned BAR0";
    EXPECT_EQ(*o.device.config_read<std::uint16_t>(kvmxx::vfio::pci::vendor_id), 0x1234);
    EXPECT_NE(*o.device.config_read<std::uint16_t>(kvmxx::vfio::pci::command) & kvmxx::vfio::pci::command_memory, 0);
}

TEST(VfioDevice, ConfigWritesReachTheDeviceAndMemoryDecodeOffMakesTheKernelRefuseBarAccess) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    namespace pci = kvmxx::vfio::pci;
    // Cache Line Size (0x0c): vfio-pci passes it through, the device keeps every bit.
    constexpr std::uint16_t cache_line_size = 0x0c;
    for (std::uint8_t v : {std::uint8_t{0x10}, std::uint8_t{0x00}}) {
        ASSERT_OK(o.device.config_write<std::uint8_t>(cache_line_size, v));
        EXPECT_EQ(*o.device.config_read<std::uint8_t>(cache_line_size), v);
        EXPECT_EQ(host_config<std::uint8_t>(d->edu, cache_line_size), v) << "the device's own register, read by the host";
    }
    // Memory decode off: vfio-pci refuses BAR0 reads and writes (EIO) until it is back on.
    const std::uint16_t command = *o.device.config_read<std::uint16_t>(pci::command);
    ASSERT_NE(command & pci::command_memory, 0);
    ASSERT_OK(o.device.config_write<std::uint16_t>(pci::command, static_cast<std::uint16_t>(command & ~pci::command_memory)));
    EXPECT_EQ(host_config<std::uint16_t>(d->edu, pci::command).value_or(0xffff) & pci::command_memory, 0);
    auto off = o.device.read_as<std::uint32_t>(kvmxx::vfio::region::bar0, 0);
    ASSERT_FALSE(off) << "BAR0 read with memory decode off: " << *off;
    EXPECT_EQ(off.error().errnum(), EIO);
    EXPECT_EQ(off.error().message().find("transferred="), std::string::npos) << "the kernel's errno, not a short count";
    ASSERT_OK(o.device.config_write<std::uint16_t>(pci::command, command));
    EXPECT_EQ(*o.device.read_as<std::uint32_t>(kvmxx::vfio::region::bar0, 0), vfiotest::edu::expected_id);
}

TEST(VfioDevice, AnAccessPastTheEndOfARegionIsAnError) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    std::uint8_t four[4];
    auto past = o.device.read(kvmxx::vfio::region::bar0, 1u << 20, four);
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error().operation(), std::string("pread"));
    EXPECT_EQ(past.error().errnum(), EINVAL) << "vfio_pci_bar_rw: an offset at or past the BAR's end";
    EXPECT_NE(past.error().message().find("offset=0x100000"), std::string::npos);
    auto none = o.device.mmap(kvmxx::vfio::region::bar(1));
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message().find("not mmappable"), std::string::npos);
}

TEST(VfioDevice, EduHasNoResetMethodSoTheKernelRefusesAReset) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    // edu is a conventional PCI function on the root bus with neither a PCI Express
    // capability (no FLR) nor power management (no PM reset), and a root bus has no
    // secondary bus reset: the PCI core finds no reset method for it.
    auto bytes = o.device.config();
    ASSERT_OK(bytes);
    kvmxx::vfio::PciConfig cfg(*bytes);
    EXPECT_FALSE(cfg.find(kvmxx::vfio::pci::cap_pcie)) << "edu is not PCI Express";
    EXPECT_FALSE(cfg.find(0x01)) << "edu has no power-management capability";
    auto info = o.device.info();
    ASSERT_OK(info);
    EXPECT_FALSE(info->can_reset()) << "VFIO_DEVICE_FLAGS_RESET";
    auto r = o.device.reset();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), EINVAL) << "vfio_pci_ioctl_reset without reset_works: " << r.error().message();
}

TEST(VfioDevice, ResetOfTheNvmeControllerClearsTheRegistersItWasGiven) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->nvme);
    if (HasFatalFailure()) return;
    auto bytes = o.device.config();
    ASSERT_OK(bytes);
    kvmxx::vfio::PciConfig cfg(*bytes);
    auto pcie = cfg.find(kvmxx::vfio::pci::cap_pcie);
    ASSERT_TRUE(pcie) << "QEMU's NVMe is a PCI Express endpoint";
    // PCIe Base 4.0, 7.5.3.3: Device Capabilities bit 28, Function Level Reset capability.
    EXPECT_NE(cfg.u32(pcie->offset + 4u) & (1u << 28), 0u) << "FLR capable";
    auto info = o.device.info();
    ASSERT_OK(info);
    EXPECT_TRUE(info->can_reset());
    // NVMe 1.4, 3.1.5: CC resets to 0. Give it a value (CC.EN stays 0). (QEMU 7.2's
    // reset keeps AQA, as a controller reset would, so AQA cannot show an FLR here.)
    constexpr std::uint32_t cc = 0x14, cc_value = (4u << 20) | (6u << 16);
    ASSERT_OK(o.device.write_as<std::uint32_t>(kvmxx::vfio::region::bar0, cc, cc_value));
    EXPECT_EQ(*o.device.read_as<std::uint32_t>(kvmxx::vfio::region::bar0, cc), cc_value);
    auto r = o.device.reset();
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(*o.device.read_as<std::uint32_t>(kvmxx::vfio::region::bar0, cc), 0u) << "the reset reached the controller";
    // vfio-pci restores the config space around the reset: the device still decodes its BAR.
    EXPECT_EQ(*o.device.read_as<std::uint32_t>(kvmxx::vfio::region::bar0, 0x08) >> 16, 1u) << "VS: NVMe 1.x";
}

TEST(VfioGroup, UnsetContainerIsBusyWhileADeviceIsOpenThenLeavesTheContainer) {
    REQUIRE_DEVICES(d);
    auto g = kvmxx::VfioGroup::for_device(d->edu);
    ASSERT_OK(g);
    auto c = kvmxx::VfioContainer::open();
    ASSERT_OK(c);
    auto none = g->unset_container();
    ASSERT_FALSE(none) << "a group in no container";
    EXPECT_EQ(none.error().errnum(), EINVAL);
    ASSERT_OK(c->attach(*g));
    {
        auto dev = g->device(d->edu);
        ASSERT_OK(dev);
        auto busy = g->unset_container();
        ASSERT_FALSE(busy) << "a device of the group is open";
        EXPECT_EQ(busy.error().errnum(), EBUSY);
        EXPECT_TRUE(g->status()->container_set);
    }
    ASSERT_OK(g->unset_container());
    EXPECT_FALSE(g->status()->container_set);
    auto dev = g->device(d->edu);
    ASSERT_FALSE(dev) << "a group in no container gives no device";
    EXPECT_EQ(dev.error().errnum(), EINVAL);
    // The group can join a container again.
    auto again = kvmxx::VfioContainer::open();
    ASSERT_OK(again);
    ASSERT_OK(again->attach(*g));
    ASSERT_OK(g->device(d->edu));
}

TEST(VfioDevice, NvmeConfigSpaceReadsAsThePciAndNvmeSpecsSay) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->nvme);
    if (HasFatalFailure()) return;
    auto bytes = o.device.config();
    ASSERT_OK(bytes);
    namespace pci = kvmxx::vfio::pci;
    kvmxx::vfio::PciConfig cfg(*bytes);
    EXPECT_EQ(cfg.vendor_id(), 0x1b36);
    EXPECT_EQ(cfg.device_id(), 0x0010);
    // NVMe 1.4, 2.1.5: class code 01h (mass storage), 08h (NVM), 02h (NVM Express).
    EXPECT_EQ(cfg.class_code(), 0x010802u);
    EXPECT_EQ(cfg.header_type(), 0) << "a type 0 (endpoint) header";
    EXPECT_NE(cfg.status() & pci::status_cap_list, 0) << "it has a capability list";
    // Opened::open set memory decoding and bus mastering through VFIO.
    EXPECT_EQ(cfg.command() & (pci::command_memory | pci::command_bus_master),
              pci::command_memory | pci::command_bus_master);
    EXPECT_EQ(cfg.command(), *o.device.config_read<std::uint16_t>(pci::command));
    EXPECT_EQ(cfg.u8(pci::interrupt_pin), cfg.interrupt_pin());
    EXPECT_EQ(cfg.u16(pci::vendor_id), cfg.vendor_id());
    // The capability list as the kernel shows it: each entry's id at its offset, ids found by find().
    auto caps = cfg.capabilities();
    ASSERT_FALSE(caps.empty());
    EXPECT_EQ(caps.front().offset, *o.device.config_read<std::uint8_t>(pci::cap_pointer) & 0xfc);
    for (const auto& c : caps) {
        EXPECT_EQ(c.id, *o.device.config_read<std::uint8_t>(c.offset));
        auto found = cfg.find(c.id);
        ASSERT_TRUE(found);
        EXPECT_EQ(cfg.u8(found->offset), c.id);
    }
    EXPECT_TRUE(cfg.find(pci::cap_pcie));
    auto msix = cfg.msix();
    ASSERT_TRUE(msix);
    EXPECT_EQ(msix->control, cfg.u16(msix->offset + 2u));
    EXPECT_FALSE(msix->enabled()) << "no vector set yet";
    EXPECT_FALSE(msix->function_masked());
    EXPECT_EQ(msix->table_bytes(), msix->table_size * 16u) << "PCI 3.0, 6.8.2: 16 bytes per entry";
    EXPECT_EQ(msix->pba_bytes(), (msix->table_size + 63) / 64 * 8u) << "one bit per vector, in qwords";
    // The table and the pending-bit array fit their BARs and do not overlap.
    auto table_bar = o.device.region_info(kvmxx::vfio::region::bar(msix->table_bar));
    auto pba_bar = o.device.region_info(kvmxx::vfio::region::bar(msix->pba_bar));
    ASSERT_OK(table_bar);
    ASSERT_OK(pba_bar);
    EXPECT_LE(msix->table_offset + msix->table_bytes(), table_bar->size);
    EXPECT_LE(msix->pba_offset + msix->pba_bytes(), pba_bar->size);
    if (msix->pba_bar == msix->table_bar) {
        EXPECT_TRUE(msix->pba_offset >= msix->table_offset + msix->table_bytes() ||
                    msix->pba_offset + msix->pba_bytes() <= msix->table_offset);
    }
    // BAR0 is the 64-bit memory BAR the registers are in (NVMe 1.4, 2.1.10 MLBAR/MUBAR).
    auto bars = cfg.bars();
    ASSERT_FALSE(bars.empty());
    EXPECT_EQ(bars[0].index, 0u);
    EXPECT_FALSE(bars[0].io);
    EXPECT_TRUE(bars[0].is_64bit);
    EXPECT_NE(bars[0].address, 0u);
}

TEST(VfioDevice, EdusMsiCapabilityAgreesWithTheKernelsIrqInfoAndItsOwnControlWord) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    auto bytes = o.device.config();
    ASSERT_OK(bytes);
    kvmxx::vfio::PciConfig cfg(*bytes);
    auto msi = cfg.msi();
    ASSERT_TRUE(msi);
    const std::uint16_t control = *o.device.config_read<std::uint16_t>(msi->offset + 2);
    EXPECT_EQ(msi->control, control);
    EXPECT_EQ(msi->vectors_capable(), o.device.irq_info(kvmxx::vfio::Irq::Msi)->count)
        << "Multiple Message Capable = the vectors VFIO offers";
    // PCI 3.0, 6.8.1: bit 7 64-bit address, bit 8 per-vector masking; the data and mask
    // registers follow a 32- or 64-bit address.
    EXPECT_EQ(msi->is_64bit(), (control & (1u << 7)) != 0);
    EXPECT_EQ(msi->per_vector_masking(), (control & (1u << 8)) != 0);
    EXPECT_EQ(msi->data_offset(), msi->offset + ((control & (1u << 7)) ? 12u : 8u));
    EXPECT_EQ(msi->mask_offset(), msi->offset + ((control & (1u << 7)) ? 16u : 12u));
}

}  // namespace
