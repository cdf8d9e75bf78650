// kvmxx/stats.hpp — a VM's or vCPU's binary statistics (KVM_GET_STATS_FD).
//
// KVM_GET_STATS_FD (api.rst 4.133, Linux 5.14, KVM_CAP_BINARY_STATS_FD) returns a
// read-only fd whose contents are, in order: a `kvm_stats_header`, an id string, one
// descriptor per statistic (flags, exponent, size, offset, bucket size, then a name of
// `name_size` bytes), and the data block of u64 values the descriptors point into. The
// layout before the data never changes while the fd lives; the values do, on every read.
//
// `stats::parse` turns the bytes before the data block into a typed `stats::Schema`.
// It is a pure function over a span: every offset and count in the header is the
// kernel's (or a fuzzer's) to choose, so it reads nothing outside the span it was
// given and fails with EINVAL naming the first field that points outside.
//
// Example [stats], built by tests/unit/doc_examples_test.cpp:
//
//     auto stats = cpu.stats();                        // KVM_GET_STATS_FD
//     auto exits = stats->value("exits");              // pread of one u64
#pragma once

#include "config.hpp"
#include "error.hpp"
#include "ioctl.hpp"
#include "trace.hpp"
#include "unique_fd.hpp"

#include <linux/kvm.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

KVMXX_BEGIN_NAMESPACE

namespace stats {

/// What a statistic counts (KVM_STATS_TYPE_*; bits 0-3 of the descriptor's flags).
enum class Type : std::uint32_t {
    Cumulative = 0,  ///< only grows (e.g. "exits")
    Instant = 1,     ///< a current value that can go up and down (e.g. "blocking")
    Peak = 2,        ///< the largest value seen
    LinearHist = 3,  ///< `size` buckets of `bucket_size` each
    LogHist = 4,     ///< `size` buckets of powers of two
};
/// The unit of a statistic's values (KVM_STATS_UNIT_*; bits 4-7 of the flags).
enum class Unit : std::uint32_t {
    None = 0,     ///< a count
    Bytes = 1,    ///< bytes
    Seconds = 2,  ///< seconds (with exponent -9: nanoseconds)
    Cycles = 3,   ///< CPU cycles
    Boolean = 4,  ///< 0 or 1
};
/// The base of `exponent` (KVM_STATS_BASE_*; bits 8-11): value × base^exponent is in `unit`.
enum class Base : std::uint32_t {
    Pow10 = 0,  ///< value × 10^exponent
    Pow2 = 1,   ///< value × 2^exponent
};

static_assert(static_cast<std::uint32_t>(Type::LogHist) << 0 == KVM_STATS_TYPE_LOG_HIST);
static_assert(static_cast<std::uint32_t>(Unit::Boolean) << 4 == KVM_STATS_UNIT_BOOLEAN);
static_assert(static_cast<std::uint32_t>(Base::Pow2) << 8 == KVM_STATS_BASE_POW2);

/// The header at offset 0 of a stats fd (`struct kvm_stats_header`).
struct Header {
    std::uint32_t flags;        ///< 0 so far
    std::uint32_t name_size;    ///< bytes of the id and of each descriptor's name, NUL included
    std::uint32_t num_desc;     ///< how many descriptors (and statistics) there are
    std::uint32_t id_offset;    ///< file offset of the id string
    std::uint32_t desc_offset;  ///< file offset of the first descriptor
    std::uint32_t data_offset;  ///< file offset of the data block of u64 values
};
static_assert(sizeof(Header) == sizeof(kvm_stats_header) && sizeof(Header) == 24);
/// The fixed part of each descriptor (`struct kvm_stats_desc` before `name[]`).
inline constexpr std::size_t descriptor_fixed_size = 16;
static_assert(offsetof(kvm_stats_desc, bucket_size) + sizeof(std::uint32_t) == descriptor_fixed_size);

/// One statistic, as its descriptor describes it.
struct Descriptor {
    std::string name;         ///< e.g. "exits"
    std::uint32_t flags = 0;  ///< the raw flags (type | unit | base), for bits newer than kvmxx
    Type type = Type::Cumulative;  ///< what it counts
    Unit unit = Unit::None;        ///< the unit of value × base^exponent
    Base base = Base::Pow10;       ///< the base of `exponent`
    std::int16_t exponent = 0;     ///< value × base^exponent is in `unit`
    std::uint16_t size = 0;        ///< number of u64 values (1, or the buckets of a histogram)
    std::uint32_t offset = 0;      ///< byte offset of the first value in the data block
    std::uint32_t bucket_size = 0; ///< for LinearHist
};

/// The parsed layout of a stats fd: its id, where the data block begins, every descriptor.
struct Schema {
    std::string id;  ///< e.g. "kvm-1234" for a VM, "kvm-1234/vcpu-0" for a vCPU
    std::uint32_t data_offset = 0;        ///< file offset of the data block
    std::vector<Descriptor> descriptors;  ///< in the kernel's order

    /// The descriptor named `name`, or nullptr.
    const Descriptor* find(std::string_view name) const noexcept {
        for (const auto& d : descriptors)
            if (d.name == name) return &d;
        return nullptr;
    }
};

/// Parses the bytes of a stats fd before its data block (offsets 0 to the header's
/// data_offset): the header, the id and every descriptor, each checked to lie inside
/// `bytes`. Names must end in a NUL within name_size bytes.
///
/// Example [stats_parse], built by tests/unit/doc_examples_test.cpp:
///
///     auto schema = kvmxx::stats::parse(bytes);   // bytes from pread(stats_fd, ..., 0)
inline Result<Schema> parse(std::span<const std::uint8_t> bytes) {
    constexpr const char* op = "KVM_GET_STATS_FD";
    Header h{};
    if (bytes.size() < sizeof h)
        return fail(op, EINVAL, "header: " + std::to_string(bytes.size()) + " bytes, needs 24");
    std::memcpy(&h, bytes.data(), sizeof h);
    const std::uint64_t total = bytes.size();
    auto outside = [&](const char* what, std::uint64_t offset, std::uint64_t size) {
        return fail(op, EINVAL,
                    std::string(what) + " at " + std::to_string(offset) + "+" + std::to_string(size) +
                        " lies outside the " + std::to_string(total) + " bytes read");
    };
    auto name_at = [&](std::uint64_t offset) -> std::optional<std::string> {
        const char* p = reinterpret_cast<const char*>(bytes.data() + offset);
        const std::size_t n = ::strnlen(p, h.name_size);
        if (n == h.name_size) return std::nullopt;
        return std::string(p, n);
    };
    if (h.name_size == 0) return fail(op, EINVAL, "header: name_size=0");
    Schema s;
    s.data_offset = h.data_offset;
    if (std::uint64_t{h.id_offset} + h.name_size > total) return outside("id", h.id_offset, h.name_size);
    auto id = name_at(h.id_offset);
    if (!id) return fail(op, EINVAL, "id has no NUL within name_size=" + std::to_string(h.name_size));
    s.id = std::move(*id);
    const std::uint64_t each = descriptor_fixed_size + std::uint64_t{h.name_size};
    const std::uint64_t all = each * h.num_desc;  // < 2^33 * 2^32: no overflow in 64 bits
    if (std::uint64_t{h.desc_offset} + all > total) return outside("descriptors", h.desc_offset, all);
    s.descriptors.reserve(h.num_desc);
    for (std::uint64_t i = 0; i < h.num_desc; ++i) {
        const std::uint64_t at = h.desc_offset + i * each;
        Descriptor d;
        std::memcpy(&d.flags, bytes.data() + at, 4);
        std::memcpy(&d.exponent, bytes.data() + at + 4, 2);
        std::memcpy(&d.size, bytes.data() + at + 6, 2);
        std::memcpy(&d.offset, bytes.data() + at + 8, 4);
        std::memcpy(&d.bucket_size, bytes.data() + at + 12, 4);
        d.type = static_cast<Type>(d.flags & KVM_STATS_TYPE_MASK);
        d.unit = static_cast<Unit>((d.flags & KVM_STATS_UNIT_MASK) >> KVM_STATS_UNIT_SHIFT);
        d.base = static_cast<Base>((d.flags & KVM_STATS_BASE_MASK) >> KVM_STATS_BASE_SHIFT);
        auto name = name_at(at + descriptor_fixed_size);
        if (!name) return fail(op, EINVAL, "descriptor " + std::to_string(i) + ": name has no NUL");
        d.name = std::move(*name);
        s.descriptors.push_back(std::move(d));
    }
    return s;
}

}  // namespace stats

/// An open stats fd and its parsed schema: values by name, read fresh on each call.
///
/// Example [stats_fd], built by tests/unit/doc_examples_test.cpp:
///
///     auto stats = vm.stats();
///     for (const auto& d : stats->schema().descriptors) std::puts(d.name.c_str());
class StatsFd {
public:
    /// An empty StatsFd (fd() is -1, no statistics).
    StatsFd() = default;

    /// Reads the header and descriptors of the stats fd `fd` (from KVM_GET_STATS_FD) and
    /// takes ownership of it.
    [[nodiscard]] static Result<StatsFd> adopt(UniqueFd fd) {
        constexpr const char* op = "KVM_GET_STATS_FD";
        stats::Header h{};
        const ssize_t n = ::pread(fd.get(), &h, sizeof h, 0);
        if (n < 0) return fail_errno(op, "pread of the header");
        if (static_cast<std::size_t>(n) != sizeof h) return fail(op, EIO, "short header: " + std::to_string(n) + " bytes");
        constexpr std::uint32_t limit = 16u << 20;  // kernels use a few KiB
        if (h.data_offset < sizeof h || h.data_offset > limit)
            return fail(op, EINVAL, "header: data_offset=" + std::to_string(h.data_offset));
        std::vector<std::uint8_t> bytes(h.data_offset);
        const ssize_t got = ::pread(fd.get(), bytes.data(), bytes.size(), 0);
        if (got < 0) return fail_errno(op, "pread of the descriptors");
        bytes.resize(static_cast<std::size_t>(got));
        auto schema = stats::parse(bytes);
        if (!schema) return unexpected<Error>(std::move(schema).error());
        StatsFd s;
        s.fd_ = std::move(fd);
        s.schema_ = std::move(*schema);
        return s;
    }

    /// The parsed header and descriptors.
    const stats::Schema& schema() const noexcept { return schema_; }

    /// Every value of the statistic `name` (one, or a histogram's buckets), read now.
    [[nodiscard]] Result<std::vector<std::uint64_t>> values(std::string_view name) const {
        const auto* d = schema_.find(name);
        if (!d) return fail("stats read", ENOENT, "no statistic named \"" + std::string(name) + "\" in " + schema_.id);
        std::vector<std::uint64_t> out(d->size);
        const std::size_t bytes = out.size() * sizeof(std::uint64_t);
        const ssize_t n = ::pread(fd_.get(), out.data(), bytes, static_cast<off_t>(schema_.data_offset) + d->offset);
        if (n < 0) return fail_errno("stats read", "name=" + std::string(name));
        if (static_cast<std::size_t>(n) != bytes)
            return fail("stats read", EIO, "name=" + std::string(name) + ": " + std::to_string(n) + " of " +
                                               std::to_string(bytes) + " bytes");
        return out;
    }

    /// The first (for most statistics the only) value of `name`, read now.
    [[nodiscard]] Result<std::uint64_t> value(std::string_view name) const {
        auto v = values(name);
        if (!v) return unexpected<Error>(std::move(v).error());
        if (v->empty()) return fail("stats read", ERANGE, "name=" + std::string(name) + " has size 0");
        return v->front();
    }

    /// The stats fd, for reads kvmxx does not make (e.g. the whole data block at once).
    int fd() const noexcept { return fd_.get(); }

private:
    UniqueFd fd_;
    stats::Schema schema_;
};

namespace detail {
/// KVM_GET_STATS_FD on a VM or vCPU fd; `who` is "vm" or "vcpu=N" for the error and trace.
inline Result<StatsFd> get_stats_fd(int object_fd, const std::string& who) {
    auto r = sys::ioctl(object_fd, KVM_GET_STATS_FD, "KVM_GET_STATS_FD", 0UL, [&] { return who; });
    if (!r) {
        const int err = r.error().errnum();
        if (err == ENOTTY || err == EINVAL)
            return fail_with_hint("KVM_GET_STATS_FD", err, who,
                                  "this kernel lacks KVM_CAP_BINARY_STATS_FD (added in Linux 5.14)");
        return unexpected<Error>(std::move(r).error());
    }
    return StatsFd::adopt(UniqueFd(*r));
}
}  // namespace detail

KVMXX_END_NAMESPACE
