internal import CSRTP
internal import COutpostShims.SRTP
