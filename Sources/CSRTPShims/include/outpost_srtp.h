#pragma once
#include <srtp2/srtp.h>

// libsrtp reports its key-length constants through macros that combine other macros.
int outpost_srtp_aes_icm_128_key_salt_length(void);
int outpost_srtp_aes_gcm_128_key_salt_length(void);
int outpost_srtp_aes_gcm_256_key_salt_length(void);
