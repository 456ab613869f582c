#ifndef X2S3_CYAML_SHIM_H
#define X2S3_CYAML_SHIM_H
#include <yaml.h>
#endif
