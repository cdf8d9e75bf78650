// Real-kernel VFIO test with an emulated NVMe disk, driven through VFIO alone:
// admin queues in DMA-mapped memory, Identify Controller, completion signalled on
// an MSI-X vector's eventfd. The serial number is the one on QEMU's command line.
#include "vfio_env.hpp"

#include <cstring>

using namespace vfiotest;
using namespace std::chrono_literals;
namespace vfio = kvmxx::vfio;

namespace {

// NVMe 1.4 controller registers (BAR0) and the admin queue doorbells.
namespace nvme {
inline constexpr std::uint32_t cap = 0x00, cc = 0x14, csts = 0x1c, aqa = 0x24, asq = 0x28, acq = 0x30;
inline constexpr std::uint32_t doorbells = 0x1000;
}  // namespace nvme

struct Nvme {
    const kvmxx::VfioDevice& dev;
    std::uint32_t get(std::uint32_t off) const { return *dev.read_as<std::uint32_t>(vfio::region::bar0, off); }
    void set(std::uint32_t off, std::uint32_t v) const { ASSERT_OK(dev.write_as<std::uint32_t>(vfio::region::bar0, off, v)); }
    void set64(std::uint32_t off, std::uint64_t v) const {
        set(off, static_cast<std::uint32_t>(v));
        set(off + 4, static_cast<std::uint32_t>(v >> 32));
    }
};

TEST(VfioNvme, TheMsixBarMapsWholeAndTheMappingSeesTheTableEntryTheKernelProgrammed) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->nvme);
    if (HasFatalFailure()) return;
    auto msix = vfio::PciConfig(*o.device.config()).msix();
    ASSERT_TRUE(msix) << "QEMU's NVMe has MSI-X";
    const std::uint32_t index = vfio::region::bar(msix->table_bar);
    auto bar = o.device.region_info(index);
    ASSERT_OK(bar);
    EXPECT_EQ(*o.device.irq_info(vfio::Irq::Msix).transform([](auto i) { return i.count; }), msix->table_size);
    // vfio-pci gives an mmappable MSI-X BAR the MSIX_MAPPABLE capability (the table may be
    // mapped: an arm64 host's interrupt translation keeps the device's writes in check),
    // and no sparse-mmap capability: the whole BAR is one mappable area.
    ASSERT_TRUE(bar->mappable());
    ASSERT_TRUE(bar->msix_mappable) << "VFIO_REGION_INFO_CAP_MSIX_MAPPABLE";
    EXPECT_FALSE(bar->sparse.has_value());
    auto areas = o.device.mmap_sparse(*bar);
    ASSERT_OK(areas);
    ASSERT_EQ(areas->size(), 1u);
    EXPECT_EQ((*areas)[0].offset, 0u);
    ASSERT_EQ((*areas)[0].map.size(), bar->size);
    auto whole = o.device.mmap(*bar);
    ASSERT_OK(whole);
    const kvmxx::Mapping& map = (*areas)[0].map;
    auto entry = [&](const kvmxx::Mapping& m, unsigned word) { return reg32(m, msix->table_offset + 4 * word); };
    auto entry_io = [&](unsigned word) {
        return *o.device.read_as<std::uint32_t>(index, msix->table_offset + 4 * word);
    };
    // PCI 3.0, 6.8.2.9: a vector's Mask bit is set until software enables it.
    EXPECT_EQ(entry(map, 3) & 1, 1u) << "vector 0 masked before it is set";
    // Region read/write never reaches the table (vfio_pci_bar_rw leaves it out, reads are all ones):
    // the table is the host kernel's, set through VFIO_DEVICE_SET_IRQS.
    EXPECT_EQ(entry_io(3), 0xffff'ffffu);
    // Outside the table both paths read the same register: NVMe's VS (offset 8).
    if (msix->table_bar == 0) {
        EXPECT_EQ(reg32(map, 0x08), *o.device.read_as<std::uint32_t>(index, 0x08));
    }

    auto vector = kvmxx::EventFd::create();
    ASSERT_OK(vector);
    ASSERT_OK(o.device.set_irq(vfio::Irq::Msix, *vector, 0));
    // The host kernel programmed entry 0 for its eventfd: unmasked, with the MSI doorbell's
    // IOVA, which the SMMU's MSI window holds (0x8000000-0x80fffff, VfioDma's reserved range).
    EXPECT_EQ(entry(map, 3) & 1, 0u) << "vector 0 unmasked once it has an eventfd";
    const std::uint64_t address = entry(map, 0) | std::uint64_t{entry(map, 1)} << 32;
    EXPECT_GE(address, 0x800'0000u);
    EXPECT_LT(address, 0x810'0000u) << "entry 0's address " << std::hex << address;
    for (unsigned w = 0; w < 4; ++w) EXPECT_EQ(entry(*whole, w), entry(map, w)) << "word " << w << " via mmap()";
    EXPECT_EQ(entry_io(0), 0xffff'ffffu) << "still hidden from region reads";
    ASSERT_OK(o.device.disable_irqs(vfio::Irq::Msix));
    EXPECT_EQ(entry(map, 3) & 1, 1u) << "masked again after disable_irqs";
}

TEST(VfioNvme, IdentifyControllerThroughVfioAloneWithAnMsixCompletion) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->nvme);
    if (HasFatalFailure()) return;
    Nvme r{o.device};
    const std::uint64_t cap = r.get(nvme::cap) | std::uint64_t{r.get(nvme::cap + 4)} << 32;
    const unsigned stride = 4u << ((cap >> 32) & 0xf);
    const auto timeout = std::chrono::milliseconds(500 * ((cap >> 24) & 0xff) + 1000);

    // Disable, so the admin queues can be (re)defined.
    r.set(nvme::cc, 0);
    ASSERT_TRUE(eventually([&] { return (r.get(nvme::csts) & 1) == 0; }, timeout)) << "CSTS.RDY stayed 1";

    // Queue memory the controller reaches by DMA: SQ, CQ and a 4 KiB identify buffer.
    auto mem = kvmxx::Mapping::anonymous(0x3000);
    ASSERT_OK(mem);
    constexpr std::uint64_t iova = 0x40'0000;
    ASSERT_OK(o.container.map_dma(iova, mem->data(), mem->size()));
    const std::uint64_t sq = iova, cq = iova + 0x1000, buf = iova + 0x2000;
    // The completion vector first, as a driver does: QEMU's NVMe ties the admin CQ to its
    // MSI-X vector when the controller is enabled, and a vector enabled only afterwards was
    // seen to stay silent (the completion's 5 s wait ran out).
    auto done = kvmxx::EventFd::create();
    ASSERT_OK(done);
    ASSERT_OK(o.device.set_irq(vfio::Irq::Msix, *done, 0));  // admin CQ → vector 0
    r.set(nvme::aqa, (15u << 16) | 15u);  // 16 entries each
    r.set64(nvme::asq, sq);
    r.set64(nvme::acq, cq);
    r.set(nvme::cc, (4u << 20) | (6u << 16) | 1u);  // IOCQES 16 B, IOSQES 64 B, enable
    ASSERT_TRUE(eventually([&] { return (r.get(nvme::csts) & 1) == 1; }, timeout)) << "controller did not become ready";

    std::uint32_t sqe[16] = {};
    sqe[0] = 0x06 | (0x1234u << 16);  // opcode Identify, command id 0x1234
    sqe[6] = static_cast<std::uint32_t>(buf);  // PRP1
    sqe[7] = static_cast<std::uint32_t>(buf >> 32);
    sqe[10] = 1;  // CNS 1: Identify Controller
    std::memcpy(mem->data(), sqe, sizeof sqe);
    r.set(nvme::doorbells, 1);  // SQ 0 tail = 1

    auto ready = done->wait_for(5000ms);
    ASSERT_OK(ready);
    ASSERT_TRUE(*ready) << "no MSI-X interrupt for the completion";
    std::uint32_t cqe[4];
    std::memcpy(cqe, mem->data() + 0x1000, sizeof cqe);
    EXPECT_EQ(cqe[3] & 0xffff, 0x1234u) << "command id";
    EXPECT_EQ((cqe[3] >> 16) & 1, 1u) << "phase tag";
    EXPECT_EQ((cqe[3] >> 17) & 0x7fff, 0u) << "status";
    r.set(nvme::doorbells + stride, 1);  // CQ 0 head = 1

    const char* id = reinterpret_cast<const char*>(mem->data() + 0x2000);
    std::string serial(id + 4, 20);
    serial.erase(serial.find_last_not_of(' ') + 1);
    EXPECT_EQ(serial, nvme_serial);
    EXPECT_EQ(std::memcmp(id, "\x36\x1b", 2), 0) << "PCI vendor id in the identify data";

    r.set(nvme::cc, 0);
    ASSERT_OK(o.device.disable_irqs(vfio::Irq::Msix));
    ASSERT_OK(o.container.unmap_dma(iova, mem->size()));
}

}  // namespace
