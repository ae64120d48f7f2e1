#include "outpost_spandsp.h"

uint8_t outpost_linear_to_ulaw(int16_t sample) { return linear_to_ulaw(sample); }
int16_t outpost_ulaw_to_linear(uint8_t code) { return ulaw_to_linear(code); }
uint8_t outpost_linear_to_alaw(int16_t sample) { return linear_to_alaw(sample); }
int16_t outpost_alaw_to_linear(uint8_t code) { return alaw_to_linear(code); }
