/* Names of OpenCL error codes, so that every error kgrade reports carries
 * the symbolic name a user can search for, not just a number. */
#ifndef KG_CL_ERRORS_H
#define KG_CL_ERRORS_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

/* "CL_INVALID_WORK_GROUP_SIZE" for -54; "CL_UNKNOWN_ERROR" for a code no
 * OpenCL version or the ICD loader defines. Never NULL; static storage. */
const char *kg_cl_error_name(cl_int code);

#endif
