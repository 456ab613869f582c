#ifndef X2S3_CFASTCGI_SHIM_H
#define X2S3_CFASTCGI_SHIM_H
// fcgiapp.h only: fcgi_stdio.h redefines stdio with macros, which Swift cannot use.
#include <fcgiapp.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>

// ppoll(2) is a GNU extension and Swift's Glibc module is built without _GNU_SOURCE, so the
// prototype is repeated here (identical to glibc's). The worker waits in ppoll with the shutdown
// signals unblocked only for the duration of the wait: the one race-free way to let SIGTERM
// interrupt an idle worker without ever interrupting a write in the middle of a response.
int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo_p, const sigset_t *sigmask);

// splice(2) and F_SETPIPE_SZ are GNU extensions too: the prototype as glibc declares it, and the
// constants from <linux/fcntl.h> and <fcntl.h>. FastCGIOutput moves file pages to the connection
// through a pipe with them, without copying the bytes through user space.
ssize_t splice(int fd_in, __off64_t *off_in, int fd_out, __off64_t *off_out, size_t len, unsigned int flags);
#define X2S3_F_SETPIPE_SZ 1031
#define X2S3_SPLICE_F_MOVE 1
#define X2S3_SPLICE_F_MORE 4

// `environ` is a mutable C global, which Swift 6 strict concurrency refuses to touch; reading it
// through a function is fine (single-threaded process, read once).
static inline char **x2s3_environ(void) {
    extern char **environ;
    return environ;
}
#endif
