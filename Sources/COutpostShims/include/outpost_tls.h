#pragma once
// TLS settings OpenSSL spells as macros, which Swift does not import.
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

// No renegotiation, no compression, server cipher preference, no TLS below 1.2.
uint64_t outpost_tls_hardening_options(void);
long outpost_SSL_CTX_set_options(SSL_CTX *ctx, uint64_t options);
int outpost_SSL_set_tlsext_host_name(SSL *ssl, const char *name);
int outpost_tls1_2_version(void);
int outpost_tls1_3_version(void);
long outpost_SSL_CTX_set_read_ahead(SSL_CTX *ctx, int yes);
long outpost_SSL_CTX_set_mode_release_buffers(SSL_CTX *ctx);
long outpost_SSL_CTX_set_timeout(SSL_CTX *ctx, long seconds);
int outpost_sk_X509_num(const STACK_OF(X509) *stack);
X509 *outpost_sk_X509_value(const STACK_OF(X509) *stack, int index);
int outpost_sk_GENERAL_NAME_num(const STACK_OF(GENERAL_NAME) *stack);
const GENERAL_NAME *outpost_sk_GENERAL_NAME_value(const STACK_OF(GENERAL_NAME) *stack, int index);
void outpost_GENERAL_NAMES_free(STACK_OF(GENERAL_NAME) *names);
STACK_OF(GENERAL_NAME) *outpost_X509_subject_alt_names(X509 *certificate);
int outpost_general_name_type(const GENERAL_NAME *name);
// The IA5 text of a URI, DNS or e-mail name; NULL for other types.
const unsigned char *outpost_general_name_ia5(const GENERAL_NAME *name, int *length);
int outpost_gen_uri(void);
int outpost_gen_dns(void);

void outpost_BIO_set_retry_read(BIO *bio);
void outpost_BIO_clear_retry_flags(BIO *bio);
int outpost_bio_ctrl_flush(void);
int outpost_x509_v_err_ee_key_too_small(void);
int outpost_x509_v_err_ca_key_too_small(void);
int outpost_x509_v_err_ca_md_too_weak(void);
int outpost_x509_v_flags_crl_check_all(void);
int outpost_x509_v_err_unable_to_get_crl(void);
// A new SSL_CTX ex_data index (SSL_CTX_get_ex_new_index is a macro); -1 on failure.
int outpost_SSL_CTX_get_ex_new_index(void);
int outpost_ssl_verify_peer(void);
int outpost_ssl_verify_fail_if_no_peer_cert(void);
int outpost_ssl_verify_client_once(void);
// The digest of a certificate's signature algorithm (NID_sha1 for sha1WithRSAEncryption).
int outpost_signature_digest_nid(X509 *certificate);
unsigned long outpost_xn_flag_rfc2253(void);
// Stacks of certificates for re-verifying a stored chain (sk_X509_* are macros).
STACK_OF(X509) *outpost_sk_X509_new_null(void);
int outpost_sk_X509_push(STACK_OF(X509) *stack, X509 *certificate);
void outpost_sk_X509_pop_free(STACK_OF(X509) *stack);
