// options.hpp — the VMM's command line, parsed into Options or a bad_input
// error of one line saying what was wrong (pure: unit-tested on the host).
#pragma once

#include "errors.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vmm {

inline constexpr const char* usage =
    "usage: kvmxx-vmm --kernel Image [--initrd FILE] [--cmdline STR] [--cpus N] [--memory SIZE]\n"
    "                 [--device vfio:BDF]... [--sve|--no-sve] [--sve-lengths BITS,...]\n"
    "                 [--ptrauth|--no-ptrauth] [--pmu] [--console stdio|none|file:PATH] [--allow-reset]\n"
    "                 [--trace] [--help]\n"
    "  -k, --kernel   an uncompressed arm64 Linux Image; a file without the Image header is\n"
    "             loaded as a raw binary at RAM + 0x80000 (as kvmtool does), with a warning\n"
    "  -i, --initrd   an initramfs, passed to the kernel through the device tree\n"
    "  -p, --params, --cmdline  kernel command line (default: \"console=ttyAMA0\")\n"
    "  -c, --cpus     vCPUs, 1..8 (default 1)\n"
    "  -m, --memory   guest RAM: bytes or with a K, M or G suffix, at least 64M (default 256M)\n"
    "  --device   pass a PCI device bound to vfio-pci through, e.g. vfio:0000:00:04.0\n"
    "  --sve      give the guest SVE (default: where the host has it); --no-sve: never\n"
    "  --sve-lengths  the vector lengths the guest may use, in bits, e.g. 128,256 (implies --sve;\n"
    "             KVM takes the host's lengths up to a maximum)\n"
    "  --ptrauth  give the guest pointer authentication (default: where the host has it); --no-ptrauth: never\n"
    "  --pmu      give the guest a PMUv3 (KVM_ARM_VCPU_PMU_V3, PPI 7, an arm,armv8-pmuv3 node); an error\n"
    "             where the host's KVM has none (default: no PMU)\n"
    "  --console  the guest's console: stdio (default; a terminal goes raw, Ctrl-A x quits),\n"
    "             none, or file:PATH (output appended, no input)\n"
    "  --allow-reset  exit 0 when the guest resets (default: exit 3, as a panic with panic=N resets)\n"
    "  --trace    print every KVM/VFIO ioctl, decoded, and what the VMM does\n"
    "exit status: 0 the guest powered off, 1 a VMM or KVM error, 2 bad input, 3 the guest reset,\n"
    "             128+N stopped by signal N\n";

struct Options {
    std::string kernel;
    std::string initrd;
    std::string cmdline = "console=ttyAMA0";
    unsigned cpus = 1;
    std::uint64_t memory = 256ull << 20;
    std::vector<std::string> devices;  ///< PCI addresses
    std::optional<bool> sve;            ///< unset: where the host has it
    std::vector<unsigned> sve_lengths;  ///< bits; empty: all the host's
    std::optional<bool> ptrauth;        ///< unset: where the host has it
    bool pmu = false;                   ///< a guest PMUv3 (an error where the host has none)
    std::string console = "stdio";      ///< stdio, none or file:PATH (console.hpp checks it)
    bool allow_reset = false;  ///< a guest reset is a clean exit (else exit_reset)
    bool trace = false;
    bool help = false;
};

inline constexpr unsigned max_cpus = 8;
inline constexpr std::uint64_t min_memory = 64ull << 20;
inline constexpr std::uint64_t max_memory = 64ull << 30;

/// "256M" → 268435456; nullopt for anything else.
inline std::optional<std::uint64_t> parse_size(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::uint64_t v = 0;
    std::size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        if (v > (~0ull - 9) / 10) return std::nullopt;
        v = v * 10 + static_cast<unsigned>(s[i] - '0');
    }
    if (i == 0) return std::nullopt;
    unsigned shift = 0;
    if (i < s.size()) {
        switch (s[i]) {
            case 'K': case 'k': shift = 10; break;
            case 'M': case 'm': shift = 20; break;
            case 'G': case 'g': shift = 30; break;
            default: return std::nullopt;
        }
        if (++i != s.size()) return std::nullopt;
    }
    if (v > (~0ull >> shift)) return std::nullopt;
    return v << shift;
}

/// "128,256" → {128, 256}: SVE vector lengths in bits, each a multiple of 128 up
/// to 2048; else why not.
inline kvmxx::expected<std::vector<unsigned>, std::string> parse_sve_lengths(std::string_view s) {
    std::vector<unsigned> out;
    while (true) {
        const auto comma = s.find(',');
        const std::string_view item = s.substr(0, comma);
        const auto n = parse_size(item);
        if (!n || item.find_first_not_of("0123456789") != std::string_view::npos || *n == 0 || *n % 128 || *n > 2048)
            return kvmxx::unexpected<std::string>("'" + std::string(item) + "' is not a vector length: give multiples of 128 up to 2048");
        out.push_back(static_cast<unsigned>(*n));
        if (comma == std::string_view::npos) return out;
        s.remove_prefix(comma + 1);
    }
}

/// Parses argv[1..]; a mistake is a bad_input error of one line.
inline kvmxx::Result<Options> parse_options(const std::vector<std::string>& args) {
    Options o;
    std::string error;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](const char* what) -> const std::string* {
            if (i + 1 >= args.size()) {
                error = a + " needs " + what;
                return nullptr;
            }
            return &args[++i];
        };
        if (a == "--help" || a == "-h") {
            o.help = true;
        } else if (a == "--trace") {
            o.trace = true;
        } else if (a == "--allow-reset") {
            o.allow_reset = true;
        } else if (a == "--pmu") {
            o.pmu = true;
        } else if (a == "--sve" || a == "--no-sve") {
            o.sve = a == "--sve";
        } else if (a == "--ptrauth" || a == "--no-ptrauth") {
            o.ptrauth = a == "--ptrauth";
        } else if (a == "--sve-lengths") {
            auto v = value("a list of bits, e.g. 128,256");
            if (!v) return bad_input(error);
            auto lengths = parse_sve_lengths(*v);
            if (!lengths) return bad_input("--sve-lengths " + *v + ": " + lengths.error());
            o.sve_lengths = *lengths;
        } else if (a == "--console") {
            if (auto v = value("stdio, none or file:PATH")) o.console = *v; else return bad_input(error);
        } else if (a == "--kernel" || a == "-k") {
            if (auto v = value("a file")) o.kernel = *v; else return bad_input(error);
        } else if (a == "--initrd" || a == "-i") {
            if (auto v = value("a file")) o.initrd = *v; else return bad_input(error);
        } else if (a == "--cmdline" || a == "--params" || a == "-p") {  // --params, -p: kvmtool's spellings
            if (auto v = value("a string")) o.cmdline = *v; else return bad_input(error);
        } else if (a == "--cpus" || a == "-c") {
            auto v = value("a number");
            if (!v) return bad_input(error);
            auto n = parse_size(*v);
            if (!n || *v != std::to_string(*n) || *n == 0 || *n > max_cpus) {
                return bad_input(a + " " + *v + ": give a number from 1 to " + std::to_string(max_cpus));
            }
            o.cpus = static_cast<unsigned>(*n);
        } else if (a == "--memory" || a == "-m") {
            auto v = value("a size");
            if (!v) return bad_input(error);
            auto n = parse_size(*v);
            if (!n) {
                return bad_input(a + " " + *v + ": not a size; write bytes or a number with K, M or G (e.g. 256M)");
            }
            if (*n < min_memory || *n > max_memory || *n % (2 << 20)) {
                return bad_input(a + " " + *v + ": give a multiple of 2M from 64M to 64G");
            }
            o.memory = *n;
        } else if (a == "--device") {
            auto v = value("vfio:BDF");
            if (!v) return bad_input(error);
            if (v->rfind("vfio:", 0) != 0 || v->size() == 5) {
                return bad_input("--device " + *v + ": write vfio:BDF, e.g. vfio:0000:00:04.0");
            }
            const std::string bdf = v->substr(5);
            if (std::find(o.devices.begin(), o.devices.end(), bdf) != o.devices.end())
                return bad_input("--device " + *v + " is given twice; pass each device once");
            o.devices.push_back(bdf);
        } else {
            return bad_input("unknown option '" + a + "' (see --help)");
        }
    }
    if (!o.sve_lengths.empty() && o.sve == false)
        return bad_input("--sve-lengths with --no-sve: give one or the other");
    if (!o.help && o.kernel.empty()) {
        return bad_input("--kernel is missing: give an arm64 Image (see --help)");
    }
    return o;
}

}  // namespace vmm
