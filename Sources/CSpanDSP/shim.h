#pragma once
#include <spandsp.h>
