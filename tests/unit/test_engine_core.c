/* Engine core: graph IR, clone/compact/toposort, memory planner, npy I/O,
 * thread pool, allocation-failure sweep over graph building. */
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/npy.h"
#include "engine/cpu/pool.h"
#include "engine/graph.h"
#include "engine/passes/passes.h"
#include "testlib.h"

static void test_graph_build_and_attrs(void)
{
    dt_status st;
    dt_graph *g = dt_graph_create();
    int64_t d[4] = {1, 3, 8, 8};
    int x = dt_graph_add_value(g, "x", DT_F32, 4, d, &st);
    int y = dt_graph_add_value(g, "y", DT_F32, 4, d, &st);
    CHECK(x == 0 && y == 1);
    CHECK(dt_graph_add_value(g, "x", DT_F32, 4, d, &st) < 0); /* duplicate name */
    CHECK(st.code == DT_ECORRUPT);
    int in[1] = {x}, out[1] = {y};
    int n = dt_graph_add_node(g, DT_OP_Relu, "relu", 1, in, 1, out, &st);
    CHECK(n == 0);
    CHECK(dt_node_set_int(g, n, "axis", -2, &st) == DT_OK);
    int64_t ints[3] = {1, 2, 3};
    CHECK(dt_node_set_ints(g, n, "perm", ints, 3, &st) == DT_OK);
    CHECK(dt_node_set_string(g, n, "mode", "linear", &st) == DT_OK);
    CHECK(dt_node_set_int(g, n, "axis", 5, &st) == DT_OK); /* replace */
    CHECK(dt_attr_int(&g->nodes[n], "axis", 0) == 5);
    int cnt;
    const int64_t *p = dt_attr_ints(&g->nodes[n], "perm", &cnt);
    CHECK(p && cnt == 3 && p[2] == 3);
    CHECK(!strcmp(dt_attr_str(&g->nodes[n], "mode", ""), "linear"));
    CHECK(dt_attr_float(&g->nodes[n], "missing", 1.5f) == 1.5f);
    CHECK(dt_graph_find(g, "y") == y);
    CHECK(dt_graph_find(g, "nope") == -1);
    CHECK(g->values[y].producer == n);
    CHECK(dt_op_from_name("Conv") == DT_OP_Conv);
    CHECK(dt_op_from_name("NoSuchOp") == DT_OP_UNKNOWN);
    CHECK(!strcmp(dt_op_name(DT_OP_SparseToDense), "SparseToDense"));
    /* many values: the name index grows */
    for (int i = 0; i < 5000; i++) {
        char name[32];
        snprintf(name, sizeof name, "v%d", i);
        CHECK(dt_graph_add_value(g, name, DT_F32, 1, d, &st) >= 0);
    }
    CHECK(dt_graph_find(g, "v4321") == 2 + 4321);
    dt_graph_free(g);
}

static void test_clone_shares_constants(void)
{
    dt_status st;
    dt_graph *g = dt_graph_create();
    float w[4] = {1, 2, 3, 4};
    int64_t d[1] = {4};
    int c = dt_graph_add_const(g, "w", DT_F32, 1, d, w, &st);
    CHECK(c >= 0);
    dt_graph *k = NULL;
    CHECK(dt_graph_clone(g, &k, &st) == DT_OK);
    CHECK(k->values[c].buf == g->values[c].buf);
    CHECK(g->values[c].buf->refs == 2);
    dt_graph_free(g);
    CHECK(((float *)k->values[c].buf->data)[3] == 4.f);
    dt_graph_free(k);
}

static void test_toposort_and_compact(void)
{
    dt_status st;
    dt_graph *g = dt_graph_create();
    int64_t d[1] = {4};
    int a = dt_graph_add_value(g, "a", DT_F32, 1, d, &st);
    int b = dt_graph_add_value(g, "b", DT_F32, 1, d, &st);
    int c = dt_graph_add_value(g, "c", DT_F32, 1, d, &st);
    int unused = dt_graph_add_value(g, "u", DT_F32, 1, d, &st);
    dt_graph_mark_input(g, a, &st);
    dt_graph_mark_output(g, c, &st);
    /* added out of order: c = relu(b), b = relu(a) */
    int i1[1] = {b}, o1[1] = {c};
    int i2[1] = {a}, o2[1] = {b};
    dt_graph_add_node(g, DT_OP_Relu, "second", 1, i1, 1, o1, &st);
    dt_graph_add_node(g, DT_OP_Relu, "first", 1, i2, 1, o2, &st);
    CHECK(dt_graph_toposort(g, &st) == DT_OK);
    CHECK(!strcmp(g->nodes[0].name, "first"));
    CHECK(g->values[c].producer == 1);
    (void)unused;
    CHECK(dt_graph_compact(g, &st) == DT_OK);
    CHECK(g->n_values == 3);
    CHECK(dt_graph_find(g, "u") == -1);
    CHECK(g->values[g->outputs[0]].producer == 1);
    /* a cycle is an error, not a hang */
    int i3[1] = {c}, o3[1] = {b};
    g->nodes[0].in[0] = c; /* b = relu(c), c = relu(b) */
    (void)i3;
    (void)o3;
    CHECK(dt_graph_toposort(g, &st) == DT_ECORRUPT);
    dt_graph_free(g);
}

/* Random chains and diamonds of same-size tensors: any two values whose
 * lifetimes intersect must not share bytes. */
static void test_planner_no_overlap(void)
{
    unsigned seed = 12345;
    for (int trial = 0; trial < 50; trial++) {
        dt_status st;
        dt_graph *g = dt_graph_create();
        int nv = 0;
        int64_t d[2] = {1, 1};
        int ids[200];
        d[1] = 1 + (int64_t)tl_randf(&seed, 1, 300);
        ids[nv] = dt_graph_add_value(g, "in", DT_F32, 2, d, &st);
        dt_graph_mark_input(g, ids[nv++], &st);
        int nn = 5 + (int)tl_randf(&seed, 0, 60);
        for (int i = 0; i < nn; i++) {
            char name[16];
            snprintf(name, sizeof name, "t%d", i);
            int a = ids[(int)tl_randf(&seed, 0, (float)nv)];
            int b = ids[(int)tl_randf(&seed, 0, (float)nv)];
            int op = (int)tl_randf(&seed, 0, 3);
            /* a view keeps its input's size; other ops pick any size */
            d[1] = op == 0 ? g->values[a].dims[1] : 1 + (int64_t)tl_randf(&seed, 1, 300);
            int y = dt_graph_add_value(g, name, DT_F32, 2, d, &st);
            int in[2] = {a, b}, out[1] = {y};
            dt_graph_add_node(g, op == 0 ? DT_OP_Reshape : DT_OP_Add, NULL, op == 0 ? 1 : 2, in, 1, out, &st);
            ids[nv++] = y;
        }
        dt_graph_mark_output(g, ids[nv - 1], &st);
        dt_graph_mark_output(g, ids[nv / 2], &st);
        size_t arena, soff, sbytes;
        CHECK(dt_pass_plan(g, &arena, &soff, &sbytes, &st) == DT_OK);
        /* lifetimes recomputed independently */
        int first[200], last[200];
        for (int v = 0; v < g->n_values; v++) {
            first[v] = g->values[v].is_input ? -1 : 1 << 30;
            last[v] = -1;
        }
        for (int i = 0; i < g->n_nodes; i++) {
            for (int k = 0; k < g->nodes[i].n_in; k++)
                last[g->nodes[i].in[k]] = i;
            first[g->nodes[i].out[0]] = i;
            if (last[g->nodes[i].out[0]] < i)
                last[g->nodes[i].out[0]] = i;
        }
        for (int k = 0; k < g->n_outputs; k++)
            last[g->outputs[k]] = g->n_nodes;
        /* aliases extend their root; merge by offset equality below */
        for (int v = 0; v < g->n_values; v++) {
            dt_value *x = &g->values[v];
            CHECK(x->offset >= 0 && x->offset % 64 == 0);
            CHECK((size_t)x->offset + dt_tensor_nbytes(&(dt_tensor){.dtype = x->dtype, .ndim = 2,
                                                                     .dims = {x->dims[0], x->dims[1]}}) <=
                  arena);
        }
        for (int v = 0; v < g->n_values; v++)
            for (int w = v + 1; w < g->n_values; w++) {
                dt_value *x = &g->values[v], *y = &g->values[w];
                if (x->alias >= 0 || y->alias >= 0)
                    continue; /* views share on purpose */
                /* union lifetime over each root's aliases */
                int fx = first[v], lx = last[v], fy = first[w], ly = last[w];
                for (int u = 0; u < g->n_values; u++) {
                    if (g->values[u].alias == v) {
                        if (first[u] < fx) fx = first[u];
                        if (last[u] > lx) lx = last[u];
                    }
                    if (g->values[u].alias == w) {
                        if (first[u] < fy) fy = first[u];
                        if (last[u] > ly) ly = last[u];
                    }
                }
                if (lx < fy || ly < fx)
                    continue;
                size_t sx = (size_t)x->dims[1] * 4, sy = (size_t)y->dims[1] * 4;
                int overlap = (size_t)x->offset < (size_t)y->offset + sy && (size_t)y->offset < (size_t)x->offset + sx;
                CHECKF(!overlap, "trial %d: %s and %s overlap", trial, x->name, y->name);
            }
        dt_graph_free(g);
    }
}

static void test_npy_roundtrip(void)
{
    dt_status st;
    char path[] = "/tmp/dt_npy_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    float data[6] = {1, -2, 3.5f, 4, 5, 6};
    dt_tensor t = {.dtype = DT_F32, .ndim = 2, .dims = {2, 3}, .data = data};
    CHECK(dt_npy_write(path, &t, &st) == DT_OK);
    dt_tensor r;
    CHECK(dt_npy_read(path, &r, &st) == DT_OK);
    CHECK(r.dtype == DT_F32 && r.ndim == 2 && r.dims[0] == 2 && r.dims[1] == 3);
    CHECK(r.data && memcmp(r.data, data, sizeof data) == 0);
    dt_free(r.data);
    int64_t iv[1] = {7};
    dt_tensor ti = {.dtype = DT_I64, .ndim = 1, .dims = {1}, .data = iv};
    CHECK(dt_npy_write(path, &ti, &st) == DT_OK);
    CHECK(dt_npy_read(path, &r, &st) == DT_OK);
    CHECK(r.dtype == DT_I64 && r.ndim == 1 && ((int64_t *)r.data)[0] == 7);
    dt_free(r.data);
    /* every truncation of a valid file is an error, never a crash */
    void *bytes;
    size_t len;
    CHECK(dt_file_read(path, 1 << 20, &bytes, &len, &st) == DT_OK);
    for (size_t cut = 0; cut < len; cut++) {
        dt_tensor x;
        CHECK(dt_npy_parse(bytes, cut, &x, &st) != DT_OK);
    }
    dt_free(bytes);
    const char *bad = "\x93NUMPY\x01\x00\x30\x00{'descr': '<f4', 'shape': (99999999999, 99999999999), }";
    dt_tensor x;
    CHECK(dt_npy_parse(bad, strlen(bad) + 10, &x, &st) != DT_OK);
    unlink(path);
}

typedef struct sum_arg {
    atomic_llong total;
    int64_t *hits;
} sum_arg;

static void sum_fn(void *arg, int64_t b, int64_t e)
{
    sum_arg *a = arg;
    for (int64_t i = b; i < e; i++) {
        atomic_fetch_add(&a->total, i);
        a->hits[i]++;
    }
}

static void test_pool(void)
{
    dt_status st;
    for (int threads = 1; threads <= 4; threads++) {
        dt_pool *p = NULL;
        CHECK(dt_pool_create(threads, &p, &st) == DT_OK);
        CHECK(dt_pool_threads(p) == threads);
        for (int rep = 0; rep < 200; rep++) {
            int64_t n = 1 + rep * 37 % 1000;
            int64_t hits[1000] = {0};
            sum_arg a = {0, hits};
            dt_pool_for(p, n, 1 + rep % 7, sum_fn, &a);
            CHECK(atomic_load(&a.total) == n * (n - 1) / 2);
            for (int64_t i = 0; i < n; i++)
                CHECK(hits[i] == 1);
        }
        dt_pool_free(p);
    }
}

/* Every allocation failure while building a graph is reported, and nothing
 * leaks (LeakSanitizer / valgrind check the leak part). */
static void test_alloc_failure_sweep(void)
{
    for (long k = 0; k < 200; k++) {
        dt_status st;
        dt_alloc_fail_after(k);
        dt_graph *g = dt_graph_create();
        int ok = g != NULL;
        int64_t d[2] = {2, 2};
        float w[4] = {0};
        for (int i = 0; ok && i < 20; i++) {
            char name[16];
            snprintf(name, sizeof name, "c%d", i);
            ok = dt_graph_add_const(g, name, DT_F32, 2, d, w, &st) >= 0;
        }
        dt_graph *c = NULL;
        if (ok && g && dt_graph_clone(g, &c, &st) == DT_OK)
            dt_graph_free(c);
        dt_alloc_fail_reset();
        dt_graph_free(g);
    }
    CHECK(1);
}

int main(void)
{
    RUN(test_graph_build_and_attrs);
    RUN(test_clone_shares_constants);
    RUN(test_toposort_and_compact);
    RUN(test_planner_no_overlap);
    RUN(test_npy_roundtrip);
    RUN(test_pool);
    RUN(test_alloc_failure_sweep);
    return tl_summary();
}
