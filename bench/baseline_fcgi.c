/*
 * baseline_fcgi.c - the smallest honest libfcgi file responder.
 *
 * The FastCGI baseline for scripts/bench (docs/contract.md#performance-targets: x2s3 must reach
 * >= 0.9x of this on 16 KiB GETs through the same nginx). It does the same
 * syscalls a careful file server must do and nothing else:
 *   REQUEST_URI (raw, query dropped) -> percent-decode once -> path under ROOT
 *   -> open(O_RDONLY|O_NOFOLLOW) -> fstat -> read 64 KiB chunks -> FCGX_PutStr.
 * Status 200 OK / 404 Not Found / 405 Method Not Allowed (reason phrases always:
 * some clients reject a bare "Status: 200").
 *
 * Not a product: no Range, no ETag, no XML errors, no listings.
 *
 * Build:  cc -O2 -Wall -o baseline_fcgi bench/baseline_fcgi.c -lfcgi
 * Run:    spawn-fcgi -s /tmp/b.sock -F 2 -- ./baseline_fcgi /srv/data
 *         (the root comes from argv[1], else $BASELINE_ROOT, else ".")
 * The listening socket is fd 0, as spawn-fcgi leaves it.
 */
#include <fcgiapp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes the path part of a raw REQUEST_URI into out (NUL-terminated).
 * Returns -1 for anything unsafe: bad escapes, NUL bytes, ".." segments. */
static int decode_path(const char *uri, char *out, size_t cap) {
    size_t n = 0;
    for (const char *p = uri; *p && *p != '?'; p++) {
        int c = (unsigned char)*p;
        if (c == '%') {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            if (hi < 0 || lo < 0) return -1;
            c = hi * 16 + lo;
            p += 2;
            if (c == 0) return -1;
        }
        if (n + 1 >= cap) return -1;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    /* Reject any ".." segment: "/../", a leading "../" or a trailing "/..". */
    for (char *s = out; (s = strstr(s, "..")) != NULL; s += 2) {
        int start = (s == out) || s[-1] == '/';
        int end = s[2] == '\0' || s[2] == '/';
        if (start && end) return -1;
    }
    return 0;
}

/* SIGTERM/SIGINT: finish the current request, then leave the accept loop.
 * Installed without SA_RESTART so a blocked accept() returns (fcgiwrap's way);
 * libfcgi's own handler would let accept() restart and never exit while idle. */
static void on_term(int sig) {
    (void)sig;
    FCGX_ShutdownPending();
}

static void reply_status(FCGX_Stream *out, const char *status) {
    FCGX_PutS("Status: ", out);
    FCGX_PutS(status, out);
    FCGX_PutS("\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n", out);
}

static void serve(FCGX_Request *req, int rootfd, char *buf) {
    const char *method = FCGX_GetParam("REQUEST_METHOD", req->envp);
    const char *uri = FCGX_GetParam("REQUEST_URI", req->envp);
    int head = method && strcmp(method, "HEAD") == 0;
    if (!method || (!head && strcmp(method, "GET") != 0)) {
        reply_status(req->out, "405 Method Not Allowed");
        return;
    }
    char path[PATH_MAX];
    if (!uri || decode_path(uri, path, sizeof path) != 0) {
        reply_status(req->out, "404 Not Found");
        return;
    }
    const char *rel = path;
    while (*rel == '/') rel++;
    int fd = *rel ? openat(rootfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        reply_status(req->out, "404 Not Found");
        return;
    }
    char head_buf[128];
    int len = snprintf(head_buf, sizeof head_buf,
                       "Status: 200 OK\r\nContent-Type: application/octet-stream\r\n"
                       "Content-Length: %lld\r\n\r\n", (long long)st.st_size);
    FCGX_PutStr(head_buf, len, req->out);
    if (!head) {
        for (;;) {
            ssize_t got = read(fd, buf, CHUNK);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) break;
            /* -1 means the client (nginx) went away: stop writing. */
            if (FCGX_PutStr(buf, (int)got, req->out) < 0) break;
        }
    }
    close(fd);
}

int main(int argc, char **argv) {
    const char *root = argc > 1 ? argv[1] : getenv("BASELINE_ROOT");
    if (!root || !*root) root = ".";
    int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        perror(root);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    static char buf[CHUNK];
    FCGX_Init();
    FCGX_Request req;
    FCGX_InitRequest(&req, 0, 0);
    while (FCGX_Accept_r(&req) >= 0) {
        serve(&req, rootfd, buf);
        FCGX_Finish_r(&req);
    }
    return 0;
}
