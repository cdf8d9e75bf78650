// kvmxx/mapping.hpp — `Mapping`, the move-only owner of one mmap'd range.
//
// Used for guest RAM (anonymous), the vCPU's `kvm_run` page and VFIO region
// mmaps. Like UniqueFd, a moved-from Mapping is empty and unmaps nothing.
//
// Example [mapping], built by tests/unit/doc_examples_test.cpp:
//
//     auto ram = kvmxx::Mapping::anonymous(16 << 20);   // 16 MiB, zero-filled
//     if (ram) std::memset(ram->data(), 0xa5, 4096);    // written like any memory
#pragma once

#include "config.hpp"
#include "error.hpp"

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

KVMXX_BEGIN_NAMESPACE

/// One mmap'd range, munmapped when this is destroyed: guest RAM, a vCPU's
/// kvm_run page, a VFIO BAR. Move-only.
class Mapping {
public:
    Mapping() = default;
    /// Adopts an existing mapping that this object will munmap.
    ///
    /// Safety: [addr, addr+size) must be one mmap'd range that nothing else will
    /// munmap; the destructor unmaps it, and every pointer into it dangles then.
    Mapping(void* addr, std::size_t size) noexcept : addr_(addr), size_(size) {}

    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    /// Takes over `o`'s range; `o` is left empty.
    Mapping(Mapping&& o) noexcept
        : addr_(std::exchange(o.addr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    /// Unmaps this range, then takes over `o`'s; `o` is left empty.
    Mapping& operator=(Mapping&& o) noexcept {
        if (this != &o) {
            reset();
            addr_ = std::exchange(o.addr_, nullptr);
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }
    ~Mapping() { reset(); }

    /// Private, zero-filled anonymous memory (MAP_NORESERVE: pages are committed on first touch).
    [[nodiscard]] static Result<Mapping> anonymous(std::size_t size) {
        if (size == 0) return fail("mmap", EINVAL, "size=0; ask for at least one page");
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) return fail_errno("mmap", "anonymous size=" + std::to_string(size));
        return Mapping(p, size);
    }

    /// A shared mapping of `fd` at `offset` (kvm_run, VFIO regions).
    [[nodiscard]] static Result<Mapping> of_fd(int fd, std::size_t size, std::uint64_t offset,
                                 int prot = PROT_READ | PROT_WRITE) {
        void* p = ::mmap(nullptr, size, prot, MAP_SHARED, fd, static_cast<off_t>(offset));
        if (p == MAP_FAILED)
            return fail_errno("mmap", "fd=" + std::to_string(fd) + " size=" + std::to_string(size) +
                                          " offset=" + std::to_string(offset));
        return Mapping(p, size);
    }

    std::uint8_t* data() const noexcept { return static_cast<std::uint8_t*>(addr_); }  ///< start, or nullptr
    std::size_t size() const noexcept { return size_; }                                ///< bytes mapped
    std::span<std::uint8_t> bytes() const noexcept { return {data(), size_}; }         ///< the whole range
    bool valid() const noexcept { return addr_ != nullptr; }                           ///< holds a mapping
    explicit operator bool() const noexcept { return valid(); }                        ///< valid()

    /// munmap now; pointers into the range dangle from here on.
    void reset() noexcept {
        if (addr_) ::munmap(addr_, size_);
        addr_ = nullptr;
        size_ = 0;
    }

private:
    void* addr_ = nullptr;
    std::size_t size_ = 0;
};

KVMXX_END_NAMESPACE
