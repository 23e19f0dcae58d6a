#include "bundled_model.h"

// The path is relative to this file; clang records the embedded file as a dependency, so
// SwiftPM rebuilds this target when the model changes.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wc23-extensions"
#if __has_embed("../../samples/model/attention-fashion.safetensors")
static const unsigned char bytes[] = {
#embed "../../samples/model/attention-fashion.safetensors"
};
const unsigned char *stn_bundled_model_bytes(void) { return bytes; }
size_t stn_bundled_model_size(void) { return sizeof bytes; }
#else
const unsigned char *stn_bundled_model_bytes(void) { return NULL; }
size_t stn_bundled_model_size(void) { return 0; }
#endif
#pragma clang diagnostic pop
