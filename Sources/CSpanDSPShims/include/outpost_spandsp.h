#pragma once
#include <spandsp.h>

// spandsp's G.711 companders are static inline in its headers; give them linkable names.
uint8_t outpost_linear_to_ulaw(int16_t sample);
int16_t outpost_ulaw_to_linear(uint8_t code);
uint8_t outpost_linear_to_alaw(int16_t sample);
int16_t outpost_alaw_to_linear(uint8_t code);
