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

TEST(VfioContainer, ReportsTheApiVersionAndType1v2) {
    REQUIRE_DEVICES(d);
    auto c = kvmxx::VfioContainer::open();
    ASSERT_OK(c);
    EXPECT_EQ(*c->api_version(), VFIO_API_VERSION);
    EXPECT_TRUE(*c->check_extension(VFIO_TYPE1v2_IOMMU));
    EXPECT_FALSE(*c->check_extension(0x7777));
    auto early = c->set_iommu();
    ASSERT_FALSE(early) << "no group attached yet";
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
        EXPECT_FALSE(c->attach(*g)) << "the kernel refuses a container for a non-viable group";
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

TEST(VfioDevice, AnAccessPastTheEndOfARegionIsAnError) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    std::uint8_t four[4];
    auto past = o.device.read(kvmxx::vfio::region::bar0, 1u << 20, four);
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error().operation(), std::string("pread"));
    EXPECT_NE(past.error().message().find("offset=0x100000"), std::string::npos);
    auto none = o.device.mmap(kvmxx::vfio::region::bar(1));
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message().find("not mmappable"), std::string::npos);
}

TEST(VfioDevice, ResetIsOfferedOrRefusedAsInfoSays) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    auto info = o.device.info();
    ASSERT_OK(info);
    auto r = o.device.reset();
    EXPECT_EQ(static_cast<bool>(r), info->can_reset()) << (r ? "" : r.error().message());
}

}  // namespace
