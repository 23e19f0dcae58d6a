#ifndef STN_BUNDLED_MODEL_H
#define STN_BUNDLED_MODEL_H
#include <stddef.h>
// The default model's safetensors bytes, compiled into stn-video so that an installed binary
// needs no files beside it. Embedded at build time from samples/model/attention-fashion.safetensors
// (C23 #embed): a new model file there is picked up by the next build.
const unsigned char *stn_bundled_model_bytes(void);
// 0 when the build found no model file.
size_t stn_bundled_model_size(void);
#endif
