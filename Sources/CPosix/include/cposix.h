#ifndef X2S3_CPOSIX_H
#define X2S3_CPOSIX_H
#include <stdint.h>
#include <sys/types.h>
#include <sys/xattr.h>

// openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS: the kernel refuses any path
// (through "..", an absolute symlink or a relative one) that leaves dirfd. glibc 2.36 has
// no wrapper and Swift cannot call the variadic syscall(2), hence this shim.
// Returns the new fd, or -1 with errno set (ENOSYS on kernels before 5.6).
int cposix_open_beneath(int dirfd, const char *path, int flags);

// The same, but symlinks are refused anywhere in the path (RESOLVE_NO_SYMLINKS).
int cposix_open_beneath_nofollow(int dirfd, const char *path, int flags);

// fstatfs(2)'s f_type (a file system's magic number, linux/magic.h) in *type; 0, or -1 with
// errno. Swift's Glibc module does not export <sys/vfs.h>.
int cposix_fs_type(int fd, int64_t *type);

// Relaxed atomic access to a 64-bit cell in memory shared between processes (the worker pool's
// scoreboard): each cell has one writer, and readers need only whole values, never torn ones.
uint64_t cposix_atomic_load_u64(const uint64_t *cell);
void cposix_atomic_store_u64(uint64_t *cell, uint64_t value);

// Atomic add and compare-and-swap on such a cell, for counters every worker of a pool bumps
// (the pool-wide metrics). C's __atomic builtins rather than Swift's Synchronization.Atomic:
// an Atomic must own its storage, and these cells live in a mapping shared with processes
// that were not forked from us (spawn-fcgi's workers map the same file), where only a raw
// pointer exists. Relaxed order: each counter is read on its own, never against another.
void cposix_atomic_add_u64(uint64_t *cell, uint64_t value);
// Stores `desired` if the cell holds `expected`; 1 if it did, else 0.
int cposix_atomic_cas_u64(uint64_t *cell, uint64_t expected, uint64_t desired);

// prctl(PR_SET_PDEATHSIG, signal): the kernel sends `signal` to this process when the thread
// that forked it exits. 0, or -1 with errno. prctl(2) is variadic, which Swift cannot call.
int cposix_set_parent_death_signal(int signal);

// malloc_trim(3): hands free heap pages back to the kernel. Swift's Glibc module does not
// export <malloc.h>.
int cposix_malloc_trim(void);

// Compile-time checks that the constants match the kernel ABI we were built against.
int cposix_resolve_beneath_flag(void);
#endif
