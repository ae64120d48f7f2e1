#include "outpost_tls.h"
#include <openssl/x509v3.h>

uint64_t outpost_tls_hardening_options(void) {
    return SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE;
}
long outpost_SSL_CTX_set_options(SSL_CTX *ctx, uint64_t options) { return (long)SSL_CTX_set_options(ctx, options); }
int outpost_SSL_set_tlsext_host_name(SSL *ssl, const char *name) { return (int)SSL_set_tlsext_host_name(ssl, name); }
int outpost_tls1_2_version(void) { return TLS1_2_VERSION; }
int outpost_tls1_3_version(void) { return TLS1_3_VERSION; }
long outpost_SSL_CTX_set_read_ahead(SSL_CTX *ctx, int yes) { SSL_CTX_set_read_ahead(ctx, yes); return 1; }
long outpost_SSL_CTX_set_mode_release_buffers(SSL_CTX *ctx) { return SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE); }
long outpost_SSL_CTX_set_timeout(SSL_CTX *ctx, long seconds) { return SSL_CTX_set_timeout(ctx, seconds); }
int outpost_sk_X509_num(const STACK_OF(X509) *stack) { return sk_X509_num(stack); }
X509 *outpost_sk_X509_value(const STACK_OF(X509) *stack, int index) { return sk_X509_value(stack, index); }
int outpost_sk_GENERAL_NAME_num(const STACK_OF(GENERAL_NAME) *stack) { return sk_GENERAL_NAME_num(stack); }
const GENERAL_NAME *outpost_sk_GENERAL_NAME_value(const STACK_OF(GENERAL_NAME) *stack, int index) { return sk_GENERAL_NAME_value(stack, index); }
void outpost_GENERAL_NAMES_free(STACK_OF(GENERAL_NAME) *names) { GENERAL_NAMES_free(names); }
STACK_OF(GENERAL_NAME) *outpost_X509_subject_alt_names(X509 *certificate) {
    return X509_get_ext_d2i(certificate, NID_subject_alt_name, NULL, NULL);
}
int outpost_general_name_type(const GENERAL_NAME *name) { return name->type; }
const unsigned char *outpost_general_name_ia5(const GENERAL_NAME *name, int *length) {
    const ASN1_IA5STRING *text = NULL;
    switch (name->type) {
    case GEN_URI: text = name->d.uniformResourceIdentifier; break;
    case GEN_DNS: text = name->d.dNSName; break;
    case GEN_EMAIL: text = name->d.rfc822Name; break;
    default: return NULL;
    }
    *length = ASN1_STRING_length(text);
    return ASN1_STRING_get0_data(text);
}
int outpost_gen_uri(void) { return GEN_URI; }
int outpost_gen_dns(void) { return GEN_DNS; }

void outpost_BIO_set_retry_read(BIO *bio) { BIO_set_retry_read(bio); }
void outpost_BIO_clear_retry_flags(BIO *bio) { BIO_clear_retry_flags(bio); }
int outpost_bio_ctrl_flush(void) { return BIO_CTRL_FLUSH; }
int outpost_x509_v_err_ee_key_too_small(void) { return X509_V_ERR_EE_KEY_TOO_SMALL; }
int outpost_x509_v_err_ca_key_too_small(void) { return X509_V_ERR_CA_KEY_TOO_SMALL; }
int outpost_x509_v_err_ca_md_too_weak(void) { return X509_V_ERR_CA_MD_TOO_WEAK; }
int outpost_x509_v_flags_crl_check_all(void) { return X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL; }
int outpost_x509_v_err_unable_to_get_crl(void) { return X509_V_ERR_UNABLE_TO_GET_CRL; }
int outpost_SSL_CTX_get_ex_new_index(void) { return SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL); }
int outpost_ssl_verify_peer(void) { return SSL_VERIFY_PEER; }
int outpost_ssl_verify_fail_if_no_peer_cert(void) { return SSL_VERIFY_FAIL_IF_NO_PEER_CERT; }
int outpost_ssl_verify_client_once(void) { return SSL_VERIFY_CLIENT_ONCE; }
int outpost_signature_digest_nid(X509 *certificate) {
    int digest = NID_undef, key = NID_undef;
    if (!OBJ_find_sigid_algs(X509_get_signature_nid(certificate), &digest, &key)) return NID_undef;
    return digest;
}
unsigned long outpost_xn_flag_rfc2253(void) { return XN_FLAG_RFC2253; }

STACK_OF(X509) *outpost_sk_X509_new_null(void) { return sk_X509_new_null(); }
int outpost_sk_X509_push(STACK_OF(X509) *stack, X509 *certificate) { return sk_X509_push(stack, certificate); }
void outpost_sk_X509_pop_free(STACK_OF(X509) *stack) { sk_X509_pop_free(stack, X509_free); }
