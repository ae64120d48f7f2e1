#include "outpost_srtp.h"

int outpost_srtp_aes_icm_128_key_salt_length(void) { return SRTP_AES_ICM_128_KEY_LEN_WSALT; }
int outpost_srtp_aes_gcm_128_key_salt_length(void) { return SRTP_AES_GCM_128_KEY_LEN_WSALT; }
int outpost_srtp_aes_gcm_256_key_salt_length(void) { return SRTP_AES_GCM_256_KEY_LEN_WSALT; }
