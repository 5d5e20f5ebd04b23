/* op_list.h — every operator the engine knows, as an X-macro.
 *
 * Names and semantics are ONNX's (latest opset), so the ONNX loader maps
 * names 1:1 and the TF.js loader translates TF ops into these.  The few
 * extensions (marked) cover TF semantics ONNX lacks.  Spatial ops
 * (Conv, ConvTranspose, pools, BatchNormalization) take a string attribute
 * "layout" = "NCHW" (default) or "NHWC"; weights are always OIHW
 * ([Cout, Cin/group, kH, kW]; ConvTranspose: [Cin, Cout/group, kH, kW]).
 */
#ifndef DT_OP_LIST_H
#define DT_OP_LIST_H

#define DT_OP_LIST(X)                                                          \
    /* neural network (ops/nn.c) */                                            \
    X(Conv) X(ConvTranspose) X(BatchNormalization) X(InstanceNormalization)    \
    X(MaxPool) X(AveragePool) X(GlobalAveragePool) X(GlobalMaxPool)           \
    X(Resize) X(Upsample) X(Pad) X(MatMul) X(Gemm) X(Softmax) X(LogSoftmax)    \
    X(ReduceMean) X(ReduceMax) X(ReduceMin) X(ReduceSum) X(ReduceProd)         \
    X(ArgMax) X(ArgMin) X(TopK) X(LRN)                                         \
    /* elementwise (ops/eltwise.c) */                                          \
    X(Relu) X(LeakyRelu) X(PRelu) X(Sigmoid) X(HardSigmoid) X(HardSwish)       \
    X(Tanh) X(Clip) X(Sqrt) X(Exp) X(Log) X(Abs) X(Neg) X(Reciprocal)          \
    X(Floor) X(Ceil) X(Round) X(Erf) X(Softplus) X(Elu) X(Selu) X(Mish)        \
    X(Sign) X(Not) X(Identity) X(Dropout) X(Cast)                              \
    X(Add) X(Sub) X(Mul) X(Div) X(Pow) X(Min) X(Max) X(Sum) X(Mean) X(Mod)     \
    X(Equal) X(Greater) X(Less) X(GreaterOrEqual) X(LessOrEqual) X(And) X(Or)  \
    X(Xor) X(Where)                                                            \
    X(FloorDiv) /* extension: TF FloorDiv (floor of the quotient) */           \
    /* tensor manipulation (ops/tensor.c) */                                   \
    X(Concat) X(Split) X(Slice) X(Reshape) X(Transpose) X(Flatten) X(Squeeze)  \
    X(Unsqueeze) X(Gather) X(GatherElements) X(Shape) X(Size)                  \
    X(ConstantOfShape) X(Expand) X(Range) X(Tile) X(ScatterND)                 \
    X(NonZero) X(DepthToSpace) X(SpaceToDepth)                                 \
    X(SparseToDense) /* extension: TF SparseToDense */

typedef enum dt_op {
    DT_OP_UNKNOWN = 0,
#define DT_OP_ENUM_(name) DT_OP_##name,
    DT_OP_LIST(DT_OP_ENUM_)
#undef DT_OP_ENUM_
    DT_OP_COUNT_
} dt_op;

#endif
