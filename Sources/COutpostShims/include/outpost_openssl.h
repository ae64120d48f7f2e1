#pragma once
// OpenSSL spells these as function-like macros, which Swift does not import.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>

int outpost_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
int outpost_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version);
long outpost_SSL_CTX_set_mode(SSL_CTX *ctx, long mode);
long outpost_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode);
int outpost_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list);
long outpost_BIO_get_mem_data(BIO *bio, char **data);
void outpost_OPENSSL_free(void *pointer);
