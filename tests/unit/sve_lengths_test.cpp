// arm64::SveVectorLengths and the SVE register ids, on any host: the map's layout
// and the ids as Documentation/virt/kvm/api.rst writes them out (KVM_SET_ONE_REG,
// "arm64 SVE registers"), not as sve.hpp computes them.
#include <kvmxx/arm64/sve.hpp>

#include <gtest/gtest.h>

namespace arm64 = kvmxx::arm64;

TEST(SveVectorLengths, BitVqMinusOneStandsForVqQuadwordsAsKvmsMapHasIt) {
    auto l = arm64::SveVectorLengths::of_bits({128, 256, 2048});
    ASSERT_TRUE(l) << l.error().message();
    // vq 1 → word 0 bit 0, vq 2 → bit 1, vq 16 (2048 bits) → bit 15.
    EXPECT_EQ(l->words()[0], 0x8003u);
    for (std::size_t i = 1; i < 8; ++i) EXPECT_EQ(l->words()[i], 0u);
    EXPECT_TRUE(l->has_vq(1) && l->has_vq(2) && l->has_vq(16));
    EXPECT_FALSE(l->has_vq(3) || l->has_vq(0) || l->has_vq(513));
    EXPECT_TRUE(l->has_bits(256));
    EXPECT_FALSE(l->has_bits(384) || l->has_bits(200));
    EXPECT_EQ(l->bits(), (std::vector<unsigned>{128, 256, 2048}));
    EXPECT_EQ(l->max_bits(), 2048u);
    EXPECT_EQ(l->to_string(), "128, 256, 2048");
    // A map read back from the kernel: vq 65 is word 1, bit 0.
    arm64::SveVectorLengths::Words w{};
    w[1] = 1;
    const arm64::SveVectorLengths high(w);
    EXPECT_EQ(high.bits(), std::vector<unsigned>{65 * 128});
    EXPECT_EQ(arm64::SveVectorLengths{}.to_string(), "none");
    EXPECT_EQ(arm64::SveVectorLengths{}.max_bits(), 0u);
    arm64::SveVectorLengths built;
    for (unsigned vq : {1u, 2u, 16u}) built.add_vq(vq);
    EXPECT_EQ(built, *l);
    built.add_vq(0), built.add_vq(600);  // not lengths: ignored
    EXPECT_EQ(built, *l);
}

TEST(SveVectorLengths, WhatIsNoLengthIsRefusedInOneLine) {
    for (unsigned bad : {0u, 100u, 2176u}) {
        auto l = arm64::SveVectorLengths::of_bits({128, bad});
        ASSERT_FALSE(l) << bad;
        EXPECT_EQ(l.error().errnum(), EINVAL);
        EXPECT_EQ(l.error().detail(), std::to_string(bad) + " bits is not a vector length: give multiples of 128 up to 2048");
    }
    auto none = arm64::SveVectorLengths::of_bits(std::vector<unsigned>{});
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().detail(), "no vector length given");
}

TEST(SveRegisterIds, AreTheValuesTheKvmApiDocumentSpellsOut) {
    EXPECT_EQ(arm64::sve::vls_id, 0x606000000015ffffull);   // KVM_REG_ARM64_SVE_VLS
    EXPECT_EQ(arm64::sve::z(0).id, 0x6080000000150000ull);  // Z0, slice 0
    EXPECT_EQ(arm64::sve::z(31).id, 0x60800000001503e0ull); // Z31: n << 5
    EXPECT_EQ(arm64::sve::p(0).id, 0x6050000000150400ull);  // P0
    EXPECT_EQ(arm64::sve::p(15).id, 0x60500000001505e0ull); // P15
    EXPECT_EQ(arm64::id_aa64pfr0_sve(0x0000'0001'0000'0011ull), 1u);
    EXPECT_EQ(arm64::id_aa64pfr0_sve(0x0000'0000'1111'0011ull), 0u);
}
