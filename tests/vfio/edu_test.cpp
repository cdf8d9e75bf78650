// Real-kernel VFIO tests with QEMU's edu device: BAR0 through mmap and through
// region read/write, INTx and MSI into eventfds, DMA through the SMMU.
#include "vfio_env.hpp"

#include <sys/mman.h>

#include <cstring>

using namespace vfiotest;
using namespace std::chrono_literals;
namespace vfio = kvmxx::vfio;

namespace {

/// Registers through the region read/write path (pread/pwrite on the device fd).
struct RegionRegs {
    const kvmxx::VfioDevice& dev;
    std::uint32_t get(std::uint32_t off) const { return *dev.read_as<std::uint32_t>(vfio::region::bar0, off); }
    void set(std::uint32_t off, std::uint32_t v) const { ASSERT_OK(dev.write_as<std::uint32_t>(vfio::region::bar0, off, v)); }
};
/// The same registers through the mmapped BAR.
struct MappedRegs {
    const kvmxx::Mapping& bar;
    std::uint32_t get(std::uint32_t off) const { return reg32(bar, off); }
    void set(std::uint32_t off, std::uint32_t v) const { reg32(bar, off) = v; }
};

template <class Regs>
void check_id_liveness_factorial(const Regs& r) {
    EXPECT_EQ(r.get(edu::id), edu::expected_id);
    r.set(edu::liveness, 0x12345678);
    EXPECT_EQ(r.get(edu::liveness), ~0x12345678u) << "edu inverts what was written";
    r.set(edu::factorial, 10);
    EXPECT_TRUE(eventually([&] { return (r.get(edu::status) & 1) == 0; })) << "factorial still computing";
    EXPECT_EQ(r.get(edu::factorial), 3628800u);
}

TEST(VfioEdu, Bar0ThroughMmap) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    auto bar = o.device.mmap(vfio::region::bar0);
    ASSERT_OK(bar);
    EXPECT_EQ(bar->size(), 1u << 20);
    check_id_liveness_factorial(MappedRegs{*bar});
}

TEST(VfioEdu, Bar0ThroughRegionReadAndWrite) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    check_id_liveness_factorial(RegionRegs{o.device});
}

TEST(VfioEdu, IntxHundredTimesTriggerAckUnmask) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    auto bar = o.device.mmap(vfio::region::bar0);
    ASSERT_OK(bar);
    auto trigger = kvmxx::EventFd::create();
    ASSERT_OK(trigger);
    ASSERT_OK(o.device.set_irq(vfio::Irq::Intx, *trigger));
    int fired = 0;
    for (std::uint32_t i = 1; i <= 100; ++i) {
        reg32(*bar, edu::irq_raise) = i;
        auto ready = trigger->wait_for(2000ms);
        ASSERT_OK(ready);
        if (!*ready) {
            ADD_FAILURE() << "interrupt " << i << " did not reach the eventfd";
            break;
        }
        EXPECT_EQ(**trigger->try_read(), 1u);
        EXPECT_EQ(reg32(*bar, edu::irq_status), i) << "the status of interrupt " << i;
        reg32(*bar, edu::irq_ack) = i;          // the device lowers INTx ...
        ASSERT_OK(o.device.unmask(vfio::Irq::Intx));  // ... and VFIO lets the next one through
        ++fired;
    }
    EXPECT_EQ(fired, 100);
    ASSERT_OK(o.device.disable_irqs(vfio::Irq::Intx));
}

TEST(VfioEdu, AMaskedIntxIsHeldBackUntilUnmasked) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    auto bar = o.device.mmap(vfio::region::bar0);
    ASSERT_OK(bar);
    auto trigger = kvmxx::EventFd::create();
    ASSERT_OK(trigger);
    ASSERT_OK(o.device.set_irq(vfio::Irq::Intx, *trigger));
    ASSERT_OK(o.device.mask(vfio::Irq::Intx));
    reg32(*bar, edu::irq_raise) = 1;
    EXPECT_FALSE(*trigger->wait_for(200ms)) << "masked: the interrupt must wait";
    ASSERT_OK(o.device.unmask(vfio::Irq::Intx));
    EXPECT_TRUE(*trigger->wait_for(2000ms)) << "unmasked with the device still asserting: it arrives";
    reg32(*bar, edu::irq_ack) = 1;
    ASSERT_OK(o.device.disable_irqs(vfio::Irq::Intx));
}

TEST(VfioEdu, MsiVectorFiresIntoItsEventFd) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    auto bar = o.device.mmap(vfio::region::bar0);
    ASSERT_OK(bar);
    auto vector = kvmxx::EventFd::create();
    ASSERT_OK(vector);
    ASSERT_OK(o.device.set_irq(vfio::Irq::Msi, *vector));
    int fired = 0;
    for (std::uint32_t i = 1; i <= 50; ++i) {
        reg32(*bar, edu::irq_raise) = 1;
        if (*vector->wait_for(2000ms)) {
            (void)vector->try_read();
            ++fired;
        }
        reg32(*bar, edu::irq_ack) = 1;
    }
    EXPECT_EQ(fired, 50);
    ASSERT_OK(o.device.disable_irqs(vfio::Irq::Msi));
    reg32(*bar, edu::irq_raise) = 1;
    EXPECT_FALSE(*vector->wait_for(100ms)) << "disabled: nothing arrives";
    reg32(*bar, edu::irq_ack) = 1;
}

TEST(VfioEdu, RawRegionWritesReachTheRegistersAndOneRunningPastTheBarIsCutShortByTheKernel) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    auto bar = o.device.mmap(vfio::region::bar0);
    ASSERT_OK(bar);
    auto bytes_of = [](const std::uint32_t& v) { return std::span(reinterpret_cast<const std::uint8_t*>(&v), sizeof v); };
    const std::uint32_t word = 0x0badf00d, five = 5;
    ASSERT_OK(o.device.write(vfio::region::bar0, edu::liveness, bytes_of(word)));
    EXPECT_EQ(reg32(*bar, edu::liveness), ~word) << "the pwrite reached edu, which inverts it";
    ASSERT_OK(o.device.write(vfio::region::bar0, edu::factorial, bytes_of(five)));
    EXPECT_TRUE(eventually([&] { return (reg32(*bar, edu::status) & 1) == 0; }));
    EXPECT_EQ(reg32(*bar, edu::factorial), 120u);
    // vfio_pci_bar_rw clips a transfer at the BAR's end (4 of 8 bytes here) and
    // refuses one that starts there (EINVAL).
    const std::uint8_t eight[8]{};
    auto clipped = o.device.write(vfio::region::bar0, (1u << 20) - 4, eight);
    ASSERT_FALSE(clipped);
    EXPECT_NE(clipped.error().message().find("transferred=4"), std::string::npos) << clipped.error().message();
    auto past = o.device.write(vfio::region::bar0, 1u << 20, eight);
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error().errnum(), EINVAL) << past.error().message();
    EXPECT_EQ(past.error().message().find("transferred="), std::string::npos) << "the kernel's errno, not a short count";
}

TEST(VfioEdu, SetIrqEventfdsWiresTheMsiVectorUntilDetachedAndRefusesAVectorEduLacks) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    auto bar = o.device.mmap(vfio::region::bar0);
    ASSERT_OK(bar);
    auto bytes = o.device.config();
    ASSERT_OK(bytes);
    auto msi = vfio::PciConfig(*bytes).msi();
    ASSERT_TRUE(msi);
    auto msi_enabled = [&] { return (host_config<std::uint16_t>(d->edu, msi->offset + 2).value_or(0) & 1) != 0; };
    ASSERT_FALSE(msi_enabled());
    auto ev = kvmxx::EventFd::create();
    ASSERT_OK(ev);
    const int fds[] = {ev->event_fd()};
    ASSERT_OK(o.device.set_irq_eventfds(vfio::Irq::Msi, 0, fds));
    EXPECT_TRUE(msi_enabled()) << "vfio-pci turned MSI on in the device's own control word";
    reg32(*bar, edu::irq_raise) = 1;
    ASSERT_TRUE(*ev->wait_for(2000ms)) << "edu's MSI did not reach the eventfd";
    EXPECT_EQ(**ev->try_read(), 1u);
    reg32(*bar, edu::irq_ack) = 1;
    // edu has one MSI vector: vector 1 is outside the index (vfio_set_irqs_validate_and_prepare).
    auto beyond = o.device.set_irq_eventfds(vfio::Irq::Msi, 1, fds);
    ASSERT_FALSE(beyond);
    EXPECT_EQ(beyond.error().errnum(), EINVAL) << beyond.error().message();
    // -1 detaches the vector; MSI stays on, and an interrupt no longer reaches the eventfd.
    const int detach[] = {-1};
    ASSERT_OK(o.device.set_irq_eventfds(vfio::Irq::Msi, 0, detach));
    EXPECT_TRUE(msi_enabled());
    reg32(*bar, edu::irq_raise) = 1;
    EXPECT_FALSE(*ev->wait_for(200ms)) << "detached: nothing arrives";
    reg32(*bar, edu::irq_ack) = 1;
    ASSERT_OK(o.device.disable_irqs(vfio::Irq::Msi));
    EXPECT_FALSE(msi_enabled());
}

/// edu DMA of `count` bytes; `to_ram`: device buffer → RAM, else RAM → device.
bool edu_dma(const kvmxx::Mapping& bar, std::uint32_t src, std::uint32_t dst, std::uint32_t count, bool to_ram) {
    reg32(bar, edu::dma_src) = src;
    reg32(bar, edu::dma_src + 4) = 0;
    reg32(bar, edu::dma_dst) = dst;
    reg32(bar, edu::dma_dst + 4) = 0;
    reg32(bar, edu::dma_count) = count;
    reg32(bar, edu::dma_cmd) = 1u | (to_ram ? 2u : 0u);
    return eventually([&] { return (reg32(bar, edu::dma_cmd) & 1) == 0; });
}

TEST(VfioEdu, DmaRoundTripThroughTheSmmuAndNothingAfterUnmap) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    auto bar = o.device.mmap(vfio::region::bar0);
    ASSERT_OK(bar);
    auto ram = kvmxx::Mapping::anonymous(0x2000);
    ASSERT_OK(ram);
    // Below 256 MiB (edu's 28-bit DMA mask) and clear of the MSI doorbell window.
    constexpr std::uint64_t iova = 0x10'0000;
    ASSERT_OK(o.container.map_dma(iova, ram->data(), ram->size()));
    // QEMU 7.2's edu refuses (with a fatal "hardware error") a transfer that
    // ends at the last byte of its buffer, so stay one KiB short of it.
    constexpr std::uint32_t n = 3072;
    std::uint8_t* out = ram->data();
    std::uint8_t* back = ram->data() + 0x1000;
    for (std::uint32_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(i * 7 + 3);
    ASSERT_TRUE(edu_dma(*bar, iova, edu::dma_buffer, n, false)) << "RAM → device did not finish";
    ASSERT_TRUE(edu_dma(*bar, edu::dma_buffer, iova + 0x1000, n, true)) << "device → RAM did not finish";
    EXPECT_EQ(std::memcmp(out, back, n), 0) << "the bytes came back through the SMMU unchanged";

    ASSERT_OK(o.container.unmap_dma(iova, ram->size()));
    std::memset(back, 0xee, n);
    (void)edu_dma(*bar, edu::dma_buffer, iova + 0x1000, n, true);  // faults in the SMMU
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(back[0], 0xee);
    EXPECT_EQ(back[n - 1], 0xee) << "after unmap the device can no longer write the buffer";
}

TEST(VfioDma, MapsOverTheMsiDoorbellOrUnalignedAreRefusedAndUnmapSizesAreChecked) {
    REQUIRE_DEVICES(d);
    Opened o;
    Opened::open(o, d->edu);
    if (HasFatalFailure()) return;
    auto info = o.container.iommu_info();
    ASSERT_OK(info);
    EXPECT_NE(info->page_sizes & 0x1000, 0u);
    ASSERT_TRUE(info->dma_avail.has_value()) << "the DMA-limit capability of the info chain";
    EXPECT_GT(*info->dma_avail, 0u);
    bool doorbell_excluded = true;
    for (const auto& r : info->iova_ranges)
        if (r.contains(0x800'0000, 0x10'0000)) doorbell_excluded = false;
    EXPECT_TRUE(doorbell_excluded) << "the SMMU's MSI window 0x8000000-0x80fffff is reserved";
    auto ram = kvmxx::Mapping::anonymous(0x1000);
    ASSERT_OK(ram);
    auto over = o.container.map_dma(0x800'0000, ram->data(), 0x1000);
    ASSERT_FALSE(over);
    EXPECT_NE(over.error().message().find("iova=0x8000000"), std::string::npos);
    EXPECT_NE(over.error().message().find("MSI doorbell"), std::string::npos);
    auto odd = o.container.map_dma(0x10'0800, ram->data(), 0x1000);
    ASSERT_FALSE(odd);
    EXPECT_NE(odd.error().hint().find("page size"), std::string::npos);
    ASSERT_OK(o.container.map_dma(0x20'0000, ram->data(), 0x1000, vfio::DmaAccess::Read));
    auto twice = o.container.map_dma(0x20'0000, ram->data(), 0x1000);
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().errnum(), EEXIST) << "the kernel refuses an overlapping map";
    auto nothing = o.container.unmap_dma(0x30'0000, 0x1000);
    ASSERT_FALSE(nothing);
    EXPECT_NE(nothing.error().message().find("unmapped=0x0"), std::string::npos);
    ASSERT_OK(o.container.unmap_dma(0x20'0000, 0x1000));
}

}  // namespace
