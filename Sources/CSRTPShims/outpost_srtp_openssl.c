// libsrtp's AES-CM-128 and HMAC-SHA1, reimplemented over OpenSSL's EVP for libsrtp's plug-in
// interface (srtp_replace_cipher_type / srtp_replace_auth_type).
//
// Why: Debian builds libsrtp2 against NSS, whose per-packet context lookups, locks and
// allocations cost about 4 µs for an unprotect+protect of one voice packet and a large NSS
// context per session. These keep one EVP context per session and only reset its IV (cipher) or
// its key schedule (HMAC) per packet. libsrtp checks a replacement against its own known-answer
// tests before it accepts it, so a wrong implementation is refused, not used.
#include "outpost_srtp.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <srtp2/auth.h>
#include <srtp2/cipher.h>
#include <stdlib.h>
#include <string.h>

extern const srtp_cipher_test_case_t srtp_aes_icm_128_test_case_0;
extern const srtp_auth_test_case_t srtp_hmac_test_case_0;

enum { aes_128_key_length = 16, salt_length = 14, sha1_length = 20 };

// MARK: AES-128 in counter mode (RFC 3711 §4.1.1)

typedef struct {
    EVP_CIPHER_CTX *context;
    uint8_t offset[16];  // the session salt, its last two octets zero
} outpost_aes_icm;

static const srtp_cipher_type_t outpost_aes_icm_128_type;

static srtp_err_status_t outpost_aes_icm_alloc(srtp_cipher_t **cipher, int key_length, int tag_length) {
    (void)tag_length;
    if (key_length != aes_128_key_length + salt_length) return srtp_err_status_bad_param;
    srtp_cipher_t *made = calloc(1, sizeof(srtp_cipher_t));
    outpost_aes_icm *state = calloc(1, sizeof(outpost_aes_icm));
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    if (made == NULL || state == NULL || context == NULL) {
        free(made);
        free(state);
        EVP_CIPHER_CTX_free(context);
        return srtp_err_status_alloc_fail;
    }
    state->context = context;
    made->state = state;
    made->type = &outpost_aes_icm_128_type;
    made->algorithm = SRTP_AES_ICM_128;
    made->key_len = key_length;
    *cipher = made;
    return srtp_err_status_ok;
}

static srtp_err_status_t outpost_aes_icm_dealloc(srtp_cipher_t *cipher) {
    if (cipher == NULL) return srtp_err_status_bad_param;
    outpost_aes_icm *state = cipher->state;
    if (state != NULL) {
        EVP_CIPHER_CTX_free(state->context);
        OPENSSL_cleanse(state, sizeof(*state));
        free(state);
    }
    free(cipher);
    return srtp_err_status_ok;
}

static srtp_err_status_t outpost_aes_icm_init(void *opaque, const uint8_t *key) {
    outpost_aes_icm *state = opaque;
    memset(state->offset, 0, sizeof(state->offset));
    memcpy(state->offset, key + aes_128_key_length, salt_length);
    EVP_CIPHER_CTX_reset(state->context);
    if (!EVP_EncryptInit_ex(state->context, EVP_aes_128_ctr(), NULL, key, NULL)) return srtp_err_status_init_fail;
    return srtp_err_status_ok;
}

static srtp_err_status_t outpost_aes_icm_set_iv(void *opaque, uint8_t *iv, srtp_cipher_direction_t direction) {
    (void)direction;
    outpost_aes_icm *state = opaque;
    uint8_t counter[16];
    for (int index = 0; index < 16; index++) counter[index] = iv[index] ^ state->offset[index];
    if (!EVP_EncryptInit_ex(state->context, NULL, NULL, NULL, counter)) return srtp_err_status_cipher_fail;
    return srtp_err_status_ok;
}

static srtp_err_status_t outpost_aes_icm_encrypt(void *opaque, uint8_t *buffer, unsigned int *length) {
    outpost_aes_icm *state = opaque;
    int written = 0;
    if (!EVP_EncryptUpdate(state->context, buffer, &written, buffer, (int)*length)) return srtp_err_status_cipher_fail;
    *length = (unsigned int)written;
    return srtp_err_status_ok;
}

static const srtp_cipher_type_t outpost_aes_icm_128_type = {
    outpost_aes_icm_alloc,
    outpost_aes_icm_dealloc,
    outpost_aes_icm_init,
    NULL,
    outpost_aes_icm_encrypt,
    outpost_aes_icm_encrypt,
    outpost_aes_icm_set_iv,
    NULL,
    "AES-128 counter mode over OpenSSL EVP (Outpost)",
    &srtp_aes_icm_128_test_case_0,
    SRTP_AES_ICM_128,
};

// MARK: HMAC-SHA1 (RFC 3711 §4.2.1)

typedef struct {
    EVP_MAC *mac;
    EVP_MAC_CTX *context;
} outpost_hmac;

static const srtp_auth_type_t outpost_hmac_sha1_type;

static srtp_err_status_t outpost_hmac_alloc(srtp_auth_t **auth, int key_length, int tag_length) {
    if (tag_length > sha1_length || key_length < 0) return srtp_err_status_bad_param;
    srtp_auth_t *made = calloc(1, sizeof(srtp_auth_t));
    outpost_hmac *state = calloc(1, sizeof(outpost_hmac));
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *context = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    if (made == NULL || state == NULL || context == NULL) {
        free(made);
        free(state);
        EVP_MAC_CTX_free(context);
        EVP_MAC_free(mac);
        return srtp_err_status_alloc_fail;
    }
    state->mac = mac;
    state->context = context;
    made->state = state;
    made->type = &outpost_hmac_sha1_type;
    made->out_len = tag_length;
    made->key_len = key_length;
    made->prefix_len = 0;
    *auth = made;
    return srtp_err_status_ok;
}

static srtp_err_status_t outpost_hmac_dealloc(srtp_auth_t *auth) {
    outpost_hmac *state = auth->state;
    if (state != NULL) {
        EVP_MAC_CTX_free(state->context);
        EVP_MAC_free(state->mac);
        free(state);
    }
    OPENSSL_cleanse(auth, sizeof(*auth));
    free(auth);
    return srtp_err_status_ok;
}

static srtp_err_status_t outpost_hmac_init(void *opaque, const uint8_t *key, int key_length) {
    outpost_hmac *state = opaque;
    OSSL_PARAM parameters[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA1", 0),
        OSSL_PARAM_construct_end(),
    };
    if (!EVP_MAC_init(state->context, key, (size_t)key_length, parameters)) return srtp_err_status_auth_fail;
    return srtp_err_status_ok;
}

static srtp_err_status_t outpost_hmac_start(void *opaque) {
    outpost_hmac *state = opaque;
    // A NULL key restarts the MAC with the key schedule it already has (OpenSSL ≥ 3.0.3).
    if (!EVP_MAC_init(state->context, NULL, 0, NULL)) return srtp_err_status_auth_fail;
    return srtp_err_status_ok;
}

static srtp_err_status_t outpost_hmac_update(void *opaque, const uint8_t *message, int length) {
    outpost_hmac *state = opaque;
    if (!EVP_MAC_update(state->context, message, (size_t)length)) return srtp_err_status_auth_fail;
    return srtp_err_status_ok;
}

static srtp_err_status_t outpost_hmac_compute(void *opaque, const uint8_t *message, int length, int tag_length, uint8_t *result) {
    outpost_hmac *state = opaque;
    uint8_t digest[sha1_length];
    size_t written = 0;
    if (tag_length > sha1_length) return srtp_err_status_bad_param;
    if (!EVP_MAC_update(state->context, message, (size_t)length)) return srtp_err_status_auth_fail;
    if (!EVP_MAC_final(state->context, digest, &written, sizeof(digest)) || written != sha1_length) return srtp_err_status_auth_fail;
    memcpy(result, digest, (size_t)tag_length);
    return srtp_err_status_ok;
}

static const srtp_auth_type_t outpost_hmac_sha1_type = {
    outpost_hmac_alloc,
    outpost_hmac_dealloc,
    outpost_hmac_init,
    outpost_hmac_compute,
    outpost_hmac_update,
    outpost_hmac_start,
    "HMAC-SHA1 over OpenSSL EVP_MAC (Outpost)",
    &srtp_hmac_test_case_0,
    SRTP_HMAC_SHA1,
};

int outpost_srtp_use_openssl_primitives(void) {
    srtp_err_status_t status = srtp_replace_cipher_type(&outpost_aes_icm_128_type, SRTP_AES_ICM_128);
    if (status != srtp_err_status_ok) return (int)status;
    return (int)srtp_replace_auth_type(&outpost_hmac_sha1_type, SRTP_HMAC_SHA1);
}
