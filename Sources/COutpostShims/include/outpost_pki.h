#pragma once
// X.509 helpers for the PKI target: OpenSSL spells stacks (sk_*), the X509V3_CTX set-up and a few
// name-printing flags as macros, which Swift does not import. Prefixed outpost_pki_ so they never
// collide with the TLS target's shims.
#include <openssl/asn1.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

// Subject alternative names (GENERAL_NAMES is STACK_OF(GENERAL_NAME)).
GENERAL_NAMES *outpost_pki_GENERAL_NAMES_new(void);
// Appends `name`; on success the stack owns it. Returns 0 on failure (the caller still owns it).
int outpost_pki_GENERAL_NAMES_push(GENERAL_NAMES *names, GENERAL_NAME *name);
int outpost_pki_GENERAL_NAMES_count(const GENERAL_NAMES *names);
const GENERAL_NAME *outpost_pki_GENERAL_NAMES_value(const GENERAL_NAMES *names, int index);
void outpost_pki_GENERAL_NAMES_free(GENERAL_NAMES *names);
// The certificate's or request's subjectAltName extension, decoded; NULL when absent.
GENERAL_NAMES *outpost_pki_X509_subject_alt_names(const X509 *certificate);
// A dNSName, uniformResourceIdentifier or rfc822Name (IA5 text); NULL on failure.
GENERAL_NAME *outpost_pki_general_name_new_ia5(int type, const char *text, int length);
// An iPAddress from its text form (IPv4 dotted quad or IPv6); NULL when the text is no address.
GENERAL_NAME *outpost_pki_general_name_new_ip(const char *text);
// The type (GEN_DNS, GEN_URI, GEN_EMAIL, GEN_IPADD, …) and, for those four, the raw bytes
// (IA5 text or 4/16 address octets). NULL data for other types.
int outpost_pki_general_name_type(const GENERAL_NAME *name);
const unsigned char *outpost_pki_general_name_bytes(const GENERAL_NAME *name, int *length);

// Extended key usage (STACK_OF(ASN1_OBJECT)); NULL when the extension is absent.
EXTENDED_KEY_USAGE *outpost_pki_X509_extended_key_usage(const X509 *certificate);
int outpost_pki_EKU_count(const EXTENDED_KEY_USAGE *usage);
const ASN1_OBJECT *outpost_pki_EKU_value(const EXTENDED_KEY_USAGE *usage, int index);
void outpost_pki_EKU_free(EXTENDED_KEY_USAGE *usage);

// Revoked entries of a CRL (STACK_OF(X509_REVOKED), owned by the CRL).
int outpost_pki_revoked_count(const X509_CRL *crl);
X509_REVOKED *outpost_pki_revoked_value(const X509_CRL *crl, int index);
// The entry's reasonCode (CRL_REASON_*), or -1 when it carries none.
int outpost_pki_revoked_reason(const X509_REVOKED *entry);
// The CRL's cRLNumber as a long, or -1 when absent or too large.
long outpost_pki_crl_number(const X509_CRL *crl);

// One extension from OpenSSL's configuration syntax ("critical,CA:TRUE,pathlen:0", "hash",
// "keyid:always"), built in a context without a configuration database.
X509_EXTENSION *outpost_pki_extension(X509 *issuer, X509 *subject, X509_REQ *request, X509_CRL *crl,
                                      int nid, const char *value);

// Flags for X509_NAME_print_ex: RFC 2253 (most specific first, "CN=…,O=…"), UTF-8 kept.
unsigned long outpost_pki_name_flags_rfc2253(void);

// X509_REQ extensions (STACK_OF(X509_EXTENSION)).
STACK_OF(X509_EXTENSION) *outpost_pki_extension_stack_new(void);
// Appends `extension`; on success the stack owns it.
int outpost_pki_extension_stack_push(STACK_OF(X509_EXTENSION) *stack, X509_EXTENSION *extension);
void outpost_pki_extension_stack_free(STACK_OF(X509_EXTENSION) *stack);
// The request's subjectAltName extension, decoded; NULL when absent.
GENERAL_NAMES *outpost_pki_X509_REQ_subject_alt_names(const X509_REQ *request);
