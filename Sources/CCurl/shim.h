#ifndef X2S3_CCURL_SHIM_H
#define X2S3_CCURL_SHIM_H
// libcurl for the HTTPClient module (its only importer). curl_easy_setopt and
// curl_easy_getinfo are C variadic functions, which Swift cannot call: one typed
// static inline wrapper per argument kind used. Macros that Swift does not import
// (expressions, not literals) are re-exported as functions.
#include <curl/curl.h>

/// The shape of CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION callbacks.
typedef size_t (*x2s3_curl_data_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode x2s3_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

/// Strings are copied by libcurl (since 7.17), so the Swift buffer may die after the call.
static inline CURLcode x2s3_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

/// Context pointers, error buffers and header lists: libcurl keeps the pointer, the caller
/// keeps the memory alive for as long as the option is set.
static inline CURLcode x2s3_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode x2s3_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode x2s3_curl_setopt_callback(CURL *handle, CURLoption option, x2s3_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode x2s3_curl_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// What a write callback returns to pause the transfer (libcurl keeps the chunk and hands
/// it over again after curl_easy_pause(CURLPAUSE_CONT)).
static inline size_t x2s3_curl_writefunc_pause(void) { return CURL_WRITEFUNC_PAUSE; }

static inline int x2s3_curl_pause_cont(void) { return CURLPAUSE_CONT; }

/// Drains the multi handle's message queue; returns 1 and the transfer's result when `easy`
/// has finished. CURLMsg carries the result in a union, which is awkward from Swift.
static inline int x2s3_curl_multi_done(CURLM *multi, CURL *easy, CURLcode *result) {
    int found = 0, left = 0;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy) {
            *result = msg->data.result;
            found = 1;
        }
    }
    return found;
}
#endif
