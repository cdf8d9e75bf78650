// fdt.hpp — writes a flattened device tree (the DTB a Linux kernel reads at boot
// to learn its machine: CPUs, memory, interrupt controller, devices, bootargs).
//
// The format (devicetree specification v0.4, chapter 5), all big-endian:
//   header (40 bytes) | memory reservation map (ended by a zero entry) |
//   structure block: BEGIN_NODE name, PROP len nameoff value, END_NODE ..., END |
//   strings block: every property name once, NUL-terminated.
//
//     vmm::FdtWriter fdt;
//     fdt.begin_node("");                       // the root
//     fdt.prop_u32("#address-cells", 2);
//     fdt.begin_node(vmm::node_name("memory", 0x4000'0000));   // "memory@40000000"
//     fdt.prop_string("device_type", "memory");
//     fdt.prop_reg(0x4000'0000, 0x1000'0000);
//     fdt.end_node();
//     fdt.end_node();
//     kvmxx::Result<std::vector<std::uint8_t>> dtb = fdt.finish();
#pragma once

#include "errors.hpp"

#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vmm {

/// A node name from its unit address, as the spec has it: "pl011@9000000".
inline std::string node_name(std::string_view name, std::uint64_t unit_address) {
    char hex[17];
    const auto end = std::to_chars(hex, hex + sizeof hex, unit_address, 16).ptr;
    return std::string(name) + "@" + std::string(hex, static_cast<std::size_t>(end - hex));
}

class FdtWriter {
public:
    static constexpr std::uint32_t magic = 0xd00dfeed;
    static constexpr std::uint32_t begin_node_token = 1, end_node_token = 2, prop_token = 3, end_token = 9;

    void begin_node(std::string_view name) {
        u32(structure_, begin_node_token);
        structure_.insert(structure_.end(), name.begin(), name.end());
        structure_.push_back(0);
        pad(structure_);
        ++depth_;
    }
    /// Closes the innermost open node (one too many is reported by finish()).
    void end_node() {
        if (depth_ == 0) {
            unbalanced_ = true;
            return;
        }
        u32(structure_, end_node_token);
        --depth_;
    }

    void prop(std::string_view name, std::span<const std::uint8_t> value) {
        u32(structure_, prop_token);
        u32(structure_, static_cast<std::uint32_t>(value.size()));
        u32(structure_, name_offset(name));
        structure_.insert(structure_.end(), value.begin(), value.end());
        pad(structure_);
    }
    void prop_empty(std::string_view name) { prop(name, {}); }
    void prop_u32(std::string_view name, std::uint32_t v) { prop_cells(name, {v}); }
    void prop_u64(std::string_view name, std::uint64_t v) {
        prop_cells(name, {static_cast<std::uint32_t>(v >> 32), static_cast<std::uint32_t>(v)});
    }
    /// reg = <base size> with 2 address and 2 size cells (the board's root).
    void prop_reg(std::uint64_t base, std::uint64_t size) {
        prop_cells("reg", {hi(base), lo(base), hi(size), lo(size)});
    }
    static constexpr std::uint32_t hi(std::uint64_t v) noexcept { return static_cast<std::uint32_t>(v >> 32); }
    static constexpr std::uint32_t lo(std::uint64_t v) noexcept { return static_cast<std::uint32_t>(v); }
    void prop_cells(std::string_view name, std::initializer_list<std::uint32_t> cells) {
        prop_cells(name, std::span<const std::uint32_t>(cells.begin(), cells.size()));
    }
    void prop_cells(std::string_view name, std::span<const std::uint32_t> cells) {
        std::vector<std::uint8_t> v;
        for (auto c : cells) u32(v, c);
        prop(name, v);
    }
    void prop_string(std::string_view name, std::string_view s) { prop_strings(name, {s}); }
    /// A string list, e.g. compatible = "arm,pl011", "arm,primecell".
    void prop_strings(std::string_view name, std::initializer_list<std::string_view> list) {
        std::vector<std::uint8_t> v;
        for (auto s : list) {
            v.insert(v.end(), s.begin(), s.end());
            v.push_back(0);
        }
        prop(name, v);
    }

    /// A fresh phandle, for nodes others refer to (the GIC, a clock).
    std::uint32_t new_phandle() noexcept { return ++last_phandle_; }

    /// The DTB; an error when the nodes were not opened and closed in pairs.
    kvmxx::Result<std::vector<std::uint8_t>> finish() {
        if (depth_ != 0 || unbalanced_)
            return kvmxx::unexpected<kvmxx::Error>(kvmxx::Error(
                vmm_op, EINVAL, unbalanced_ ? std::string("fdt: end_node without begin_node")
                                            : "fdt: " + std::to_string(depth_) + " node(s) left open"));
        u32(structure_, end_token);
        constexpr std::uint32_t header_size = 40, rsvmap_size = 16;
        const auto off_struct = header_size + rsvmap_size;
        const auto off_strings = off_struct + static_cast<std::uint32_t>(structure_.size());
        const auto total = off_strings + static_cast<std::uint32_t>(strings_.size());
        std::vector<std::uint8_t> out;
        out.reserve(total);
        for (std::uint32_t v : {magic, total, off_struct, off_strings, header_size, 17u, 16u, 0u,
                                static_cast<std::uint32_t>(strings_.size()), static_cast<std::uint32_t>(structure_.size())})
            u32(out, v);
        out.resize(out.size() + rsvmap_size, 0);  // no reserved memory: one zero entry
        out.insert(out.end(), structure_.begin(), structure_.end());
        out.insert(out.end(), strings_.begin(), strings_.end());
        return out;
    }

    static void u32(std::vector<std::uint8_t>& v, std::uint32_t x) {
        for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<std::uint8_t>(x >> s));
    }

private:
    static void pad(std::vector<std::uint8_t>& v) {
        while (v.size() % 4) v.push_back(0);
    }
    std::uint32_t name_offset(std::string_view name) {
        auto it = names_.find(std::string(name));
        if (it != names_.end()) return it->second;
        const auto off = static_cast<std::uint32_t>(strings_.size());
        strings_.insert(strings_.end(), name.begin(), name.end());
        strings_.push_back(0);
        names_.emplace(std::string(name), off);
        return off;
    }

    std::vector<std::uint8_t> structure_, strings_;
    std::map<std::string, std::uint32_t, std::less<>> names_;
    unsigned depth_ = 0;
    bool unbalanced_ = false;
    std::uint32_t last_phandle_ = 0;
};

}  // namespace vmm
