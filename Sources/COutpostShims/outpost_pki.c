#include "outpost_pki.h"
#include <string.h>

GENERAL_NAMES *outpost_pki_GENERAL_NAMES_new(void) { return sk_GENERAL_NAME_new_null(); }
int outpost_pki_GENERAL_NAMES_push(GENERAL_NAMES *names, GENERAL_NAME *name) {
    return sk_GENERAL_NAME_push(names, name) > 0;
}
int outpost_pki_GENERAL_NAMES_count(const GENERAL_NAMES *names) { return sk_GENERAL_NAME_num(names); }
const GENERAL_NAME *outpost_pki_GENERAL_NAMES_value(const GENERAL_NAMES *names, int index) {
    return sk_GENERAL_NAME_value(names, index);
}
void outpost_pki_GENERAL_NAMES_free(GENERAL_NAMES *names) { GENERAL_NAMES_free(names); }
GENERAL_NAMES *outpost_pki_X509_subject_alt_names(const X509 *certificate) {
    return X509_get_ext_d2i(certificate, NID_subject_alt_name, NULL, NULL);
}

GENERAL_NAME *outpost_pki_general_name_new_ia5(int type, const char *text, int length) {
    if (type != GEN_DNS && type != GEN_URI && type != GEN_EMAIL) return NULL;
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
    if (ia5 == NULL) return NULL;
    if (!ASN1_STRING_set(ia5, text, length)) { ASN1_IA5STRING_free(ia5); return NULL; }
    GENERAL_NAME *name = GENERAL_NAME_new();
    if (name == NULL) { ASN1_IA5STRING_free(ia5); return NULL; }
    GENERAL_NAME_set0_value(name, type, ia5);
    return name;
}

GENERAL_NAME *outpost_pki_general_name_new_ip(const char *text) {
    ASN1_OCTET_STRING *octets = a2i_IPADDRESS(text);
    if (octets == NULL) return NULL;
    GENERAL_NAME *name = GENERAL_NAME_new();
    if (name == NULL) { ASN1_OCTET_STRING_free(octets); return NULL; }
    GENERAL_NAME_set0_value(name, GEN_IPADD, octets);
    return name;
}

int outpost_pki_general_name_type(const GENERAL_NAME *name) { return name->type; }

const unsigned char *outpost_pki_general_name_bytes(const GENERAL_NAME *name, int *length) {
    const ASN1_STRING *text = NULL;
    switch (name->type) {
    case GEN_URI: text = name->d.uniformResourceIdentifier; break;
    case GEN_DNS: text = name->d.dNSName; break;
    case GEN_EMAIL: text = name->d.rfc822Name; break;
    case GEN_IPADD: text = name->d.iPAddress; break;
    default: *length = 0; return NULL;
    }
    *length = ASN1_STRING_length(text);
    return ASN1_STRING_get0_data(text);
}

EXTENDED_KEY_USAGE *outpost_pki_X509_extended_key_usage(const X509 *certificate) {
    return X509_get_ext_d2i(certificate, NID_ext_key_usage, NULL, NULL);
}
int outpost_pki_EKU_count(const EXTENDED_KEY_USAGE *usage) { return sk_ASN1_OBJECT_num(usage); }
const ASN1_OBJECT *outpost_pki_EKU_value(const EXTENDED_KEY_USAGE *usage, int index) {
    return sk_ASN1_OBJECT_value(usage, index);
}
void outpost_pki_EKU_free(EXTENDED_KEY_USAGE *usage) { EXTENDED_KEY_USAGE_free(usage); }

int outpost_pki_revoked_count(const X509_CRL *crl) {
    STACK_OF(X509_REVOKED) *entries = X509_CRL_get_REVOKED((X509_CRL *)crl);
    return entries == NULL ? 0 : sk_X509_REVOKED_num(entries);
}
X509_REVOKED *outpost_pki_revoked_value(const X509_CRL *crl, int index) {
    STACK_OF(X509_REVOKED) *entries = X509_CRL_get_REVOKED((X509_CRL *)crl);
    return entries == NULL ? NULL : sk_X509_REVOKED_value(entries, index);
}
int outpost_pki_revoked_reason(const X509_REVOKED *entry) {
    int critical = 0;
    ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, &critical, NULL);
    if (reason == NULL) return -1;
    long value = ASN1_ENUMERATED_get(reason);
    ASN1_ENUMERATED_free(reason);
    return value < 0 || value > 10 ? -1 : (int)value;
}
long outpost_pki_crl_number(const X509_CRL *crl) {
    ASN1_INTEGER *number = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
    if (number == NULL) return -1;
    long value = ASN1_INTEGER_get(number);
    ASN1_INTEGER_free(number);
    return value;
}

X509_EXTENSION *outpost_pki_extension(X509 *issuer, X509 *subject, X509_REQ *request, X509_CRL *crl,
                                      int nid, const char *value) {
    X509V3_CTX context;
    memset(&context, 0, sizeof context);
    X509V3_set_ctx(&context, issuer, subject, request, crl, 0);
    X509V3_set_ctx_nodb(&context);
    return X509V3_EXT_conf_nid(NULL, &context, nid, value);
}

unsigned long outpost_pki_name_flags_rfc2253(void) { return XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB; }

STACK_OF(X509_EXTENSION) *outpost_pki_extension_stack_new(void) { return sk_X509_EXTENSION_new_null(); }
int outpost_pki_extension_stack_push(STACK_OF(X509_EXTENSION) *stack, X509_EXTENSION *extension) {
    return sk_X509_EXTENSION_push(stack, extension) > 0;
}
void outpost_pki_extension_stack_free(STACK_OF(X509_EXTENSION) *stack) {
    sk_X509_EXTENSION_pop_free(stack, X509_EXTENSION_free);
}
GENERAL_NAMES *outpost_pki_X509_REQ_subject_alt_names(const X509_REQ *request) {
    STACK_OF(X509_EXTENSION) *extensions = X509_REQ_get_extensions((X509_REQ *)request);
    if (extensions == NULL) return NULL;
    GENERAL_NAMES *names = X509V3_get_d2i(extensions, NID_subject_alt_name, NULL, NULL);
    sk_X509_EXTENSION_pop_free(extensions, X509_EXTENSION_free);
    return names;
}
