// Exit decoding from a kvm_run page (include/kvmxx/exit.hpp): a page of any
// bytes, of any mapping size. Invariants: every span an exit holds lies inside
// the mapping; an MMIO exit carries 1..8 bytes at the page's data; port I/O
// data is size * count bytes at data_offset; system-event and internal-error
// words stay within their arrays; exit_reason() gives back the page's reason
// (or Unknown's); describe() says it in one line.
#include "fuzz.hpp"

#include <kvmxx/kvmxx.hpp>

#include <linux/kvm.h>

#include <variant>

namespace {
template <class T>
bool inside(std::span<T> s, const std::uint8_t* base, std::size_t size) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
    return s.empty() || (p >= base && s.size_bytes() <= size && std::size_t(p - base) <= size - s.size_bytes());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    const std::size_t run_size = sizeof(kvm_run) + (in.u16() % 3) * 4096 + (in.u8() & 0xf8);
    std::vector<std::uint64_t> words((run_size + 7) / 8);
    auto* page = reinterpret_cast<std::uint8_t*>(words.data());
    const auto body = in.rest();
    std::memcpy(page, body.data(), std::min(body.size(), run_size));
    auto* run = reinterpret_cast<kvm_run*>(page);
    static const std::uint32_t reasons[] = {KVM_EXIT_MMIO, KVM_EXIT_IO, KVM_EXIT_SYSTEM_EVENT, KVM_EXIT_INTERNAL_ERROR,
                                            KVM_EXIT_FAIL_ENTRY, KVM_EXIT_HLT, KVM_EXIT_SHUTDOWN, KVM_EXIT_INTR,
                                            KVM_EXIT_DIRTY_RING_FULL};
    if (run->exit_reason & 0x8000'0000) run->exit_reason = reasons[run->exit_reason % std::size(reasons)];  // the ones decoded, often
    const std::uint32_t reason = run->exit_reason;

    const kvmxx::Exit exit = kvmxx::decode_exit(*run, run_size);
    FUZZ_CHECK(kvmxx::exit_reason(exit) == reason);
    std::visit(
        [&](const auto& e) {
            using E = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<E, kvmxx::exit::MmioRead> || std::is_same_v<E, kvmxx::exit::MmioWrite>) {
                FUZZ_CHECK(e.data.size() >= 1 && e.data.size() <= 8 && e.data.size() == run->mmio.len);
                FUZZ_CHECK(static_cast<const void*>(e.data.data()) == run->mmio.data && e.address == run->mmio.phys_addr);
            } else if constexpr (std::is_same_v<E, kvmxx::exit::IoIn> || std::is_same_v<E, kvmxx::exit::IoOut>) {
                FUZZ_CHECK(inside(e.data, page, run_size));
                FUZZ_CHECK(e.data.size() == std::uint64_t{run->io.size} * run->io.count);
                FUZZ_CHECK(reinterpret_cast<const std::uint8_t*>(e.data.data()) == page + run->io.data_offset || e.data.empty());
                if constexpr (std::is_same_v<E, kvmxx::exit::IoOut>) (void)e.value();
                else e.set(0x1234'5678);
            } else if constexpr (std::is_same_v<E, kvmxx::exit::SystemEvent> || std::is_same_v<E, kvmxx::exit::InternalError>) {
                FUZZ_CHECK(inside(e.data, page, sizeof(kvm_run)) && e.data.size() <= 16);
            }
        },
        exit);
    if (auto* r = std::get_if<kvmxx::exit::MmioRead>(&exit)) r->set(~0ull);
    const std::string line = kvmxx::describe(exit);
    FUZZ_CHECK(line.rfind("exit=", 0) == 0 && line.find('\n') == std::string::npos);
    return 0;
}
