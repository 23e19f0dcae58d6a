#include "bundled_model.h"

const unsigned char *stn_bundled_model_bytes_pointer(void) { return stn_bundled_model_bytes; }
