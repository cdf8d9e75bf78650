// arm64 interrupt numbering helpers.
#include <kvmxx/arm64/gic.hpp>

#include <gtest/gtest.h>

namespace {

using namespace kvmxx::arm64;

TEST(GicNumbers, SpiIntidAndGsi) {
    EXPECT_EQ(spi_intid(0), 32u);
    EXPECT_EQ(spi_intid(5), 37u);
    EXPECT_EQ(spi_gsi(5), 5u);
}

// KVM_IRQ_LINE layout: type in bits 24-27, vCPU index in 16-23, number in 0-15
// (Documentation/virt/kvm/api.rst, KVM_IRQ_LINE, arm64).
TEST(GicNumbers, IrqLineEncoding) {
    EXPECT_EQ(irq_line_spi(37), 0x0100'0025u);
    EXPECT_EQ(irq_line_ppi(1, 27), 0x0201'001bu);
}

// SPIs run up to INTID 1019 (GICv3), so the INTID field needs all of its 16 bits.
TEST(GicNumbers, IrqLineKeepsSpiIntidsAbove255) {
    EXPECT_EQ(irq_line_spi(256), 0x0100'0100u);
    EXPECT_EQ(irq_line_spi(1019), 0x0100'03fbu);
}

TEST(GicNumbers, FdtSpecifiers) {
    EXPECT_EQ(fdt_spi(5), (std::array<std::uint32_t, 3>{0, 5, 4}));
    EXPECT_EQ(fdt_spi(5, Trigger::EdgeRising), (std::array<std::uint32_t, 3>{0, 5, 1}));
    EXPECT_EQ(fdt_ppi(27), (std::array<std::uint32_t, 3>{1, 11, 4}));
}

}  // namespace
