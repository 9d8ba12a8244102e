/*
 * Test shim for Debian's make-dynpart-mappings (LD_PRELOAD): stands in for the libdevmapper and libblkid calls
 * the tool makes after it has parsed the liblp metadata, and prints what it was asked to do, so a test can
 * compare the tool's device-mapper tables with Flashline's reading of the same metadata. No kernel
 * device-mapper is needed (containers rarely have it). Written for Flashline's tests; not derived from either
 * library.
 *
 *   DM name <partition>                  one logical partition is being created
 *   DM target <start> <size> <type> <params>
 *   DM run                               the table would be loaded now
 *   BLKID tag <token> <value>            a block device looked up by label (answered with $DMSHIM_DEVICE)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dm_task {
  int type;
};
static struct dm_task task;

struct dm_task *dm_task_create(int type) {
  task.type = type;
  return &task;
}
int dm_task_set_name(struct dm_task *t, const char *name) {
  (void)t;
  printf("DM name %s\n", name);
  return 1;
}
int dm_task_add_target(struct dm_task *t, uint64_t start, uint64_t size, const char *ttype, const char *params) {
  (void)t;
  printf("DM target %llu %llu %s %s\n", (unsigned long long)start, (unsigned long long)size, ttype,
         params ? params : "");
  return 1;
}
int dm_task_run(struct dm_task *t) {
  (void)t;
  printf("DM run\n");
  fflush(stdout);
  return 1;
}
void dm_task_destroy(struct dm_task *t) { (void)t; }

char *blkid_evaluate_tag(const char *token, const char *value, void **cache) {
  (void)cache;
  printf("BLKID tag %s %s\n", token, value ? value : "");
  const char *dev = getenv("DMSHIM_DEVICE");
  return dev ? strdup(dev) : NULL;
}
char *blkid_evaluate_spec(const char *spec, void **cache) {
  (void)cache;
  return spec ? strdup(spec) : NULL;
}
