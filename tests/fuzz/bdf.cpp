// Device strings (--device vfio:BDF): what the option parser keeps and what the
// passthrough code then makes a sysfs path of. Invariants: vmm::is_bdf accepts
// exactly the strings a sscanf-based reference reads back as DDDD:BB:DD.F
// (device < 32, function < 8); an accepted one names a directory directly
// under /sys/bus/pci/devices (no "..", no '/'); a refused one is refused by
// Passthrough::open as bad input, before any device file is opened.
#include "fuzz.hpp"

#include "../../examples/vmm/options.hpp"
#include "../../examples/vmm/passthrough.hpp"

#include <cctype>
#include <string>

namespace {

bool reference(const std::string& s) {
    if (s.size() != 12 || s.find('\0') != std::string::npos) return false;
    for (char c : s)
        if (std::isspace(static_cast<unsigned char>(c)) || c == '+' || c == '-') return false;  // sscanf would skip them
    unsigned domain, bus, dev, fn;
    char tail;
    if (std::sscanf(s.c_str(), "%4x:%2x:%2x.%1x%c", &domain, &bus, &dev, &fn, &tail) != 4) return false;
    if (dev >= 32 || fn >= 8) return false;
    char again[16];
    std::snprintf(again, sizeof again, "%04x:%02x:%02x.%x", domain, bus, dev, fn);
    std::string lower = s;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower == again;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string s(reinterpret_cast<const char*>(data), size);
    const bool ok = vmm::is_bdf(s);
    FUZZ_CHECK(ok == reference(s));
    auto o = vmm::parse_options({"--kernel", "Image", "--device", "vfio:" + s});
    if (!o) return 0;  // refused already: nothing reaches sysfs
    FUZZ_CHECK(o->devices.size() == 1 && o->devices[0] == s);
    if (ok) {
        const auto path = kvmxx::vfio::Sysfs{}.device(s);
        FUZZ_CHECK(path.parent_path() == "/sys/bus/pci/devices" && path.filename() == s);
        return 0;
    }
    auto p = vmm::Passthrough::open(o->devices);
    FUZZ_CHECK(!p && p.error().operation() == std::string_view(vmm::bad_input_op));
    return 0;
}
