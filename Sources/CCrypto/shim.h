#ifndef X2S3_CCRYPTO_SHIM_H
#define X2S3_CCRYPTO_SHIM_H
// OpenSSL's libcrypto for the Hashing module (its only importer): the EVP digest API and the
// one-shot HMAC, none of them deprecated in OpenSSL 3. libcurl already loads libcrypto into
// every x2s3 process, so this adds no library at run time.
#include <openssl/evp.h>
#include <openssl/hmac.h>
// SHA256_Init/Update/Final: deprecated in OpenSSL 3 in favour of EVP, still shipped, and the
// only SHA-256 without EVP's context allocations and provider dispatch. A signature check runs
// one digest and one HMAC per request, and through EVP they were most of its cost in the
// running server (docs/bench.md). Hashing.KeyedHMAC is their one user, through these wrappers
// (so that no other deprecated function goes unnoticed).
#include <openssl/sha.h>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static inline int x2s3_sha256_init(SHA256_CTX *c) { return SHA256_Init(c); }
static inline int x2s3_sha256_update(SHA256_CTX *c, const void *data, size_t len) { return SHA256_Update(c, data, len); }
static inline int x2s3_sha256_final(unsigned char *md, SHA256_CTX *c) { return SHA256_Final(md, c); }
#pragma GCC diagnostic pop
#endif
