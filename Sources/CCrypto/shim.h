#ifndef X2S3_CCRYPTO_SHIM_H
#define X2S3_CCRYPTO_SHIM_H
// OpenSSL's libcrypto for the Hashing module (its only importer): the EVP digest API and the
// one-shot HMAC, none of them deprecated in OpenSSL 3. libcurl already loads libcrypto into
// every x2s3 process, so this adds no library at run time.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#endif
