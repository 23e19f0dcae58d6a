// Placeholder until scripts/embed-model.sh is run on the trained model: no bundled model.
#include "bundled_model.h"
const size_t stn_bundled_model_size = 0;
const unsigned char stn_bundled_model_bytes[1] = {0};
