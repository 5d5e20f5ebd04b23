/* labels.h — class-name tables compiled into the binary. */
#ifndef DT_LABELS_H
#define DT_LABELS_H

#define DT_COCO_CLASSES 80

/* The 80 COCO detection classes in the index order the models use
 * ("person" = 0, ..., "toothbrush" = 79). */
extern const char *const dt_coco_labels[DT_COCO_CLASSES];

/* A built-in table by name ("coco"); NULL if unknown. */
const char *const *dt_labels_builtin(const char *name, int *n);

#endif
