// IrqRoute: the entries it builds and the KVM_SET_GSI_ROUTING buffer it packs.
#include <kvmxx/irq_route.hpp>

#include <gtest/gtest.h>

namespace {

TEST(IrqRoute, IrqchipAndMsiEntries) {
    kvmxx::IrqRoute route;
    route.add_irqchip(3, 0, 3).add_msi(64, {.address = 0x1'0808'0040ULL, .data = 7, .devid = 0x10});
    ASSERT_EQ(route.size(), 2u);
    const auto& chip = route.entries()[0];
    EXPECT_EQ(chip.type, static_cast<std::uint32_t>(KVM_IRQ_ROUTING_IRQCHIP));
    EXPECT_EQ(chip.gsi, 3u);
    EXPECT_EQ(chip.u.irqchip.pin, 3u);
    const auto& msi = route.entries()[1];
    EXPECT_EQ(msi.type, static_cast<std::uint32_t>(KVM_IRQ_ROUTING_MSI));
    EXPECT_EQ(msi.u.msi.address_lo, 0x0808'0040u);
    EXPECT_EQ(msi.u.msi.address_hi, 0x1u);
    EXPECT_EQ(msi.u.msi.data, 7u);
    EXPECT_EQ(msi.flags, static_cast<std::uint32_t>(KVM_MSI_VALID_DEVID));
    EXPECT_EQ(msi.u.msi.devid, 0x10u);
}

TEST(IrqRoute, PrepareKeepsDevidOnlyWhenTheKernelSupportsIt) {
    kvmxx::IrqRoute route;
    route.add_msi(1, {.address = 0x1000, .data = 1, .devid = 8}).add_msi(2, {.address = 0x1000, .data = 2});
    auto with = route.prepare(true);
    EXPECT_EQ(with.head().nr, 2u);
    EXPECT_EQ(with.entries()[0].flags, static_cast<std::uint32_t>(KVM_MSI_VALID_DEVID));
    EXPECT_EQ(with.entries()[0].u.msi.devid, 8u);
    EXPECT_EQ(with.entries()[1].flags, 0u);
    auto without = route.prepare(false);
    EXPECT_EQ(without.entries()[0].flags, 0u);
    EXPECT_EQ(without.entries()[0].u.msi.devid, 0u);
    EXPECT_EQ(without.entries()[0].u.msi.data, 1u);
}

TEST(IrqRoute, IdentityPinsAndRemoval) {
    kvmxx::IrqRoute route;
    route.add_irqchip_pins(0, 32);
    EXPECT_EQ(route.size(), 32u);
    EXPECT_EQ(route.entries()[31].gsi, 31u);
    EXPECT_EQ(route.entries()[31].u.irqchip.pin, 31u);
    route.add_msi(5, {.address = 0x1000});
    route.remove(5);
    EXPECT_EQ(route.size(), 31u);
    for (const auto& e : route.entries()) EXPECT_NE(e.gsi, 5u);
}

TEST(IrqRoute, LargeTablePacksEveryEntry) {
    kvmxx::IrqRoute route;
    for (std::uint32_t i = 0; i < 1024; ++i) route.add_msi(i, {.address = 0x1000 + i, .data = i});
    auto table = route.prepare(true);
    ASSERT_EQ(table.entries().size(), 1024u);
    EXPECT_EQ(table.entries()[1023].gsi, 1023u);
    EXPECT_EQ(table.entries()[1023].u.msi.address_lo, 0x1000u + 1023u);
}

}  // namespace
