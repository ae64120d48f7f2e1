internal import CSpanDSP
internal import COutpostShims.SpanDSP
