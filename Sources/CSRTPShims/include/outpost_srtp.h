#pragma once
#include <srtp2/srtp.h>

// libsrtp reports its key-length constants through macros that combine other macros.
int outpost_srtp_aes_icm_128_key_salt_length(void);
int outpost_srtp_aes_gcm_128_key_salt_length(void);
int outpost_srtp_aes_gcm_256_key_salt_length(void);

// Replaces libsrtp's AES-CM-128 cipher and HMAC-SHA1 auth types with OpenSSL EVP ones after
// srtp_init(); libsrtp runs its own known-answer tests on them first. Returns an
// srtp_err_status_t (0 when both replacements were accepted).
int outpost_srtp_use_openssl_primitives(void);
