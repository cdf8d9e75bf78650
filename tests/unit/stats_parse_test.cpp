// stats::parse on stats-fd images built by hand, as the kernel lays them out
// (virt/kvm/binary_stats.c): header, id, descriptors, data. Every offset and count is
// the kernel's to choose, so each one pointing outside the bytes must be an error.
#include <kvmxx/stats.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr std::uint32_t name_size = 48;  // KVM_STATS_NAME_SIZE

struct Desc {
    std::uint32_t flags;
    std::int16_t exponent;
    std::uint16_t size;
    std::uint32_t offset;
    std::uint32_t bucket_size;
    std::string name;
};

/// header | id (name_size) | descriptors (16 + name_size each); data_offset right after.
std::vector<std::uint8_t> image(const std::string& id, const std::vector<Desc>& descs) {
    const std::uint32_t each = 16 + name_size;
    kvmxx::stats::Header h{};
    h.name_size = name_size;
    h.num_desc = static_cast<std::uint32_t>(descs.size());
    h.id_offset = sizeof h;
    h.desc_offset = h.id_offset + name_size;
    h.data_offset = h.desc_offset + each * h.num_desc;
    std::vector<std::uint8_t> b(h.data_offset, 0);
    std::memcpy(b.data(), &h, sizeof h);
    std::memcpy(b.data() + h.id_offset, id.data(), id.size());
    for (std::size_t i = 0; i < descs.size(); ++i) {
        std::uint8_t* d = b.data() + h.desc_offset + i * each;
        std::memcpy(d, &descs[i].flags, 4);
        std::memcpy(d + 4, &descs[i].exponent, 2);
        std::memcpy(d + 6, &descs[i].size, 2);
        std::memcpy(d + 8, &descs[i].offset, 4);
        std::memcpy(d + 12, &descs[i].bucket_size, 4);
        std::memcpy(d + 16, descs[i].name.data(), descs[i].name.size());
    }
    return b;
}

kvmxx::stats::Header header_of(const std::vector<std::uint8_t>& b) {
    kvmxx::stats::Header h{};
    std::memcpy(&h, b.data(), sizeof h);
    return h;
}
void set_header(std::vector<std::uint8_t>& b, const kvmxx::stats::Header& h) { std::memcpy(b.data(), &h, sizeof h); }

const std::vector<Desc> sample = {
    {KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_NONE | KVM_STATS_BASE_POW10, 0, 1, 0, 0, "exits"},
    {KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_BOOLEAN | KVM_STATS_BASE_POW10, 0, 1, 8, 0, "blocking"},
    {KVM_STATS_TYPE_LOG_HIST | KVM_STATS_UNIT_SECONDS | KVM_STATS_BASE_POW10, -9, 32, 16, 0, "halt_poll_success_hist"},
    {KVM_STATS_TYPE_LINEAR_HIST | KVM_STATS_UNIT_BYTES | KVM_STATS_BASE_POW2, 10, 4, 272, 512, "lin"},
};

TEST(StatsParse, DescriptorsBecomeATypedTableInTheKernelsOrder) {
    auto b = image("kvm-42/vcpu-0", sample);
    auto s = kvmxx::stats::parse(b);
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->id, "kvm-42/vcpu-0");
    EXPECT_EQ(s->data_offset, b.size());
    ASSERT_EQ(s->descriptors.size(), 4u);
    const auto& hist = s->descriptors[2];
    EXPECT_EQ(hist.name, "halt_poll_success_hist");
    EXPECT_EQ(hist.type, kvmxx::stats::Type::LogHist);
    EXPECT_EQ(hist.unit, kvmxx::stats::Unit::Seconds);
    EXPECT_EQ(hist.base, kvmxx::stats::Base::Pow10);
    EXPECT_EQ(hist.exponent, -9);
    EXPECT_EQ(hist.size, 32u);
    EXPECT_EQ(hist.offset, 16u);
    const auto* lin = s->find("lin");
    ASSERT_NE(lin, nullptr);
    EXPECT_EQ(lin->type, kvmxx::stats::Type::LinearHist);
    EXPECT_EQ(lin->unit, kvmxx::stats::Unit::Bytes);
    EXPECT_EQ(lin->base, kvmxx::stats::Base::Pow2);
    EXPECT_EQ(lin->bucket_size, 512u);
    EXPECT_EQ(s->find("blocking")->unit, kvmxx::stats::Unit::Boolean);
    EXPECT_EQ(s->find("exits")->type, kvmxx::stats::Type::Cumulative);
    EXPECT_EQ(s->find("nope"), nullptr);
}

TEST(StatsParse, NoDescriptorsIsAnEmptyTable) {
    auto s = kvmxx::stats::parse(image("kvm-1", {}));
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_TRUE(s->descriptors.empty());
}

TEST(StatsParse, EveryPrefixShorterThanTheDescriptorsIsAnErrorNotAnOverread) {
    auto b = image("kvm-1", sample);
    for (std::size_t n = 0; n < b.size(); ++n) {
        // A copy of exactly n bytes, so that ASan sees any read past them.
        std::vector<std::uint8_t> cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        auto s = kvmxx::stats::parse(cut);
        ASSERT_FALSE(s) << "n=" << n;
        EXPECT_EQ(s.error().errnum(), EINVAL);
        EXPECT_STREQ(s.error().operation(), "KVM_GET_STATS_FD");
    }
}

TEST(StatsParse, OffsetsAndCountsThatPointOutsideAreNamed) {
    auto b = image("kvm-1", sample);
    auto h = header_of(b);
    auto with = [&](auto change) {
        auto copy = b;
        auto hh = h;
        change(hh);
        set_header(copy, hh);
        return kvmxx::stats::parse(copy);
    };
    auto far_id = with([](auto& hh) { hh.id_offset = 0xffff'fff0u; });
    ASSERT_FALSE(far_id);
    EXPECT_NE(far_id.error().detail().find("id at 4294967280+48"), std::string::npos) << far_id.error().message();
    auto many = with([](auto& hh) { hh.num_desc = 0xffff'ffffu; });
    ASSERT_FALSE(many);
    EXPECT_NE(many.error().detail().find("descriptors"), std::string::npos) << many.error().message();
    auto huge_names = with([](auto& hh) { hh.name_size = 0xffff'ffffu; });
    ASSERT_FALSE(huge_names);
    auto no_names = with([](auto& hh) { hh.name_size = 0; });
    ASSERT_FALSE(no_names);
    EXPECT_NE(no_names.error().detail().find("name_size=0"), std::string::npos);
}

TEST(StatsParse, ANameWithoutItsNulIsRefusedNotReadOnward) {
    auto b = image(std::string(name_size - 1, 'i'), {{0, 0, 1, 0, 0, std::string(name_size, 'x')}});
    auto s = kvmxx::stats::parse(b);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().detail().find("descriptor 0: name has no NUL"), std::string::npos) << s.error().message();
    auto id = image(std::string(name_size, 'i'), {});
    auto t = kvmxx::stats::parse(id);
    ASSERT_FALSE(t);
    EXPECT_NE(t.error().detail().find("id has no NUL"), std::string::npos);
}

}  // namespace
