/*
 * version.h: weft's version, for `weft --version`, the agent's Hello and
 * node record, and `weft status`.
 */
#ifndef WEFT_LIB_VERSION_H
#define WEFT_LIB_VERSION_H

#define WEFT_VERSION "0.1.0"

#endif
