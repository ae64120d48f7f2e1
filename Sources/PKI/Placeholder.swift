internal import COpenSSL
internal import COutpostShims.OpenSSL
