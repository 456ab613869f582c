#ifndef X2S3_CFASTCGI_SHIM_H
#define X2S3_CFASTCGI_SHIM_H
// fcgiapp.h only: fcgi_stdio.h redefines stdio with macros, which Swift cannot use.
#include <fcgiapp.h>
#endif
