// The command line (examples/vmm/options.hpp): any argv, NUL-separated in the
// input. Invariants: an accepted line names a kernel (unless --help), 1..8
// vCPUs, a memory size that is a multiple of 2 MiB from 64 MiB to 64 GiB and
// no device twice; parse_size agrees with a straightforward reference (in 128
// bits) on every word; a refusal is bad input (exit 2).
#include "fuzz.hpp"

#include "../../examples/vmm/options.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace {

std::optional<std::uint64_t> reference_size(const std::string& s) {
    unsigned __int128 v = 0;
    std::size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        v = v * 10 + static_cast<unsigned>(s[i++] - '0');
        if (v > ~0ull) return std::nullopt;
    }
    if (i == 0) return std::nullopt;
    unsigned shift = 0;
    if (i < s.size()) {
        const char c = static_cast<char>(s[i] | 0x20);
        shift = c == 'k' ? 10 : c == 'm' ? 20 : c == 'g' ? 30 : 99;
        if (shift == 99 || i + 1 != s.size()) return std::nullopt;
    }
    v <<= shift;
    if (v > ~0ull) return std::nullopt;
    return static_cast<std::uint64_t>(v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::string> args;
    std::string word;
    static const char* names[] = {"--kernel", "--initrd", "--cmdline", "--cpus", "--memory", "--device",
                                  "--allow-reset", "--trace", "--help"};
    for (std::size_t i = 0; i < size; ++i) {
        if (data[i] == 0) {
            args.push_back(word), word.clear();
        } else if (data[i] >= 0xf7 && word.empty()) {  // a byte standing for an option's name
            args.push_back(names[data[i] - 0xf7]);
        } else {
            word += static_cast<char>(data[i]);
        }
    }
    if (!word.empty()) args.push_back(word);

    // parse_size's overflow test is conservative: it refuses some numbers above
    // 1.8e18 that would fit, far above any size it is used for (docs/reliability.md).
    for (const auto& a : args) {
        const auto got = vmm::parse_size(a), want = reference_size(a);
        FUZZ_CHECK(got == want || (!got && *want > ~0ull / 10));
    }
    auto o = vmm::parse_options(args);
    if (!o) {
        FUZZ_CHECK(o.error().operation() == std::string_view(vmm::bad_input_op));
        return 0;
    }
    FUZZ_CHECK(o->help || !o->kernel.empty());
    FUZZ_CHECK(o->cpus >= 1 && o->cpus <= vmm::max_cpus);
    FUZZ_CHECK(o->memory >= vmm::min_memory && o->memory <= vmm::max_memory && o->memory % (2 << 20) == 0);
    for (std::size_t i = 0; i < o->devices.size(); ++i) {
        FUZZ_CHECK(!o->devices[i].empty());
        for (std::size_t j = 0; j < i; ++j) FUZZ_CHECK(o->devices[i] != o->devices[j]);
    }
    return 0;
}
