// The arm64 Image header and the boot plan (examples/vmm/loader.hpp): any file
// head and size, any RAM size and initrd size. Invariants: a header is accepted
// only with the magic at 56 and an image_size that covers the file; the plan
// puts the kernel, the initrd and the device tree inside RAM, in that order,
// without overlap, the initrd and the DTB 2 MiB aligned, the DTB in the last
// 2 MiB; a plan that cannot fit is refused, never wrapped around.
#include "fuzz.hpp"

#include "../../examples/vmm/board.hpp"
#include "../../examples/vmm/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    const std::uint64_t ram_size = (std::uint64_t{in.u16()} % 32769) << 21;  // 0 .. 64 GiB, 2 MiB steps
    const std::uint64_t initrd_size = in.flag() ? in.u64() : in.u32();
    const std::uint64_t extra = in.flag() ? in.u64() % (1ull << 40) : in.u16();
    const auto head = in.rest();
    const std::uint64_t file_size = head.size() + extra;  // the head may be all of the file or its start

    auto h = vmm::parse_image_header(head, file_size);
    if (!h) return 0;
    FUZZ_CHECK(head.size() >= 64 && std::memcmp(head.data() + 56, "ARM\x64", 4) == 0);
    FUZZ_CHECK(h->image_size >= file_size);
    if (extra == 0) {
        auto whole = vmm::parse_image_header(head);  // the whole file in memory: the same answer
        FUZZ_CHECK(whole && whole->image_size == h->image_size && whole->text_offset == h->text_offset);
    }

    const std::uint64_t ram = vmm::board::ram_base, end = ram + ram_size;
    using u128 = unsigned __int128;
    auto plan = vmm::plan_boot(ram, ram_size, *h, initrd_size, vmm::BootImages::dtb_max);
    if (!plan) return 0;
    FUZZ_CHECK(plan->kernel >= ram && u128{plan->kernel} + h->image_size <= plan->dtb);
    FUZZ_CHECK(plan->dtb % (2 << 20) == 0 && plan->dtb + (2 << 20) == end && plan->dtb >= ram);
    if (initrd_size) {
        FUZZ_CHECK(plan->initrd % (2 << 20) == 0 && plan->initrd_size == initrd_size);
        FUZZ_CHECK(plan->initrd >= plan->kernel + h->image_size && u128{plan->initrd} + initrd_size <= plan->dtb);
    } else {
        FUZZ_CHECK(plan->initrd == 0);
    }
    return 0;
}
