// process_usage.hpp — what this process holds, as the kernel counts it, for the
// lifecycle and fault-path tests: open fds, mappings (/proc/self/maps lines), resident
// and locked memory (/proc/self/status), and an RLIMIT_* that is restored on scope exit.
#pragma once

#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <set>
#include <string>

#if defined(__SANITIZE_ADDRESS__)
#define KVMTEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KVMTEST_ASAN 1
#endif
#endif
#if defined(KVMTEST_ASAN) || defined(__SANITIZE_THREAD__)
#define KVMTEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KVMTEST_SANITIZED 1
#endif
#endif
#ifdef KVMTEST_ASAN
// <sanitizer/allocator_interface.h>, which not every compiler's package ships.
extern "C" void __sanitizer_purge_allocator(void);
#endif

namespace kvmtest {

/// What the process holds at one moment.
struct Usage {
    int fds = -1;            ///< entries of /proc/self/fd, the directory's own fd not counted
    int mappings = -1;       ///< lines of /proc/self/maps
    long rss_kib = -1;       ///< VmRSS
    long locked_kib = -1;    ///< VmLck: mm->locked_vm, which VFIO type1 charges for pinned DMA pages
    long vm_size_kib = -1;   ///< VmSize: the address space RLIMIT_AS limits

    std::string str() const {
        return "fds=" + std::to_string(fds) + " mappings=" + std::to_string(mappings) +
               " rss=" + std::to_string(rss_kib) + "KiB locked=" + std::to_string(locked_kib) +
               "KiB vm=" + std::to_string(vm_size_kib) + "KiB";
    }
};

/// How far RSS may move between two samples without anything leaking: glibc's heap
/// trims or keeps freed chunks at its top, and stack and page-table pages come and go;
/// 64 pages (256 KiB) covers that. A sanitizer's runtime grows on its own by a few
/// hundred KiB over a thousand cycles: ASan's allocator and stack depot even with
/// its quarantine purged (seen: 280 KiB, the host's debug-asan build), TSan's
/// allocator and shadow (seen: 320 KiB, the tsan build): 1 MiB there. A leaked page
/// per cycle of a 990-cycle run would be 3,960 KiB, beyond either.
#ifdef KVMTEST_SANITIZED
inline constexpr long rss_noise_kib = 1024;
#else
inline constexpr long rss_noise_kib = 256;
#endif

/// The fd numbers open now (without the one opendir takes to list them).
inline std::set<int> open_fds() {
    std::set<int> out;
    DIR* d = ::opendir("/proc/self/fd");
    if (d == nullptr) return out;
    const int own = ::dirfd(d);
    while (const dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        const int fd = std::atoi(e->d_name);
        if (fd != own) out.insert(fd);
    }
    ::closedir(d);
    return out;
}

/// Reads with stdio into a fixed buffer: no heap growth of its own between two samples.
/// Under AddressSanitizer, first hands its quarantine back: ASan keeps freed chunks
/// (up to 256 MiB) and serves new ones from fresh memory, so RSS would grow with every
/// malloc of a cycle that frees all it takes (seen: 732 KiB over 990 cycles on the host's KVM).
inline Usage usage() {
#ifdef KVMTEST_ASAN
    __sanitizer_purge_allocator();
#endif
    Usage u;
    DIR* d = ::opendir("/proc/self/fd");
    if (d != nullptr) {
        int n = 0;
        while (const dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') ++n;
        ::closedir(d);
        u.fds = n - 1;  // the directory's own fd
    }
    char line[512];
    if (FILE* f = std::fopen("/proc/self/maps", "re")) {
        int n = 0;
        while (std::fgets(line, sizeof line, f))
            if (std::strchr(line, '\n')) ++n;
        std::fclose(f);
        u.mappings = n;
    }
    if (FILE* f = std::fopen("/proc/self/status", "re")) {
        while (std::fgets(line, sizeof line, f)) {
            long v = 0;
            if (std::sscanf(line, "VmRSS: %ld kB", &v) == 1) u.rss_kib = v;
            if (std::sscanf(line, "VmLck: %ld kB", &v) == 1) u.locked_kib = v;
            if (std::sscanf(line, "VmSize: %ld kB", &v) == 1) u.vm_size_kib = v;
        }
        std::fclose(f);
    }
    return u;
}

/// Sets one resource's soft limit for the scope, and puts the old one back after.
class RlimitGuard {
public:
    explicit RlimitGuard(int resource) : resource_(resource) { ok_ = ::getrlimit(resource, &saved_) == 0; }
    RlimitGuard(const RlimitGuard&) = delete;
    RlimitGuard& operator=(const RlimitGuard&) = delete;
    ~RlimitGuard() { restore(); }

    bool ok() const { return ok_; }
    const rlimit& saved() const { return saved_; }
    /// The soft limit `soft` (capped at the hard one); false when setrlimit refused it.
    bool set(rlim_t soft) {
        rlimit l = saved_;
        l.rlim_cur = soft < saved_.rlim_max ? soft : saved_.rlim_max;
        return ::setrlimit(resource_, &l) == 0;
    }
    void restore() {
        if (ok_) (void)::setrlimit(resource_, &saved_);
    }

private:
    int resource_;
    rlimit saved_{};
    bool ok_ = false;
};

/// The RLIMIT_NOFILE under which exactly `n` more fds can be allocated: the kernel
/// gives out the lowest free number and refuses (EMFILE) one at or above the limit, so
/// the limit is the number past the n-th free slot.
inline rlim_t nofile_limit_for(const std::set<int>& open, unsigned n) {
    int fd = 0;
    for (unsigned free = 0;; ++fd) {
        if (open.count(fd)) continue;
        if (free == n) return static_cast<rlim_t>(fd);
        ++free;
    }
}

/// How many VMs of this process the kernel still holds: KVM gives each VM a debugfs
/// directory "PID-FD" (kvm_create_vm_debugfs) and removes it when it destroys the VM,
/// memslots and all (kvm_destroy_vm). Mounts debugfs when it is not; -1 when there is none.
inline int kernel_vms_of_this_process() {
    const char* dir = "/sys/kernel/debug/kvm";
    if (::access(dir, F_OK) != 0) (void)::mount("debugfs", "/sys/kernel/debug", "debugfs", 0, nullptr);
    DIR* d = ::opendir(dir);
    if (d == nullptr) return -1;
    const std::string prefix = std::to_string(::getpid()) + "-";
    int n = 0;
    while (const dirent* e = ::readdir(d))
        if (std::strncmp(e->d_name, prefix.c_str(), prefix.size()) == 0) ++n;
    ::closedir(d);
    return n;
}

}  // namespace kvmtest
