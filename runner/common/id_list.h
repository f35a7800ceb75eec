/*
 * Lists of evaluation ids as people type them: "3", "3,5-7". `kgrade run
 * --only` reads them, `kgrade merge` and `kgrade slurm` write them (the
 * evaluations missing, the array tasks to resubmit).
 */
#ifndef KG_ID_LIST_H
#define KG_ID_LIST_H

#include <stddef.h>

/* Sets marks[id] = 1 for each id of `text`; ids run from 1 to `max`, and
 * `marks` has max + 1 entries (index 0 unused). Returns 0, or -1 when the
 * text is empty, not such a list, a range runs backwards or an id is out
 * of 1..max (marks may then be partly set). */
int kg_id_list_parse(const char *text, unsigned char *marks, size_t max);

/* Writes the ids 1..max whose marks[id] is set, as "1-3,5", into out
 * (size bytes, always terminated; a list too long ends in ",..."). Returns
 * how many ids are marked. */
size_t kg_id_list_format(const unsigned char *marks, size_t max, char *out, size_t size);

#endif
