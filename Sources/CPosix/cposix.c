#include "cposix.h"
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <string.h>
#include <errno.h>
#include <sys/vfs.h>
#include <sys/prctl.h>
#include <malloc.h>

_Static_assert(sizeof(struct open_how) == 24, "open_how layout changed");

static int open_how_call(int dirfd, const char *path, int flags, unsigned long long resolve) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)flags;
    how.resolve = resolve;
    long r;
    do {
        r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    } while (r < 0 && errno == EINTR);
    return (int)r;
}

int cposix_open_beneath(int dirfd, const char *path, int flags) {
    return open_how_call(dirfd, path, flags, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
}

int cposix_open_beneath_nofollow(int dirfd, const char *path, int flags) {
    return open_how_call(dirfd, path, flags, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

int cposix_resolve_beneath_flag(void) { return (int)RESOLVE_BENEATH; }

int cposix_fs_type(int fd, int64_t *type) {
    struct statfs fs;
    int r;
    do {
        r = fstatfs(fd, &fs);
    } while (r < 0 && errno == EINTR);
    if (r == 0) *type = (int64_t)fs.f_type;
    return r;
}

uint64_t cposix_atomic_load_u64(const uint64_t *cell) { return __atomic_load_n(cell, __ATOMIC_RELAXED); }

void cposix_atomic_store_u64(uint64_t *cell, uint64_t value) { __atomic_store_n(cell, value, __ATOMIC_RELAXED); }

void cposix_atomic_add_u64(uint64_t *cell, uint64_t value) { (void)__atomic_fetch_add(cell, value, __ATOMIC_RELAXED); }

int cposix_atomic_cas_u64(uint64_t *cell, uint64_t expected, uint64_t desired) {
    return __atomic_compare_exchange_n(cell, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

int cposix_set_parent_death_signal(int signal) { return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0); }

int cposix_malloc_trim(void) { return malloc_trim(0); }
