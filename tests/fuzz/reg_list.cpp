// KVM_GET_REG_LIST results (include/kvmxx/vcpu.hpp): the buffer the second
// ioctl filled, whatever count the kernel wrote back into it. Invariants: the
// ids handed out are the ones in the buffer, never more than it has room for
// (a count larger than the room asked for must not read past it); each id's
// encoded size is a power of two a ONE_REG access can have.
#include "fuzz.hpp"

#include <kvmxx/kvmxx.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    const std::size_t capacity = in.u16() % 1024;
    kvmxx::uapi::FlexArg<kvmxx::uapi::RegListHead, std::uint64_t> list(capacity);
    list.head().n = in.flag() ? in.u64() : in.u16();
    for (auto& id : list.entries(capacity)) id = in.u64();

    const auto ids = kvmxx::detail::reg_list_ids(list);
    FUZZ_CHECK(ids.size() <= capacity && ids.size() == std::min<std::uint64_t>(list.head().n, capacity));
    for (std::size_t i = 0; i < ids.size(); ++i) {
        FUZZ_CHECK(ids[i] == list.entries(capacity)[i]);
        const std::uint64_t bytes = kvmxx::reg_size(ids[i]);
        FUZZ_CHECK(bytes >= 1 && (bytes & (bytes - 1)) == 0);
    }
    return 0;
}
